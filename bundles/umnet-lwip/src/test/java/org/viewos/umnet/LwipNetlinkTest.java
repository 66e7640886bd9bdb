package org.viewos.umnet;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;
import static org.viewos.umnet.Harness.AF_INET;
import static org.viewos.umnet.Harness.AF_INET6;
import static org.viewos.umnet.Harness.AF_NETLINK;
import static org.viewos.umnet.Harness.SOCK_DGRAM;
import static org.viewos.umnet.Harness.SOCK_RAW;
import static org.viewos.umnet.Harness.SOCK_STREAM;
import static org.viewos.umnet.Harness.in4;
import static org.viewos.umnet.Harness.in6;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import org.junit.After;
import org.junit.AfterClass;
import org.junit.Before;
import org.junit.BeforeClass;
import org.junit.Test;
import org.viewos.core.api.Errno;
import org.viewos.core.api.FileSystem;
import org.viewos.core.api.NetworkStack;
import org.viewos.core.internal.ffi.NativeAccessImpl;
import org.viewos.umnet.Harness.Sock;
import org.viewos.umnet.Harness.Switch;

/** NETLINK_ROUTE on the stack: an RTM_GETADDR dump lists the configured addresses. */
public class LwipNetlinkTest extends StackPair {
    @Test(timeout = 60_000)
    public void netlinkListsAddresses() throws Exception {
        Sock nl = Sock.of(a.socket(AF_NETLINK, SOCK_RAW, 0));
        nl.file().bind(new byte[] {16, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0});
        byte[] local = nl.file().localAddress();
        assertEquals(AF_NETLINK, local[0]);
        ByteBuffer req = ByteBuffer.allocate(24).order(ByteOrder.LITTLE_ENDIAN);
        req.putInt(24).putShort((short) 22 /* RTM_GETADDR */).putShort((short) (0x1 | 0x300) /* REQUEST|DUMP */)
                .putInt(7).putInt(0);
        req.put((byte) 0 /* AF_UNSPEC */).put((byte) 0).put((byte) 0).put((byte) 0).putInt(0);
        req.flip();
        assertEquals(24, nl.file().send(req, 0, null));
        // MSG_PEEK|MSG_TRUNC first, as iproute2 does, to learn the size
        ByteBuffer probe = ByteBuffer.allocate(1);
        int size = nl.receive(probe, 0x2 | 0x20, null);
        assertTrue(size > 16);
        ByteBuffer ans = ByteBuffer.allocate(size).order(ByteOrder.LITTLE_ENDIAN);
        assertEquals(size, nl.receive(ans, 0, new byte[1][]));
        ans.flip();
        List<String> found = new ArrayList<>();
        boolean done = false;
        while (ans.remaining() >= 16) {
            int start = ans.position();
            int len = ans.getInt();
            int msgType = ans.getShort() & 0xffff;
            ans.getShort();
            int seq = ans.getInt();
            ans.getInt();
            assertEquals(7, seq);
            if (msgType == 3 /* NLMSG_DONE */) {
                done = true;
                break;
            }
            assertEquals(20 /* RTM_NEWADDR */, msgType);
            int fam = ans.get() & 0xff;
            int plen = ans.get() & 0xff;
            ans.get();
            ans.get();
            ans.getInt();
            int p = ans.position();
            while (p + 4 <= start + len) {
                int alen = ans.getShort(p) & 0xffff;
                int atype = ans.getShort(p + 2) & 0xffff;
                if (atype == 1 /* IFA_ADDRESS */ && alen >= 4) {
                    byte[] v = new byte[alen - 4];
                    ans.get(p + 4, v);
                    found.add(fam + ":" + java.net.InetAddress.getByAddress(v).getHostAddress() + "/" + plen);
                }
                if (alen < 4) {
                    break;
                }
                p += (alen + 3) & ~3;
            }
            ans.position(start + ((len + 3) & ~3));
        }
        System.out.println("umnet: netlink RTM_GETADDR: " + found);
        assertTrue("NLMSG_DONE at the end", done);
        assertTrue(found.toString(), found.contains("2:10.0.0.1/24"));
        assertTrue(found.toString(), found.stream().anyMatch(s -> s.startsWith("10:fd00:0:0:0:0:0:0:1/64")));
        assertFalse(nl.ready().readable());
        nl.file().close();
    }
}
