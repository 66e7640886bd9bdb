package org.viewos.umnet;

import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;

import org.viewos.core.api.Errno;
import org.viewos.core.api.SocketFile;

/**
 * An AF_NETLINK (NETLINK_ROUTE) socket of an lwip stack: {@code ip addr}, {@code ip link},
 * {@code ip route} configure the stack through it.
 *
 * <p>lwip 1.5a answers a request synchronously inside send and keeps one answer, which its recv
 * drops when the buffer is too small (and it has no MSG_PEEK). So every answer is taken out of
 * lwip at once, right after the request, and kept here as a datagram: receive serves it with
 * Linux's MSG_PEEK/MSG_TRUNC semantics, readiness follows this queue. Socket options are answered
 * here too (lwip's netlink get/setsockopt swap their roles).
 */
final class NetlinkSocket extends SocketBase {
    private static final int ANSWER_MAX = 1 << 16;
    private static final int SOL_NETLINK = 270, ENOPROTOOPT = 92, EOPNOTSUPP = 95;

    private final ArrayDeque<byte[]> answers = new ArrayDeque<>();
    private final Map<Long, byte[]> options = new HashMap<>();

    NetlinkSocket(LwipStack stack, int fd) {
        super(stack, fd, LwipStack.AF_NETLINK, LwipSocket.SOCK_RAW);
    }

    @Override
    public void watch(Readiness r) {
        readiness = r;
        synchronized (answers) {
            r.readable(!answers.isEmpty() || dead);
        }
    }

    @Override
    public void bind(byte[] address) throws Errno {
        alive();
        if (address == null || address.length < 12 || address[0] != LwipStack.AF_NETLINK || address[1] != 0) {
            throw new Errno(Errno.EINVAL);
        }
        long p = lw.copyIn(address, 0);
        enter();
        try {
            if (lw.icall(lw.bind, fd, p, 12) < 0) {
                throw failure(lw.errno(), "bind");
            }
        } finally {
            leave();
            lw.na.free(p);
        }
    }

    @Override
    public void listen(int backlog) throws Errno {
        throw new Errno(EOPNOTSUPP);
    }

    @Override
    public void connect(byte[] address) throws Errno {
        alive(); // lwip's netlink_connect does nothing either: the kernel (here lwip) is the only peer
    }

    @Override
    public SocketFile accept(byte[][] peer) throws Errno {
        throw new Errno(EOPNOTSUPP);
    }

    @Override
    public int send(ByteBuffer data, int flags, byte[] address) throws Errno {
        alive();
        int n = data.remaining();
        byte[] all = new byte[n];
        data.get(all);
        // lwip's parser trusts the lengths: only well-formed requests reach it (Linux's rules)
        NetlinkCheck.Result checked = NetlinkCheck.check(all);
        byte[] req = checked.pass();
        synchronized (answers) {
            answers.addAll(checked.errors());
            if (req.length == 0) {
                readiness.readable(!answers.isEmpty());
                return n;
            }
        }
        long p = lw.copyIn(req, 16);
        long buf = lw.na.malloc(ANSWER_MAX);
        try {
            enter();
            try {
                if (lw.icall(lw.send, fd, p, req.length, 0) < 0) {
                    throw failure(lw.errno(), "send");
                }
                // take the answer now: lwip keeps only one, and drops it for a small buffer
                int len;
                while ((len = lw.icall(lw.recvfrom, fd, buf, ANSWER_MAX, 0, 0, 0)) > 0) {
                    byte[] a = withDoneError(lw.na.read(buf, len));
                    synchronized (answers) {
                        answers.add(a);
                    }
                }
            } finally {
                leave();
            }
        } finally {
            lw.na.free(p);
            lw.na.free(buf);
        }
        synchronized (answers) {
            readiness.readable(!answers.isEmpty());
        }
        return n;
    }

    private static final int NLMSG_DONE = 3, NLMSG_HDRLEN = 16;

    /**
     * Linux's NLMSG_DONE carries an int (the dump's error, 0), and iproute2 refuses a shorter one
     * ("DONE truncated"); lwip 1.5a sends the bare header: add the field.
     */
    static byte[] withDoneError(byte[] a) {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream(a.length + 4);
        ByteBuffer b = ByteBuffer.wrap(a).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        int off = 0;
        while (off + NLMSG_HDRLEN <= a.length) {
            int len = b.getInt(off);
            int type = b.getShort(off + 4) & 0xffff;
            if (len < NLMSG_HDRLEN || off + len > a.length) {
                break;
            }
            if (type == NLMSG_DONE && len == NLMSG_HDRLEN) {
                ByteBuffer d = ByteBuffer.allocate(NLMSG_HDRLEN + 4).order(java.nio.ByteOrder.LITTLE_ENDIAN);
                d.put(a, off, NLMSG_HDRLEN).putInt(0).putInt(0, NLMSG_HDRLEN + 4);
                out.write(d.array(), 0, d.capacity());
            } else {
                out.write(a, off, len);
            }
            off += (len + 3) & ~3;
        }
        if (off < a.length) {
            out.write(a, off, a.length - off);
        }
        return out.toByteArray();
    }

    @Override
    public int receive(ByteBuffer dst, int flags, byte[][] from) throws Errno {
        alive();
        byte[] a;
        synchronized (answers) {
            a = answers.peek();
            if (a == null) {
                readiness.readable(false);
                throw new Errno(Errno.EAGAIN);
            }
            if ((flags & MSG_PEEK) == 0) {
                answers.poll();
            }
            readiness.readable(!answers.isEmpty());
        }
        int n = Math.min(a.length, dst.remaining());
        dst.put(a, 0, n);
        if (from != null && from.length > 0) {
            from[0] = new byte[] {LwipStack.AF_NETLINK, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}; // from the kernel
        }
        return (flags & MSG_TRUNC) != 0 ? a.length : n;
    }

    @Override
    public byte[] localAddress() throws Errno {
        return trim(name(lw.getsockname, "getsockname"), 12);
    }

    @Override
    public byte[] peerAddress() throws Errno {
        alive();
        return new byte[] {LwipStack.AF_NETLINK, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    }

    @Override
    public void shutdown(int how) throws Errno {
        alive();
    }

    @Override
    public void setOption(int level, int name, byte[] value) throws Errno {
        alive();
        if (level != SOL_SOCKET && level != SOL_NETLINK) {
            throw new Errno(ENOPROTOOPT);
        }
        synchronized (options) {
            options.put(((long) level << 32) | name, value.clone());
        }
    }

    @Override
    public byte[] getOption(int level, int name, int maxLength) throws Errno {
        alive();
        if (level == SOL_SOCKET) {
            switch (name) {
                case SO_TYPE:
                    return trim(intBytes(type), maxLength);
                case SO_DOMAIN:
                    return trim(intBytes(domain), maxLength);
                case SO_PROTOCOL:
                case SO_ERROR:
                    return trim(intBytes(0), maxLength);
                default:
                    break;
            }
        }
        synchronized (options) {
            byte[] v = options.get(((long) level << 32) | name);
            if (v != null) {
                return trim(v, maxLength);
            }
        }
        if (level == SOL_SOCKET && (name == SO_SNDBUF || name == SO_RCVBUF)) {
            return trim(intBytes(ANSWER_MAX), maxLength);
        }
        throw new Errno(ENOPROTOOPT);
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        lockAll();
        try {
            if (!dead) {
                lw.icall(lw.close, fd);
            }
        } finally {
            unlockAll();
        }
        stack.forget(this);
    }

    @Override
    void kill() {
        if (!closed && tryLockAll()) {
            try {
                if (!dead) {
                    lw.icall(lw.close, fd);
                }
            } finally {
                dead = true;
                unlockAll();
            }
        }
        super.kill();
    }
}
