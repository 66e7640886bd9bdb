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
 * 20 MiB each way at once over one TCP connection, MD5 compared, over IPv4 and over IPv6: what
 * crashed liblwipv6 1.5a before the module guarded its semaphore use-after-free
 * ({@link SemQuarantine}) and kept its segments unfragmented ({@link SegmentSizer}).
 */
public class LwipBulkTest extends StackPair {
    @Test(timeout = 300_000)
    public void twentyMegabytesEachWayAtOnceOverIpv4() throws Exception {
        bulk(AF_INET, in4(5002, 10, 0, 0, 1));
    }

    @Test(timeout = 300_000)
    public void twentyMegabytesEachWayAtOnceOverIpv6() throws Exception {
        bulk(AF_INET6, in6(5002, FD00_1));
    }

    private void bulk(int family, byte[] server) throws Exception {
        assertTrue("lwip's semaphore use-after-free is guarded", umnet.lwipGuarded());
        Sock l = listen(a, family, 5002);
        Sock c = dial(b, server);
        Sock s = l.accept(new byte[1][]);
        int size = 20 << 20;
        byte[] up = new byte[size];
        byte[] down = new byte[size];
        new Random(1).nextBytes(up);
        new Random(2).nextBytes(down);
        ExecutorService ex = Executors.newFixedThreadPool(4);
        try {
            long t0 = System.nanoTime();
            Future<?> w1 = ex.submit(() -> {
                c.sendAll(up);
                return null;
            });
            Future<?> w2 = ex.submit(() -> {
                s.sendAll(down);
                return null;
            });
            Future<byte[]> r1 = ex.submit(() -> s.readFully(size));
            Future<byte[]> r2 = ex.submit(() -> c.readFully(size));
            byte[] gotUp = r1.get(280, TimeUnit.SECONDS);
            byte[] gotDown = r2.get(280, TimeUnit.SECONDS);
            w1.get();
            w2.get();
            double secs = (System.nanoTime() - t0) / 1e9;
            System.out.printf("umnet: 2 x 20 MiB over lwip+vde (%s) in %.2f s (%.1f MiB/s each way)%n",
                    family == AF_INET ? "IPv4" : "IPv6", secs, 20 / secs);
            assertEquals(size, gotUp.length);
            assertArrayEquals(md5(up), md5(gotUp));
            assertArrayEquals(md5(down), md5(gotDown));
        } finally {
            ex.shutdownNow();
        }
        c.file().close();
        s.file().close();
        l.file().close();
    }
}
