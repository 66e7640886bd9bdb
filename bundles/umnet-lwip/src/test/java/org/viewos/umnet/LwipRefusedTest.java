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

/** connect to a closed port (ECONNREFUSED), send before connect (ENOTCONN). */
public class LwipRefusedTest extends StackPair {
    @Test(timeout = 60_000)
    public void connectRefusedAndNotConnected() throws Exception {
        Sock c = Sock.of(b.socket(AF_INET, SOCK_STREAM, 0));
        try {
            c.file().send(ByteBuffer.wrap(new byte[1]), 0, null);
            fail("send before connect");
        } catch (Errno e) {
            assertEquals(Errno.ENOTCONN, e.code());
        }
        try {
            c.connect(in4(5999, 10, 0, 0, 1));
            fail("connect to a closed port");
        } catch (Errno e) {
            assertEquals(111, e.code()); // ECONNREFUSED
        }
        c.file().close();
    }


}
