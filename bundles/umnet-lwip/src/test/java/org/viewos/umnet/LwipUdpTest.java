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

/**
 * UDP between two LWIPv6 stacks on a real vde_switch, in a JVM of its own (lwip's state is
 * per process: this test failed after the TCP tests in one JVM, see the README's umnet limits).
 */
public class LwipUdpTest extends StackPair {
    @Test(timeout = 60_000)
    public void udpIpv4AndIpv6() throws Exception {
        for (int family : new int[] {AF_INET, AF_INET6}) {
            boolean v4 = family == AF_INET;
            Sock r = Sock.of(a.socket(family, SOCK_DGRAM, 0));
            r.file().bind(v4 ? in4(6000, 0, 0, 0, 0) : in6(6000, new byte[16]));
            Sock s = Sock.of(b.socket(family, SOCK_DGRAM, 0));
            s.file().bind(v4 ? in4(6001, 0, 0, 0, 0) : in6(6001, new byte[16]));
            assertFalse(r.ready().readable());
            byte[] to = v4 ? in4(6000, 10, 0, 0, 1) : in6(6000, FD00_1);
            // the first datagrams may go while the neighbour is being resolved (ARP/ND drop them)
            for (int i = 0; !r.ready().awaitFor(200); i++) {
                assertTrue("no datagram arrived (family " + family + ")", i < 50);
                s.sendTo(new byte[] {'w'}, to);
            }
            ByteBuffer warm = ByteBuffer.allocate(10);
            while (true) {
                try {
                    r.file().receive(warm, 0, new byte[1][]);
                } catch (Errno e) {
                    assertEquals(Errno.EAGAIN, e.code());
                    break;
                }
            }
            for (int i = 0; i < 3; i++) {
                assertEquals(5 + i, s.sendTo(("dgram" + "!".repeat(i)).getBytes(StandardCharsets.US_ASCII), to));
            }
            for (int i = 0; i < 3; i++) {
                ByteBuffer got = ByteBuffer.allocate(100);
                byte[][] from = new byte[1][];
                int n = r.receive(got, 0, from);
                assertEquals("dgram" + "!".repeat(i), new String(got.array(), 0, n, StandardCharsets.US_ASCII));
                assertEquals(6001, Harness.port(from[0]));
                assertEquals(family, from[0][0]);
                if (v4) {
                    assertArrayEquals(new byte[] {10, 0, 0, 2}, java.util.Arrays.copyOfRange(from[0], 4, 8));
                } else {
                    // bound to ::, lwip 1.5a may send from the link-local address
                    byte[] src = java.util.Arrays.copyOfRange(from[0], 8, 24);
                    assertTrue(java.util.Arrays.equals(FD00_2, src) || (src[0] == (byte) 0xfe && src[1] == (byte) 0x80));
                }
            }
            assertFalse(r.ready().readable());
            // a reply through a connected socket, and a datagram too big for the buffer
            s.file().connect(v4 ? in4(6000, 10, 0, 0, 1) : in6(6000, FD00_1));
            s.file().send(ByteBuffer.wrap("0123456789".getBytes(StandardCharsets.US_ASCII)), 0, null);
            ByteBuffer small = ByteBuffer.allocate(4);
            assertEquals(4, r.receive(small, 0, new byte[1][]));
            assertEquals("0123", new String(small.array(), StandardCharsets.US_ASCII));
            assertFalse(r.ready().readable());
            r.file().close();
            s.file().close();
        }
    }

}
