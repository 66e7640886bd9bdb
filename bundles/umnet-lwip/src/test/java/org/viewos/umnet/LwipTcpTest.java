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

/** TCP over IPv4 and IPv6, names, options, refused connections, the null and host stacks, bad mount options. */
public class LwipTcpTest extends StackPair {
    @Test(timeout = 60_000)
    public void tcpBothWaysIpv4() throws Exception {
        Sock l = listen(a, AF_INET, 5000);
        Sock c = dial(b, in4(5000, 10, 0, 0, 1));
        byte[][] peer = new byte[1][];
        Sock s = l.accept(peer);
        assertEquals(AF_INET, peer[0][0]);
        assertArrayEquals(new byte[] {10, 0, 0, 2}, java.util.Arrays.copyOfRange(peer[0], 4, 8));
        assertArrayEquals(peer[0], c.file().localAddress());
        byte[] pa = c.file().peerAddress();
        assertEquals(5000, Harness.port(pa));
        exchange(c, s);
        exchange(s, c);
        c.file().close();
        ByteBuffer eof = ByteBuffer.allocate(10);
        assertEquals(0, s.receive(eof, 0, null));
        assertEquals(0, s.receive(eof, 0, null));
        assertTrue(s.ready().readable());
        s.file().close();
        l.file().close();
    }

    @Test(timeout = 60_000)
    public void tcpBothWaysIpv6() throws Exception {
        Sock l = listen(a, AF_INET6, 5001);
        Sock c = dial(b, in6(5001, FD00_1));
        byte[][] peer = new byte[1][];
        Sock s = l.accept(peer);
        assertEquals(AF_INET6, peer[0][0]);
        assertArrayEquals(FD00_2, java.util.Arrays.copyOfRange(peer[0], 8, 24));
        exchange(c, s);
        exchange(s, c);
        c.file().close();
        s.file().close();
        l.file().close();
    }

    @Test(timeout = 60_000)
    public void optionsAndNames() throws Exception {
        Sock t = Sock.of(a.socket(AF_INET, SOCK_STREAM, 0));
        t.file().setOption(1, 2 /* SO_REUSEADDR */, SocketBase.intBytes(1));
        assertArrayEquals(SocketBase.intBytes(1), t.file().getOption(1, 2, 4));
        t.file().setOption(6, 1 /* TCP_NODELAY */, SocketBase.intBytes(1));
        assertArrayEquals(SocketBase.intBytes(1), t.file().getOption(6, 1, 4));
        assertArrayEquals(SocketBase.intBytes(SOCK_STREAM), t.file().getOption(1, 3 /* SO_TYPE */, 4));
        assertArrayEquals(SocketBase.intBytes(0), t.file().getOption(1, 4 /* SO_ERROR */, 4));
        t.file().bind(in4(5006, 10, 0, 0, 1));
        assertEquals(5006, Harness.port(t.file().localAddress()));
        try {
            t.file().peerAddress();
            fail();
        } catch (Errno e) {
            assertEquals(Errno.ENOTCONN, e.code());
        }
        try {
            t.file().bind(in6(1, new byte[16]));
            fail();
        } catch (Errno e) {
            assertEquals(Errno.EAFNOSUPPORT, e.code());
        }
        t.file().close();
        try {
            a.socket(1 /* AF_UNIX */, SOCK_STREAM, 0);
            fail();
        } catch (Errno e) {
            assertEquals(Errno.EAFNOSUPPORT, e.code());
        }
        assertFalse(a.serves(1));
        assertTrue(a.serves(AF_INET6));
    }

    @Test
    public void nullAndCurrentStacks() throws Exception {
        FileSystem nul = umnet.mount("none", "/dev/net/null", "umnetnull", Map.of());
        for (int family : new int[] {1, AF_INET, AF_INET6, AF_NETLINK, 17}) {
            assertTrue(nul.networkStack().serves(family));
            try {
                nul.networkStack().socket(family, SOCK_STREAM, 0);
                fail();
            } catch (Errno e) {
                assertEquals(Errno.EAFNOSUPPORT, e.code());
            }
        }
        FileSystem host = umnet.mount("none", "/dev/net/host", "umnetcurrent", Map.of());
        assertFalse(host.networkStack().serves(AF_INET));
        assertEquals(FileSystem.VIRTUAL, host.hostPath("", FileSystem.Access.LOOKUP));
        assertNotNull(host.virtualFile("").stat());
        nul.unmount();
        host.unmount();
    }

    @Test
    public void badOptions() {
        for (String[] o : new String[][] {{"addr", "10.0.0.9"}, {"addr", "10.0.0.9/40"}, {"addr", "fd00::9/64%vd7"},
            {"frobnicate", ""}, {"vd0", sw.url, "gw", "192.168.77.1"}, {"vd0", "vde:///nonexistent/switch"}}) {
            try {
                Map<String, String> m = new LinkedHashMap<>();
                if (!o[0].equals("vd0")) {
                    m.put("vd0", sw.url);
                }
                for (int i = 0; i < o.length; i += 2) {
                    m.put(o[i], o[i + 1]);
                }
                FileSystem fs = umnet.mount("none", "/dev/net/x", "umnetlwipv6", m);
                fs.unmount();
                fail("accepted " + m);
            } catch (Errno e) {
                assertTrue(e.toString(), e.code() == Errno.EINVAL || e.code() == Errno.EIO || e.code() == 101);
            }
        }
    }
}
