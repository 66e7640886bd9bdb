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

/** Many TCP connections at once over IPv6, each echoing 64 KiB. */
public class LwipManyTest extends StackPair {
    @Test(timeout = 300_000)
    public void manyConnectionsAtOnce() throws Exception {
        int n = Integer.getInteger("umnet.test.connections", 40);
        Sock l = listen(a, AF_INET6, 5003);
        ExecutorService ex = Executors.newFixedThreadPool(n + 1);
        try {
            Future<Integer> server = ex.submit(() -> {
                List<Future<?>> echoes = new ArrayList<>();
                for (int i = 0; i < n; i++) {
                    Sock s = l.accept(new byte[1][]);
                    echoes.add(ex.submit(() -> {
                        byte[] got = s.readFully(65536);
                        s.sendAll(got);
                        s.file().close();
                        return null;
                    }));
                }
                for (Future<?> f : echoes) {
                    f.get();
                }
                return n;
            });
            List<Callable<Boolean>> clients = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                int seed = i;
                clients.add(() -> {
                    byte[] data = new byte[65536];
                    new Random(seed).nextBytes(data);
                    Sock c = dial(b, in6(5003, FD00_1));
                    c.sendAll(data);
                    byte[] back = c.readFully(65536);
                    c.file().close();
                    return java.util.Arrays.equals(data, back);
                });
            }
            ExecutorService cx = Executors.newFixedThreadPool(n);
            try {
                for (Future<Boolean> f : cx.invokeAll(clients)) {
                    assertTrue(f.get());
                }
            } finally {
                cx.shutdownNow();
            }
            assertEquals(Integer.valueOf(n), server.get(60, TimeUnit.SECONDS));
        } finally {
            ex.shutdownNow();
        }
        l.file().close();
    }

}
