package org.viewos.umnet;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Logger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.viewos.core.api.Errno;
import org.viewos.core.api.NetworkStack;
import org.viewos.core.api.SocketFile;

/**
 * One LWIPv6 stack ({@code viewmount -t umnetlwipv6 -o vd0=vde:///tmp/sw,addr=10.0.0.2/24 none
 * /dev/net/lwip}): its interfaces, addresses and routes, its sockets, a pump thread that feeds
 * queued TCP data to lwip only while lwip has room (so no thread ever waits inside lwip for a
 * peer), and a small pool for the one call that does wait there, TCP connect.
 */
final class LwipStack implements NetworkStack {
    private static final Logger LOG = Logger.getLogger(LwipStack.class.getName());
    static final int AF_INET = 2, AF_INET6 = 10, AF_NETLINK = 16, AF_PACKET = 17;
    static final int NETIF_FLAG_AUTOCONF = 0x1000;
    private static final Pattern IFKEY = Pattern.compile("(vd|tn|tp)([0-9])");
    private static final AtomicInteger COUNT = new AtomicInteger();

    final Lwip lw;
    private final long stack;
    private final String name;
    private final Map<String, Long> netifs = new LinkedHashMap<>();
    private final Set<SocketBase> sockets = ConcurrentHashMap.newKeySet();
    private final List<Inet.Cidr> addresses = new ArrayList<>();
    private final AtomicInteger nextPort = new AtomicInteger(32768 + new java.util.Random().nextInt(28000));
    private final LinkedBlockingQueue<LwipSocket> ready = new LinkedBlockingQueue<>();
    private final Set<LwipSocket> held = ConcurrentHashMap.newKeySet();
    private final Thread pump;
    final ExecutorService blocking;
    private final long pumpBuffer;
    private volatile boolean alive = true;

    private LwipStack(Lwip lw, long stack, String name) {
        this.lw = lw;
        this.stack = stack;
        this.name = name;
        this.pumpBuffer = lw.na.malloc(LwipSocket.CHUNK);
        int n = COUNT.incrementAndGet();
        this.blocking = new ThreadPoolExecutor(0, Integer.MAX_VALUE, 10, TimeUnit.SECONDS, new SynchronousQueue<>(),
                r -> {
                    Thread t = new Thread(r, "umnet-lwip-" + n + "-connect");
                    t.setDaemon(true);
                    return t;
                });
        this.pump = new Thread(this::pumpLoop, "umnet-lwip-" + n + "-pump");
        pump.setDaemon(true);
        pump.start();
    }

    /** Makes a stack as the mount options say (see the README's umnet section). */
    static LwipStack create(Lwip lw, String target, Map<String, String> options) throws Errno {
        // interfaces, umview's way: vdN=URL / tnN=NAME / tpN=NAME, a bare vdN means N of them
        Map<String, int[]> counts = new LinkedHashMap<>();
        Map<String, String> urls = new LinkedHashMap<>();
        List<Inet.Cidr> addrs = new ArrayList<>();
        List<byte[]> gws = new ArrayList<>();
        String radv = null;
        boolean autoconf = false;
        for (String t : List.of("vd", "tn", "tp")) {
            counts.put(t, new int[1]);
        }
        boolean anyIf = false;
        for (Map.Entry<String, String> e : options.entrySet()) {
            String k = e.getKey();
            String v = e.getValue();
            Matcher m = IFKEY.matcher(k);
            if (m.matches()) {
                int num = m.group(2).charAt(0) - '0';
                int[] c = counts.get(m.group(1));
                anyIf = true;
                if (v.isEmpty()) {
                    c[0] = Math.max(c[0], num);
                } else {
                    urls.put(k, v);
                    c[0] = Math.max(c[0], num + 1);
                }
                continue;
            }
            switch (k) {
                case "addr", "ip" -> {
                    for (String s : Inet.split(v, Inet::validCidr)) {
                        addrs.add(Inet.cidr(s));
                    }
                }
                case "gw" -> {
                    for (String s : Inet.split(v, Inet::validAddress)) {
                        gws.add(Inet.parse(s));
                    }
                }
                case "ra" -> radv = v;
                case "autoconf" -> autoconf = true;
                case "rw", "ro", "defaults" -> { }
                default -> throw new Errno(Errno.EINVAL, "umnetlwipv6: unknown option '" + k + "'");
            }
        }
        boolean defaultIf = !anyIf;
        if (defaultIf) {
            counts.get("vd")[0] = 1; // umview's default: vd1, one interface on the default switch
        }
        long s = lw.call(lw.stackNew);
        if (s == 0) {
            throw new Errno(Errno.ENOMEM, "lwip_stack_new failed");
        }
        LwipStack st = new LwipStack(lw, s, target);
        try {
            SocketBase.BIG.lock();
            try {
                st.configure(counts, urls, addrs, gws, radv, autoconf, defaultIf);
            } finally {
                SocketBase.BIG.unlock();
            }
        } catch (Errno | RuntimeException e) {
            st.free();
            throw e;
        }
        return st;
    }

    private void configure(Map<String, int[]> counts, Map<String, String> urls, List<Inet.Cidr> addrs,
            List<byte[]> gws, String radv, boolean autoconf, boolean defaultIf) throws Errno {
        int flags = autoconf ? NETIF_FLAG_AUTOCONF : 0;
        for (Map.Entry<String, int[]> c : counts.entrySet()) {
            String type = c.getKey();
            long fn = switch (type) {
                case "vd" -> lw.addVdeif;
                case "tn" -> lw.addTunif;
                default -> lw.addTapif;
            };
            for (int i = 0; i < c.getValue()[0]; i++) {
                String ifname = type + i;
                String url = urls.getOrDefault(ifname, "");
                long arg = lw.cstring(url);
                long netif;
                try {
                    netif = lw.call(fn, stack, arg, flags);
                } finally {
                    lw.na.free(arg);
                }
                if (netif == 0) {
                    if (defaultIf) {
                        LOG.info("umnet: no default VDE switch to plug vd0 into; the stack has only lo");
                        continue;
                    }
                    throw new Errno(Errno.EIO, "umnetlwipv6: cannot make " + ifname
                            + (url.isEmpty() ? "" : " on " + url) + " (is the switch there?)");
                }
                netifs.put(ifname, netif);
            }
        }
        for (long netif : netifs.values()) {
            lw.icall(lw.ifupFlags, netif, 0);
        }
        for (Inet.Cidr a : addrs) {
            long netif;
            if (a.ifname() != null) {
                Long n = netifs.get(a.ifname());
                if (n == null) {
                    throw new Errno(Errno.EINVAL, "umnetlwipv6: no interface " + a.ifname() + " for an address");
                }
                netif = n;
            } else if (netifs.isEmpty()) {
                throw new Errno(Errno.EINVAL, "umnetlwipv6: an address but no interface");
            } else {
                netif = netifs.values().iterator().next();
            }
            long pa = lw.copyIn(a.addr(), 0);
            long pm = lw.copyIn(a.mask(), 0);
            try {
                int rc = lw.icall(lw.addAddr, netif, pa, pm);
                if (rc < 0) {
                    throw new Errno(Errno.EINVAL, "umnetlwipv6: lwip refused an address (" + rc + ")");
                }
                addresses.add(a);
            } finally {
                lw.na.free(pa);
                lw.na.free(pm);
            }
        }
        for (byte[] gw : gws) {
            boolean v4 = Inet.mapped(gw);
            byte[] dst = new byte[16];
            if (v4) {
                dst[10] = (byte) 0xff;
                dst[11] = (byte) 0xff;
            }
            long pd = lw.copyIn(dst, 0);
            long pm = lw.copyIn(Inet.mask(v4, 0), 0);
            long pg = lw.copyIn(gw, 0);
            try {
                int rc = lw.icall(lw.addRoute, stack, pd, pm, pg, 0, 0);
                if (rc < 0) {
                    throw new Errno(ENETUNREACH, "umnetlwipv6: gateway not on a connected network");
                }
            } finally {
                lw.na.free(pd);
                lw.na.free(pm);
                lw.na.free(pg);
            }
        }
        if (radv != null) {
            long p = lw.cstring(radv);
            try {
                lw.icall(lw.radvLoad, stack, p);
            } finally {
                lw.na.free(p);
            }
        }
    }

    /** A port for an implicit bind (lwip's own choice cannot be read back: see LwipSocket). */
    int ephemeralPort() {
        return 32768 + Math.floorMod(nextPort.getAndIncrement() - 32768, 28232);
    }

    /**
     * The source address for a destination (lwip form): a configured address on the destination's
     * network, else one of its family (not link-local), else loopback for loopback, else null.
     */
    byte[] sourceFor(byte[] dst) {
        boolean v4 = Inet.mapped(dst);
        if (v4 ? dst[12] == 127 : java.util.Arrays.equals(dst, LOOP6)) {
            return dst.clone();
        }
        Inet.Cidr any = null;
        for (Inet.Cidr c : addresses) {
            if (c.v4() != v4) {
                continue;
            }
            byte[] m = c.mask();
            boolean same = true;
            for (int i = 0; i < 16 && same; i++) {
                same = (c.addr()[i] & m[i]) == (dst[i] & m[i]);
            }
            if (same) {
                return c.addr();
            }
            if (any == null && !(c.addr()[0] == (byte) 0xfe && (c.addr()[1] & 0xc0) == 0x80)) {
                any = c;
            }
        }
        return any != null ? any.addr() : null;
    }

    private static final byte[] LOOP6 = new byte[16];

    static {
        LOOP6[15] = 1;
    }

    String name() {
        return name;
    }

    List<String> interfaces() {
        return List.copyOf(netifs.keySet());
    }

    @Override
    public boolean serves(int domain) {
        return domain == AF_INET || domain == AF_INET6 || domain == AF_NETLINK || domain == AF_PACKET;
    }

    @Override
    public SocketFile socket(int domain, int type, int protocol) throws Errno {
        if (!alive) {
            throw new Errno(Errno.ENETDOWN, "the stack was unmounted");
        }
        if (!serves(domain)) {
            throw new Errno(Errno.EAFNOSUPPORT);
        }
        if (domain == AF_NETLINK) {
            if (protocol != 0) {
                throw new Errno(EPROTONOSUPPORT, "lwip serves NETLINK_ROUTE only");
            }
            if (type != LwipSocket.SOCK_RAW && type != LwipSocket.SOCK_DGRAM) {
                throw new Errno(ESOCKTNOSUPPORT);
            }
        } else if (domain != AF_PACKET) {
            switch (type) {
                case LwipSocket.SOCK_STREAM -> {
                    if (protocol != 0 && protocol != 6) {
                        throw new Errno(EPROTONOSUPPORT);
                    }
                }
                case LwipSocket.SOCK_DGRAM -> {
                    if (protocol != 0 && protocol != 17) {
                        throw new Errno(EPROTONOSUPPORT);
                    }
                }
                case LwipSocket.SOCK_RAW -> { }
                default -> throw new Errno(ESOCKTNOSUPPORT);
            }
        }
        int fd;
        int err;
        synchronized (this) {
            if (!alive) {
                throw new Errno(Errno.ENETDOWN, "the stack was unmounted");
            }
            SocketBase.BIG.lock();
            try {
                fd = lw.icall(lw.msocket, stack, domain, type, protocol);
                err = lw.errno();
            } finally {
                SocketBase.BIG.unlock();
            }
        }
        if (fd < 0) {
            throw new Errno(err > 0 ? err : 105 /* ENOBUFS */, "lwip_msocket");
        }
        SocketBase s = domain == AF_NETLINK ? new NetlinkSocket(this, fd) : new LwipSocket(this, fd, domain, type, false);
        sockets.add(s);
        return s;
    }

    static final int EPROTONOSUPPORT = 93, ESOCKTNOSUPPORT = 94, ENETUNREACH = 101;

    void adopt(SocketBase s) {
        sockets.add(s);
    }

    void forget(SocketBase s) {
        sockets.remove(s);
    }

    boolean alive() {
        return alive;
    }

    /** Queues a socket for the pump (it has data to push or lwip has room again). */
    void schedule(LwipSocket s) {
        if (s.scheduled.compareAndSet(false, true)) {
            ready.add(s);
        }
    }

    /** Interrupts a thread of the module and waits for it at most {@code millis}. */
    static void stop(Thread t, long millis) {
        t.interrupt();
        try {
            t.join(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Queues a socket for the pump again in a few milliseconds (its pump held data back). */
    void later(LwipSocket s) {
        held.add(s);
    }

    private void pumpLoop() {
        while (alive) {
            LwipSocket s;
            try {
                s = ready.poll(held.isEmpty() ? 1000 : 2, TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                break;
            }
            if (!held.isEmpty() && (s == null || ready.isEmpty())) {
                for (LwipSocket h : held) {
                    held.remove(h);
                    schedule(h);
                }
            }
            if (s == null) {
                continue;
            }
            s.scheduled.set(false);
            try {
                if (alive) {
                    s.pump(pumpBuffer);
                }
            } catch (RuntimeException e) {
                LOG.warning("umnet: pump failed for a socket: " + e);
            }
        }
    }

    /**
     * Before the stack goes (the mount is removed, the module or the whole daemon stops): data
     * programs already sent and the module still queues is handed to lwip (at most 5 s), then lwip
     * gets a moment to put it on the wire, so a sender that ends right after its last write loses
     * nothing.
     */
    private void drain() {
        long deadline = System.nanoTime() + 5_000_000_000L;
        boolean waited = false;
        while (alive && System.nanoTime() < deadline
                && sockets.stream().anyMatch(x -> x instanceof LwipSocket l && l.queued() > 0)) {
            waited = true;
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
        if (waited || !sockets.isEmpty()) {
            try {
                Thread.sleep(300); // lwip's own send buffers: it has no call to wait for them
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /**
     * Removes the stack: its sockets give ENETDOWN from now on (never reaching lwip again), the ones
     * no thread is using are closed in lwip first, then its interfaces go down.
     */
    void free() {
        drain();
        synchronized (this) {
            if (!alive) {
                return;
            }
            alive = false;
        }
        stop(pump, 5000);
        for (SocketBase s : sockets) {
            s.kill();
        }
        sockets.clear();
        blocking.shutdown();
        SocketBase.BIG.lock();
        try {
            for (long netif : netifs.values()) {
                lw.icall(lw.ifdown, netif); // no more frames in or out
            }
            // lwip_stack_free is not called: in liblwipv6 1.5a it races with the stack's own threads
            // and crashed the daemon at the end of views; the stack's memory and threads stay
            // (idle, its interfaces down) until the daemon exits
        } finally {
            SocketBase.BIG.unlock();
        }
        if (!pump.isAlive()) {
            lw.na.free(pumpBuffer); // else a pump stuck in lwip still holds it: leave it
        }
    }

}
