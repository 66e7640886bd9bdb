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
 * Two LWIPv6 stacks on one real vde_switch, made by mounts as the core makes them; the tests talk
 * through the SocketFile API only (non-blocking: EAGAIN plus readiness, as the core drives it).
 * lwip's state is per process and some of it outlives a stack, so each test class runs in a JVM of
 * its own (surefire reuseForks=false).
 */
public abstract class StackPair {
    static final byte[] FD00_1 = addr6("fd00::1"), FD00_2 = addr6("fd00::2");
    static UmNet umnet;
    Switch sw;
    FileSystem fsA, fsB;
    NetworkStack a, b;

    @BeforeClass
    public static void module() {
        umnet = new UmNet(new NativeAccessImpl());
    }

    @AfterClass
    public static void unload() {
        umnet.deactivate();
    }

    @Before
    public void stacks() throws Exception {
        sw = new Switch();
        fsA = mount("/dev/net/a", "vd0", sw.url, "addr", "10.0.0.1/24:fd00::1/64");
        fsB = mount("/dev/net/b", "vd0", sw.url, "addr", "10.0.0.2/24:fd00::2/64");
        a = fsA.networkStack();
        b = fsB.networkStack();
    }

    @After
    public void end() throws Exception {
        if (fsA != null) {
            fsA.unmount();
        }
        if (fsB != null) {
            fsB.unmount();
        }
        sw.close();
    }

    static FileSystem mount(String target, String... kv) throws Errno {
        Map<String, String> o = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            o.put(kv[i], kv[i + 1]);
        }
        return umnet.mount("none", target, "umnetlwipv6", o);
    }

    static byte[] addr6(String s) {
        try {
            return java.net.InetAddress.getByName(s).getAddress();
        } catch (java.net.UnknownHostException e) {
            throw new AssertionError(e);
        }
    }

    static Sock listen(NetworkStack s, int family, int port) throws Errno {
        Sock l = Sock.of(s.socket(family, SOCK_STREAM, 0));
        l.file().bind(family == AF_INET ? in4(port, 0, 0, 0, 0) : in6(port, new byte[16]));
        l.file().listen(16);
        return l;
    }

    static Sock dial(NetworkStack s, byte[] to) throws Errno {
        int family = to[0];
        Sock c = Sock.of(s.socket(family, SOCK_STREAM, 0));
        c.connect(to);
        return c;
    }

    static void exchange(Sock x, Sock y) throws Exception {
        x.sendAll("ping from x".getBytes(StandardCharsets.US_ASCII));
        assertEquals("ping from x", new String(y.readFully(11), StandardCharsets.US_ASCII));
        y.sendAll("pong from y!".getBytes(StandardCharsets.US_ASCII));
        assertEquals("pong from y!", new String(x.readFully(12), StandardCharsets.US_ASCII));
    }



    static byte[] md5(byte[] d) throws Exception {
        return MessageDigest.getInstance("MD5").digest(d);
    }
}
