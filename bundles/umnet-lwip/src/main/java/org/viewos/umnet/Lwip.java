package org.viewos.umnet;

import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

import org.viewos.core.api.Errno;
import org.viewos.core.api.NativeAccess;

/**
 * liblwipv6 (Debian's liblwipv6-2, 1.5a) through {@link NativeAccess}: the symbols umnet calls, int
 * results sign-extended, and one readiness callback for every socket of every stack.
 *
 * <p>Facts of this library version that shape the module (read from its sources, checked by the
 * tests): {@code lwip_event_subscribe(cb, arg, fd, events)} returns the events already pending
 * (and then registers nothing) or registers a one-shot {@code cb(arg)} and returns 0; a null cb
 * removes the registrations of {@code (arg, fd)}; the callback runs on the stack's thread while
 * lwip holds its select lock, so it must not call lwip. Only recv honours {@code O_NONBLOCK};
 * connect, accept and TCP send block. Replies of the calls of one socket share one mailbox, so
 * two threads must never be inside lwip for the same socket at once.
 */
final class Lwip {
    static final int POLLIN = 0x1, POLLOUT = 0x4;
    static final int F_GETFL = 3, F_SETFL = 4, O_NONBLOCK = 04000;
    private static final String[] PATHS = {"/usr/lib/liblwipv6.so.2", "/usr/lib/x86_64-linux-gnu/liblwipv6.so.2",
        "liblwipv6.so.2", "liblwipv6.so"};

    final NativeAccess na;
    final long stackNew, stackFree, addVdeif, addTapif, addTunif, addAddr, addRoute, ifupFlags, ifdown, radvLoad,
            msocket, bind, listen, accept, connect, recvfrom, send, sendto, getsockname, getpeername,
            setsockopt, getsockopt, shutdown, close, fcntl, ioctl, subscribe;
    private final NativeAccess.Callback callback;
    private final SemQuarantine quarantine;
    private final Map<Long, Waiter> waiters = new ConcurrentHashMap<>();
    private final AtomicLong ids = new AtomicLong();

    /** What a readiness callback wakes. */
    interface Waiter {
        void fired(boolean write);
    }

    Lwip(NativeAccess na) throws Errno {
        this.na = na;
        NativeAccess.NativeLibrary lib = null;
        Errno last = null;
        for (String p : PATHS) {
            try {
                lib = na.open(p);
                break;
            } catch (Errno e) {
                last = e;
            }
        }
        if (lib == null) {
            throw new Errno(Errno.ENODEV, "liblwipv6 is not installed (Debian: liblwipv6-2): "
                    + (last != null ? last.getMessage() : ""));
        }
        stackNew = lib.symbol("lwip_stack_new");
        stackFree = lib.symbol("lwip_stack_free");
        addVdeif = lib.symbol("lwip_add_vdeif");
        addTapif = lib.symbol("lwip_add_tapif");
        addTunif = lib.symbol("lwip_add_tunif");
        addAddr = lib.symbol("lwip_add_addr");
        addRoute = lib.symbol("lwip_add_route");
        ifupFlags = lib.symbol("lwip_ifup_flags");
        ifdown = lib.symbol("lwip_ifdown");
        radvLoad = lib.symbol("lwip_radv_load_configfile");
        msocket = lib.symbol("lwip_msocket");
        bind = lib.symbol("lwip_bind");
        listen = lib.symbol("lwip_listen");
        accept = lib.symbol("lwip_accept");
        connect = lib.symbol("lwip_connect");
        recvfrom = lib.symbol("lwip_recvfrom");
        send = lib.symbol("lwip_send");
        sendto = lib.symbol("lwip_sendto");
        getsockname = lib.symbol("lwip_getsockname");
        getpeername = lib.symbol("lwip_getpeername");
        setsockopt = lib.symbol("lwip_setsockopt");
        getsockopt = lib.symbol("lwip_getsockopt");
        shutdown = lib.symbol("lwip_shutdown");
        close = lib.symbol("lwip_close");
        fcntl = lib.symbol("lwip_fcntl");
        ioctl = lib.symbol("lwip_ioctl");
        subscribe = lib.symbol("lwip_event_subscribe");
        callback = na.callback(this::dispatch);
        quarantine = SemQuarantine.install(na, lib.symbol("sys_sem_free"));
    }

    /** Whether lwip's semaphore use-after-free is guarded (see {@link SemQuarantine}). */
    boolean guarded() {
        return quarantine != null;
    }

    /** Calls a function returning C int: the result sign-extended. */
    int icall(long f, long... args) {
        return (int) na.call(f, args);
    }

    long call(long f, long... args) {
        return na.call(f, args);
    }

    int errno() {
        return na.errno();
    }

    /** A new key for {@link #subscribe}: its bit 0 tells read (0) from write (1). */
    long register(Waiter w) {
        long key = ids.incrementAndGet() << 1;
        waiters.put(key >>> 1, w);
        return key;
    }

    void unregister(long key) {
        waiters.remove(key >>> 1);
    }

    private void dispatch(long arg) {
        Waiter w = waiters.get(arg >>> 1);
        if (w != null) {
            w.fired((arg & 1) != 0);
        }
    }

    /** lwip_event_subscribe with our callback: the events pending now (then nothing is registered). */
    int arm(long key, int fd, int events) {
        SocketBase.BIG.lock();
        try {
            return icall(subscribe, callback.address(), key, fd, events);
        } finally {
            SocketBase.BIG.unlock();
        }
    }

    /** Removes the registrations of {@code key} on {@code fd}. */
    void disarm(long key, int fd) {
        SocketBase.BIG.lock();
        try {
            icall(subscribe, 0, key, fd, 0);
        } finally {
            SocketBase.BIG.unlock();
        }
    }

    void release() {
        if (quarantine != null) {
            quarantine.release();
        }
        callback.release();
    }

    /** Native memory holding {@code data}; the caller frees it. */
    long copyIn(byte[] data, int extra) {
        long p = na.malloc(data.length + extra);
        na.write(p, data);
        return p;
    }

    long cstring(String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        long p = na.malloc(b.length + 1);
        na.write(p, b);
        return p;
    }

    int readInt(long p) {
        byte[] b = na.read(p, 4);
        return (b[0] & 0xff) | (b[1] & 0xff) << 8 | (b[2] & 0xff) << 16 | (b[3] & 0xff) << 24;
    }

    void writeInt(long p, int v) {
        na.write(p, new byte[] {(byte) v, (byte) (v >> 8), (byte) (v >> 16), (byte) (v >> 24)});
    }
}
