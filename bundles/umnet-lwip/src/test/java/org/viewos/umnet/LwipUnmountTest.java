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

/** Unmounting a stack with traffic in flight: errors, not crashes. */
public class LwipUnmountTest extends StackPair {
    @Test(timeout = 60_000)
    public void unmountedStackGivesErrorsNotCrashes() throws Exception {
        Sock l = listen(a, AF_INET, 5004);
        Sock c = dial(b, in4(5004, 10, 0, 0, 1));
        Sock s = l.accept(new byte[1][]);
        exchange(c, s);
        Sock u = Sock.of(a.socket(AF_INET, SOCK_DGRAM, 0));
        Sock idle = Sock.of(a.socket(AF_INET, SOCK_STREAM, 0));
        // data in flight both ways, then the stack goes
        c.file().send(ByteBuffer.wrap(new byte[100_000]), 0, null);
        s.file().send(ByteBuffer.wrap(new byte[100_000]), 0, null);
        fsA.unmount();
        fsA = null;
        assertTrue(s.ready().readable());
        assertTrue(l.ready().readable());
        try {
            s.receive(ByteBuffer.allocate(10), 0, null);
            fail();
        } catch (Errno e) {
            assertEquals(Errno.ECONNRESET, e.code());
        }
        for (Callable<?> op : List.<Callable<?>>of(
                () -> s.file().send(ByteBuffer.wrap(new byte[1]), 0, null),
                () -> l.file().accept(new byte[1][]),
                () -> u.file().send(ByteBuffer.wrap(new byte[1]), 0, in4(1, 10, 0, 0, 2)),
                () -> idle.file().localAddress(),
                () -> a.socket(AF_INET, SOCK_STREAM, 0))) {
            try {
                op.call();
                fail("an operation on an unmounted stack worked");
            } catch (Errno e) {
                assertTrue(e.toString(), e.code() == Errno.ENETDOWN || e.code() == Errno.ECONNRESET);
            }
        }
        s.file().close();
        l.file().close();
        u.file().close();
        idle.file().close();
        // the other stack lives on
        Sock l2 = listen(b, AF_INET, 5005);
        Sock c2 = dial(b, in4(5005, 127, 0, 0, 1));
        Sock s2 = l2.accept(new byte[1][]);
        exchange(c2, s2);
        c.file().close();
        c2.file().close();
        s2.file().close();
        l2.file().close();
    }
}
