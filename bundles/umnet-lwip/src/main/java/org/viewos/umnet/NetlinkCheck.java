package org.viewos.umnet;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/**
 * What of a NETLINK_ROUTE request a traced program sends may reach lwip's C parser, which trusts
 * lengths: Linux's rules, applied here first. Parsing stops at the first header whose length is
 * below 16 or beyond the data (the kernel ignores the rest silently); messages without
 * NLM_F_REQUEST and control types are skipped; rtnetlink types lwip does not serve get
 * EOPNOTSUPP, and a message whose fixed part is short or whose attributes overrun it gets EINVAL,
 * both as the kernel's NLMSG_ERROR answer.
 */
final class NetlinkCheck {
    static final int NLMSG_HDRLEN = 16, NLMSG_ERROR = 2, NLM_F_REQUEST = 1;
    private static final int EINVAL = 22, EOPNOTSUPP = 95;

    /** The well-formed messages for lwip, and the error answers to queue for the rest. */
    record Result(byte[] pass, List<byte[]> errors) {
    }

    private NetlinkCheck() {
    }

    static Result check(byte[] req) {
        ByteBuffer b = ByteBuffer.wrap(req).order(ByteOrder.LITTLE_ENDIAN);
        ByteArrayOutputStream pass = new ByteArrayOutputStream(req.length);
        List<byte[]> errors = new ArrayList<>();
        int off = 0;
        while (off + NLMSG_HDRLEN <= req.length) {
            long len = b.getInt(off) & 0xffffffffL;
            if (len < NLMSG_HDRLEN || off + len > req.length) {
                break;
            }
            int type = b.getShort(off + 4) & 0xffff;
            int flags = b.getShort(off + 6) & 0xffff;
            int n = (int) len;
            if ((flags & NLM_F_REQUEST) != 0 && type >= 16) {
                int fixed = fixedSize(type);
                if (fixed < 0) {
                    errors.add(error(b, off, EOPNOTSUPP));
                } else if (n < NLMSG_HDRLEN + fixed || !attributesFit(b, off + NLMSG_HDRLEN + fixed, off + n)) {
                    errors.add(error(b, off, EINVAL));
                } else {
                    pass.write(req, off, n);
                    for (int pad = n; (pad & 3) != 0; pad++) {
                        pass.write(0);
                    }
                }
            }
            off += (n + 3) & ~3;
        }
        return new Result(pass.toByteArray(), errors);
    }

    /** The fixed part after the header of the rtnetlink types lwip 1.5a serves, else -1. */
    private static int fixedSize(int type) {
        return switch (type) {
            case 16, 17, 18, 19 -> 16; // RTM_NEW/DEL/GET/SETLINK: struct ifinfomsg
            case 20, 21, 22 -> 8;      // RTM_NEW/DEL/GETADDR: struct ifaddrmsg
            case 24, 25, 26 -> 12;     // RTM_NEW/DEL/GETROUTE: struct rtmsg
            default -> -1;
        };
    }

    /** Whether the rtattrs from {@code from} to {@code end} each have a length within the message. */
    private static boolean attributesFit(ByteBuffer b, int from, int end) {
        int off = from;
        while (off + 4 <= end) {
            int len = b.getShort(off) & 0xffff;
            if (len < 4 || off + len > end) {
                return false;
            }
            off += (len + 3) & ~3;
        }
        return true;
    }

    /** NLMSG_ERROR for the message at {@code off}: the error and the request's header, as Linux acks. */
    private static byte[] error(ByteBuffer req, int off, int errno) {
        ByteBuffer e = ByteBuffer.allocate(NLMSG_HDRLEN + 4 + NLMSG_HDRLEN).order(ByteOrder.LITTLE_ENDIAN);
        e.putInt(e.capacity()).putShort((short) NLMSG_ERROR).putShort((short) 0).putInt(req.getInt(off + 8)).putInt(0);
        e.putInt(-errno);
        for (int i = 0; i < NLMSG_HDRLEN; i++) {
            e.put(req.get(off + i));
        }
        return e.array();
    }
}
