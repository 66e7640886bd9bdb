package org.viewos.umnet;

import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;

import org.viewos.core.api.Errno;
import org.viewos.core.api.SocketFile;

/**
 * An AF_INET, AF_INET6 or AF_PACKET socket of an lwip stack, never blocking its caller.
 *
 * <ul>
 * <li>Receiving: lwip's recv in {@code O_NONBLOCK} mode; readability comes from a one-shot
 * {@code lwip_event_subscribe(POLLIN)} armed whenever the socket is found empty.</li>
 * <li>TCP sending: the data is queued here (at most {@link #QUEUE_LIMIT} bytes, EAGAIN beyond) and
 * the stack's pump hands it to lwip in pieces of at most {@link #CHUNK} bytes only while lwip reports room
 * ({@code POLLOUT}), so lwip's blocking write never waits. UDP and raw datagrams go straight to
 * lwip.</li>
 * <li>TCP connect: runs on a pool thread (lwip's connect blocks); EAGAIN until it is done.</li>
 * <li>accept: only when lwip reports a pending connection (lwip's accept blocks otherwise).</li>
 * </ul>
 */
final class LwipSocket extends SocketBase implements Lwip.Waiter {
    static final int SOCK_STREAM = 1, SOCK_DGRAM = 2, SOCK_RAW = 3;
    static final int QUEUE_LIMIT = 1 << 20;
    static final int CHUNK = SegmentSizer.MAX;
    /** How long a write that could make lwip fragment waits for lwip to send its unsent tail. */
    private static final long HOLD_NS = 20_000_000L;
    private static final int MAX_RECV = 65535;
    private static final int EISCONN = 106, ECONNREFUSED = 111, EALREADY = 114, ESHUTDOWN = 108,
            ECONNABORTED = 103, EOPNOTSUPP = 95, EDESTADDRREQ = 89, ENOPROTOOPT = 92;
    private static final int IPPROTO_TCP = 6, TCP_NODELAY = 1, IPPROTO_IPV6 = 41, IPV6_V6ONLY = 26,
            IPPROTO_IP = 0, IP_TOS = 1, IP_TTL = 2, IPV6_UNICAST_HOPS = 16;
    private static final int FIONREAD = 0x541B, SIOCGIFNAME = 0x8910, SIOCSIFTXQLEN = 0x8943, SIOCGIFCONF = 0x8912;

    private enum State { IDLE, CONNECTING, CONNECTED, FAILED, LISTENING }

    private final long key;
    private final boolean stream;
    private final AtomicBoolean readArmed = new AtomicBoolean();
    private final AtomicBoolean writeArmed = new AtomicBoolean();
    final AtomicBoolean scheduled = new AtomicBoolean();
    private final Object readLock = new Object();
    private volatile State state = State.IDLE;
    private volatile int connectError;
    private boolean connectReported;
    private volatile boolean udpConnected;
    // lwip 1.5a's getsockname answers the peer's address and its getpeername (and accept's address)
    // garbage, so the names are kept here: every inet socket is bound by us (to a port we choose
    // when the program leaves it to the system) and the peer is what connect was given
    private volatile byte[] local, peer;
    // the TCP send queue (guarded by out)
    private final ArrayDeque<byte[]> out = new ArrayDeque<>();
    private int outBytes, outHeadOff;
    private volatile int sendError;
    private volatile boolean wrShut, rdShut, eof, closePending;
    private final AtomicBoolean lwipClosed = new AtomicBoolean();
    // pump state (the pump thread only)
    private final SegmentSizer sizer = new SegmentSizer();
    private long heldSince;
    private final Map<Long, byte[]> shadow = new HashMap<>();

    LwipSocket(LwipStack stack, int fd, int domain, int type, boolean accepted) throws Errno {
        super(stack, fd, domain, type);
        this.stream = type == SOCK_STREAM && domain != LwipStack.AF_PACKET;
        this.key = lw.register(this);
        if (accepted) {
            state = State.CONNECTED;
            connectReported = true;
        }
        long one = stream ? lw.copyIn(intBytes(1), 0) : 0;
        lockAll();
        try {
            lw.icall(lw.fcntl, fd, Lwip.F_SETFL, Lwip.O_NONBLOCK);
            if (stream) {
                // Nagle off: lwip sends each piece at once while its window allows, so pieces are
                // rarely appended to an unsent segment (see SegmentSizer); the program's own
                // TCP_NODELAY is kept apart (it changes nothing here: the pump decides sizes)
                lw.icall(lw.setsockopt, fd, IPPROTO_TCP, TCP_NODELAY, one, 4);
            }
        } finally {
            unlockAll();
            lw.na.free(one);
        }
    }

    // ---- readiness

    @Override
    public void watch(Readiness r) {
        readiness = r;
        refresh();
    }

    /** lwip's callback (on its thread, under its select lock: no lwip calls here). */
    @Override
    public void fired(boolean write) {
        if (write) {
            writeArmed.set(false);
            stack.schedule(this);
        } else {
            readArmed.set(false);
            readiness.readable(true);
        }
    }

    /** Whether the socket is readable now; when it is not, arms the callback that will say so. */
    private boolean refresh() {
        if (dead || rdShut || eof) {
            readiness.readable(true);
            return true;
        }
        if (closed) {
            return false;
        }
        synchronized (readLock) {
            if (readArmed.get()) {
                return false; // armed: lwip calls back when it becomes readable
            }
            readArmed.set(true);
            readiness.readable(false);
            int ev = lw.arm(key, fd, Lwip.POLLIN);
            if (ev != 0) {
                readArmed.set(false);
                readiness.readable(true);
                return true;
            }
            return false;
        }
    }

    // ---- addresses

    private long sockaddr(byte[] a, boolean forConnect) throws Errno {
        if (a == null || a.length < 2) {
            throw new Errno(Errno.EINVAL);
        }
        int family = (a[0] & 0xff) | (a[1] & 0xff) << 8;
        if (domain == LwipStack.AF_INET) {
            if (family == 0 && forConnect) {
                return 0;
            }
            if (family != LwipStack.AF_INET) {
                throw new Errno(Errno.EAFNOSUPPORT);
            }
            if (a.length < 16) {
                throw new Errno(Errno.EINVAL);
            }
        } else if (domain == LwipStack.AF_INET6) {
            if (family == 0 && forConnect) {
                return 0;
            }
            if (family != LwipStack.AF_INET6) {
                throw new Errno(Errno.EAFNOSUPPORT);
            }
            if (a.length < 24) {
                throw new Errno(Errno.EINVAL);
            }
        }
        byte[] b = Arrays.copyOf(a, Math.max(a.length, 28));
        return lw.copyIn(b, 0);
    }

    private boolean inet() {
        return domain == LwipStack.AF_INET || domain == LwipStack.AF_INET6;
    }

    /** The 16-byte lwip form of a sockaddr's address. */
    private byte[] ipOf(byte[] sa) {
        byte[] a = new byte[16];
        if (domain == LwipStack.AF_INET) {
            a[10] = (byte) 0xff;
            a[11] = (byte) 0xff;
            System.arraycopy(sa, 4, a, 12, 4);
        } else {
            System.arraycopy(sa, 8, a, 0, 16);
        }
        return a;
    }

    private byte[] sockaddrOf(byte[] ip, int port) {
        byte[] sa = new byte[domain == LwipStack.AF_INET ? 16 : 28];
        sa[0] = (byte) domain;
        sa[2] = (byte) (port >> 8);
        sa[3] = (byte) port;
        if (ip != null) {
            if (domain == LwipStack.AF_INET) {
                System.arraycopy(ip, 12, sa, 4, 4);
            } else {
                System.arraycopy(ip, 0, sa, 8, 16);
            }
        }
        return sa;
    }

    private static int portOf(byte[] sa) {
        return (sa[2] & 0xff) << 8 | (sa[3] & 0xff);
    }

    private boolean isAny(byte[] ip) {
        for (int i = domain == LwipStack.AF_INET ? 12 : 0; i < 16; i++) {
            if (ip[i] != 0) {
                return false;
            }
        }
        return true;
    }

    private void lwipBind(byte[] sa) throws Errno {
        long p = lw.copyIn(Arrays.copyOf(sa, Math.max(sa.length, 28)), 0);
        int rc;
        int err = 0;
        enter();
        try {
            rc = lw.icall(lw.bind, fd, p, sa.length);
            if (rc < 0) {
                err = lw.errno();
            }
        } finally {
            leave();
            lw.na.free(p);
        }
        if (rc < 0) {
            throw failure(err, "bind");
        }
    }

    private void bindEphemeral(byte[] ip) throws Errno {
        for (int i = 0; i < 256; i++) {
            byte[] sa = sockaddrOf(ip, stack.ephemeralPort());
            try {
                lwipBind(sa);
                local = sa;
                return;
            } catch (Errno e) {
                if (e.code() != Errno.EADDRINUSE) {
                    throw e;
                }
            }
        }
        throw new Errno(Errno.EADDRINUSE, "no free port");
    }

    /** Binds the socket (to {@code ip}, or any address, and a port of ours) if the program did not. */
    private void ensureBound(byte[] ip) throws Errno {
        if (local == null && inet()) {
            bindEphemeral(ip);
        }
    }

    @Override
    public byte[] localAddress() throws Errno {
        alive();
        if (!inet()) {
            return name(lw.getsockname, "getsockname");
        }
        byte[] l = local;
        if (l == null) {
            return sockaddrOf(null, 0);
        }
        byte[] pe = peer;
        if (pe != null && isAny(ipOf(l)) && (stream ? state == State.CONNECTED : udpConnected)) {
            byte[] src = stack.sourceFor(ipOf(pe));
            if (src != null) {
                return sockaddrOf(src, portOf(l));
            }
        }
        return l.clone();
    }

    @Override
    public byte[] peerAddress() throws Errno {
        alive();
        if (!inet()) {
            return name(lw.getpeername, "getpeername");
        }
        byte[] pe = peer;
        if (pe == null || (stream ? state != State.CONNECTED : !udpConnected)) {
            throw new Errno(Errno.ENOTCONN);
        }
        return pe.clone();
    }

    // ---- setup

    @Override
    public void bind(byte[] address) throws Errno {
        alive();
        long p = sockaddr(address, false); // checks family and length
        lw.na.free(p);
        if (!inet()) {
            lwipBind(address);
            return;
        }
        if (local != null) {
            throw new Errno(Errno.EINVAL, "already bound");
        }
        byte[] ip = ipOf(address);
        int port = portOf(address);
        if (port == 0) {
            bindEphemeral(ip);
        } else {
            byte[] sa = sockaddrOf(ip, port);
            lwipBind(sa);
            local = sa;
        }
    }

    @Override
    public void listen(int backlog) throws Errno {
        alive();
        if (!stream) {
            throw new Errno(EOPNOTSUPP);
        }
        if (state == State.CONNECTED || state == State.CONNECTING) {
            throw new Errno(Errno.EINVAL);
        }
        ensureBound(null);
        enter();
        try {
            if (lw.icall(lw.listen, fd, backlog) < 0) {
                throw failure(lw.errno(), "listen");
            }
            state = State.LISTENING;
        } finally {
            leave();
        }
        refresh();
    }

    @Override
    public SocketFile accept(byte[][] peer) throws Errno {
        alive();
        if (state != State.LISTENING) {
            throw new Errno(Errno.EINVAL);
        }
        if (!refresh()) {
            throw new Errno(Errno.EAGAIN);
        }
        long p = lw.na.malloc(ADDR + 8);
        int nfd;
        try {
            enter();
            try {
                lw.writeInt(p + ADDR, ADDR);
                nfd = lw.icall(lw.accept, fd, p, p + ADDR);
                if (nfd < 0) {
                    throw failure(lw.errno(), "accept");
                }
            } finally {
                leave();
            }
        } finally {
            lw.na.free(p);
        }
        refresh();
        LwipSocket s = new LwipSocket(stack, nfd, domain, type, true);
        stack.adopt(s);
        if (inet()) {
            byte[] pe = s.name(lw.getsockname, "getsockname"); // the peer (see the fields)
            s.peer = sockaddrOf(ipOf(pe), portOf(pe));
            byte[] l = local;
            byte[] ip = ipOf(l);
            if (isAny(ip)) {
                byte[] src = stack.sourceFor(ipOf(pe));
                ip = src != null ? src : ip;
            }
            s.local = sockaddrOf(ip, portOf(l));
            if (peer != null && peer.length > 0) {
                peer[0] = s.peer.clone();
            }
        } else if (peer != null && peer.length > 0) {
            peer[0] = new byte[0];
        }
        if (!stack.alive()) {
            s.kill();
        }
        return s;
    }

    @Override
    public void connect(byte[] address) throws Errno {
        alive();
        if (!stream) {
            long p = sockaddr(address, true);
            if (p != 0) {
                try {
                    ensureBound(null);
                } catch (Errno e) {
                    lw.na.free(p);
                    throw e;
                }
            }
            int len = p == 0 ? 16 : address.length;
            long q = p != 0 ? p : lw.copyIn(new byte[28], 0); // AF_UNSPEC: dissolve the association
            enter();
            try {
                if (lw.icall(lw.connect, fd, q, len) < 0) {
                    throw failure(lw.errno(), "connect");
                }
                udpConnected = p != 0;
                peer = p != 0 && inet() ? sockaddrOf(ipOf(address), portOf(address)) : null;
            } finally {
                leave();
                lw.na.free(q);
            }
            return;
        }
        synchronized (this) {
            switch (state) {
                case CONNECTED -> {
                    if (!connectReported) {
                        connectReported = true;
                        return;
                    }
                    throw new Errno(EISCONN);
                }
                case CONNECTING -> throw new Errno(Errno.EAGAIN);
                case FAILED -> {
                    state = State.IDLE;
                    throw new Errno(connectError);
                }
                case LISTENING -> throw new Errno(EISCONN);
                default -> { }
            }
            long p = sockaddr(address, false);
            try {
                ensureBound(stack.sourceFor(ipOf(address)));
            } catch (Errno e) {
                lw.na.free(p);
                throw e;
            }
            peer = sockaddrOf(ipOf(address), portOf(address));
            int len = address.length;
            state = State.CONNECTING;
            try {
                stack.blocking.execute(() -> runConnect(p, len));
            } catch (RuntimeException e) {
                state = State.IDLE;
                lw.na.free(p);
                throw new Errno(Errno.ENETDOWN);
            }
        }
        throw new Errno(Errno.EAGAIN);
    }

    /**
     * On a pool thread: lwip's connect, which waits for the handshake (seconds when SYNs are lost),
     * holding only this socket's lock: the calls of other sockets go on meanwhile (lwip passes each
     * socket's calls as messages to its stack thread; while this one held the global lock, lost
     * SYNs of simultaneous connects stalled every other socket of the daemon).
     */
    private void runConnect(long p, int len) {
        int rc;
        int err = 0;
        lock.lock();
        try {
            if (dead) {
                return;
            }
            rc = lw.icall(lw.connect, fd, p, len);
            if (rc < 0) {
                err = lw.errno();
            }
        } finally {
            lock.unlock();
            lw.na.free(p);
        }
        synchronized (this) {
            if (rc == 0) {
                state = State.CONNECTED;
            } else {
                // lwip reports a refused SYN as a reset or an abort
                connectError = err == Errno.ECONNRESET || err == ECONNABORTED || err <= 0 ? ECONNREFUSED : err;
                state = State.FAILED;
            }
        }
        refresh();
        if (closePending) {
            closeInLwip();
        }
    }

    // ---- data

    @Override
    public int receive(ByteBuffer dst, int flags, byte[][] from) throws Errno {
        alive();
        if (rdShut || eof) {
            return 0;
        }
        if (stream && state != State.CONNECTED) {
            if (state == State.CONNECTING) {
                throw new Errno(Errno.EAGAIN);
            }
            throw new Errno(Errno.ENOTCONN);
        }
        if ((flags & MSG_OOB) != 0) {
            throw new Errno(Errno.EINVAL);
        }
        int len = Math.min(dst.remaining(), MAX_RECV);
        if (len == 0 && stream) {
            return 0;
        }
        int lflags = flags & (MSG_PEEK | (stream ? 0 : MSG_TRUNC));
        boolean wantFrom = from != null && from.length > 0 && !stream;
        long p = lw.na.malloc(Math.max(len, 1) + ADDR + 8);
        int n;
        int err = 0;
        boolean eofSeen = false;
        byte[] data;
        byte[] addr = null;
        try {
            enter();
            try {
                lw.writeInt(p + len + ADDR, ADDR);
                n = lw.icall(lw.recvfrom, fd, p, len, lflags, wantFrom ? p + len : 0, wantFrom ? p + len + ADDR : 0);
                if (n < 0) {
                    err = lw.errno();
                }
                // a stream gives one segment per lwip call: take what else is there now, so that
                // lwip's receive window stays open (a zero window invites lwip 1.5a's division by
                // zero in its fast retransmit: see the README)
                while (stream && lflags == 0 && n > 0 && n < len) {
                    int more = lw.icall(lw.recvfrom, fd, p + n, len - n, 0, 0, 0);
                    if (more <= 0) {
                        eofSeen = more == 0;
                        break;
                    }
                    n += more;
                }
            } finally {
                leave();
            }
            if (n < 0) {
                if (err == Errno.EAGAIN) {
                    refresh();
                    throw new Errno(Errno.EAGAIN);
                }
                throw failure(err, "recv");
            }
            data = lw.na.read(p, Math.min(n, len));
            if (wantFrom) {
                addr = lw.na.read(p + len, Math.min(lw.readInt(p + len + ADDR), ADDR));
            }
        } finally {
            lw.na.free(p);
        }
        dst.put(data);
        if (wantFrom) {
            from[0] = addr;
        }
        if ((n == 0 || eofSeen) && stream && (lflags & MSG_PEEK) == 0) {
            eof = true; // lwip says end of stream once; Linux says it at every read after
        }
        refresh();
        return n;
    }

    @Override
    public int send(ByteBuffer data, int flags, byte[] address) throws Errno {
        alive();
        if ((flags & MSG_OOB) != 0) {
            throw new Errno(EOPNOTSUPP);
        }
        if (!stream) {
            return sendDatagram(data, address);
        }
        if (sendError != 0) {
            throw new Errno(sendError);
        }
        if (wrShut) {
            throw new Errno(Errno.EPIPE);
        }
        switch (state) {
            case CONNECTED -> { }
            case CONNECTING -> throw new Errno(Errno.EAGAIN);
            default -> throw new Errno(Errno.ENOTCONN);
        }
        int n;
        synchronized (out) {
            int room = QUEUE_LIMIT - outBytes;
            if (room <= 0) {
                throw new Errno(Errno.EAGAIN);
            }
            n = Math.min(room, data.remaining());
            if (n == 0) {
                return 0;
            }
            byte[] b = new byte[n];
            data.get(b);
            out.add(b);
            outBytes += n;
        }
        stack.schedule(this);
        return n;
    }

    private int sendDatagram(ByteBuffer data, byte[] address) throws Errno {
        if (address == null && !udpConnected && domain != LwipStack.AF_PACKET) {
            throw new Errno(EDESTADDRREQ);
        }
        int n = data.remaining();
        if (n > MAX_RECV) {
            throw new Errno(90); // EMSGSIZE
        }
        ensureBound(null);
        byte[] b = new byte[n];
        data.get(b);
        long p = lw.copyIn(b, 1);
        long a = address != null ? sockaddr(address, false) : 0;
        try {
            enter();
            try {
                int rc = a != 0 ? lw.icall(lw.sendto, fd, p, n, 0, a, address.length) : lw.icall(lw.send, fd, p, n, 0);
                if (rc < 0) {
                    throw failure(lw.errno(), "send");
                }
                return rc;
            } finally {
                leave();
            }
        } finally {
            lw.na.free(p);
            lw.na.free(a);
        }
    }

    /**
     * The pump: hands queued bytes to lwip while it has room (re-arming POLLOUT when it has none),
     * in pieces {@link SegmentSizer} chooses so that lwip never builds a segment needing IP
     * fragmentation.
     */
    void pump(long buffer) {
        for (int round = 0; round < 64; round++) {
            if (dead || lwipClosed.get()) {
                return;
            }
            int avail = queued();
            if (avail == 0) {
                if (closePending) {
                    closeInLwip();
                }
                return;
            }
            if (writeArmed.get()) {
                return; // lwip calls back when there is room
            }
            int len = sizer.next(avail);
            if (len == 0) {
                long now = System.nanoTime();
                if (heldSince == 0) {
                    heldSince = now;
                }
                if (now - heldSince < HOLD_NS) {
                    stack.later(this); // more data or a moment for lwip to send its tail
                    return;
                }
                sizer.assumeSent();
                len = sizer.next(avail);
            }
            heldSince = 0;
            writeArmed.set(true);
            if (lw.arm(key | 1, fd, Lwip.POLLOUT) == 0) {
                return;
            }
            writeArmed.set(false);
            byte[] piece = peek(len);
            int n;
            int err = 0;
            lockAll();
            try {
                if (dead) {
                    return;
                }
                lw.na.write(buffer, piece);
                n = lw.icall(lw.send, fd, buffer, len, 0);
                if (n < 0) {
                    err = lw.errno();
                }
            } finally {
                unlockAll();
            }
            if (n < 0) {
                sendError = err == ESHUTDOWN || err == Errno.ENOTCONN || err <= 0 ? Errno.EPIPE : err;
                synchronized (out) {
                    out.clear();
                    outBytes = 0;
                    outHeadOff = 0;
                }
                if (closePending) {
                    closeInLwip();
                }
                return;
            }
            sizer.wrote(n);
            consume(n);
        }
        stack.schedule(this); // let the other sockets have a turn
    }

    /** The first {@code len} queued bytes (there are at least that many). */
    private byte[] peek(int len) {
        byte[] piece = new byte[len];
        synchronized (out) {
            int off = outHeadOff;
            int at = 0;
            for (byte[] b : out) {
                int k = Math.min(b.length - off, len - at);
                System.arraycopy(b, off, piece, at, k);
                at += k;
                off = 0;
                if (at == len) {
                    break;
                }
            }
        }
        return piece;
    }

    /** Drops {@code n} bytes lwip has taken from the head of the queue. */
    private void consume(int n) {
        synchronized (out) {
            outBytes -= n;
            while (n > 0) {
                byte[] head = out.peek();
                int k = Math.min(head.length - outHeadOff, n);
                outHeadOff += k;
                n -= k;
                if (outHeadOff == head.length) {
                    out.poll();
                    outHeadOff = 0;
                }
            }
        }
    }

    /** Bytes queued here that lwip has not taken yet. */
    int queued() {
        synchronized (out) {
            return outBytes;
        }
    }

    // ---- the rest

    @Override
    public void shutdown(int how) throws Errno {
        alive();
        if (how < 0 || how > 2) {
            throw new Errno(Errno.EINVAL);
        }
        if (stream && state != State.CONNECTED) {
            throw new Errno(Errno.ENOTCONN);
        }
        if (how != 1) {
            rdShut = true;
            readiness.readable(true);
        }
        if (how != 0) {
            wrShut = true; // lwip 1.5a sends no FIN before close: the queue still drains
        }
        enter();
        try {
            lw.icall(lw.shutdown, fd, how);
        } finally {
            leave();
        }
    }

    private static long optKey(int level, int name) {
        return ((long) level << 32) | (name & 0xffffffffL);
    }

    /** Options lwip 1.5a handles itself (the rest are kept here: accepted, and read back). */
    private boolean lwipOption(int level, int name) {
        return switch (level) {
            case SOL_SOCKET -> name == 6 /* SO_BROADCAST */ || name == 9 /* SO_KEEPALIVE */;
            case IPPROTO_IP -> name == IP_TTL || name == IP_TOS;
            case IPPROTO_TCP -> false;
            case IPPROTO_IPV6 -> name == IPV6_UNICAST_HOPS;
            default -> false;
        };
    }

    @Override
    public void setOption(int level, int name, byte[] value) throws Errno {
        alive();
        if (value == null) {
            throw new Errno(Errno.EFAULT);
        }
        if (lwipOption(level, name)) {
            if (value.length < 4) {
                throw new Errno(Errno.EINVAL);
            }
            long p = lw.copyIn(value, 0);
            enter();
            try {
                if (lw.icall(lw.setsockopt, fd, level, name, p, value.length) < 0) {
                    throw failure(lw.errno(), "setsockopt");
                }
            } finally {
                leave();
                lw.na.free(p);
            }
            return;
        }
        if (level == SOL_SOCKET && (name == SO_TYPE || name == SO_ERROR || name == SO_DOMAIN || name == SO_PROTOCOL)) {
            throw new Errno(ENOPROTOOPT);
        }
        synchronized (shadow) {
            shadow.put(optKey(level, name), value.clone());
        }
    }

    @Override
    public byte[] getOption(int level, int name, int maxLength) throws Errno {
        alive();
        if (level == SOL_SOCKET) {
            switch (name) {
                case SO_TYPE:
                    return trim(intBytes(type), maxLength);
                case 30: // SO_ACCEPTCONN
                    return trim(intBytes(state == State.LISTENING ? 1 : 0), maxLength);
                case SO_DOMAIN:
                    return trim(intBytes(domain), maxLength);
                case SO_PROTOCOL:
                    return trim(intBytes(stream ? 6 : type == SOCK_DGRAM ? 17 : 0), maxLength);
                case SO_ERROR: {
                    int e = 0;
                    synchronized (this) {
                        if (state == State.FAILED) {
                            e = connectError;
                            state = State.IDLE;
                        }
                    }
                    if (e == 0 && sendError != 0) {
                        e = sendError;
                    }
                    return trim(intBytes(e), maxLength);
                }
                case SO_SNDBUF:
                case SO_RCVBUF: {
                    byte[] v;
                    synchronized (shadow) {
                        v = shadow.get(optKey(level, name));
                    }
                    return trim(v != null ? v : intBytes(name == SO_SNDBUF ? QUEUE_LIMIT : 262144), maxLength);
                }
                default:
                    break;
            }
        }
        synchronized (shadow) {
            byte[] v = shadow.get(optKey(level, name));
            if (v != null) {
                return trim(v, maxLength);
            }
        }
        if (!lwipOption(level, name)) {
            if (level == SOL_SOCKET || level == IPPROTO_TCP || level == IPPROTO_IP || level == IPPROTO_IPV6) {
                return trim(intBytes(0), maxLength); // never set: off
            }
            throw new Errno(ENOPROTOOPT);
        }
        long p = lw.na.malloc(16);
        enter();
        try {
            lw.writeInt(p + 8, 4);
            if (lw.icall(lw.getsockopt, fd, level, name, p, p + 8) < 0) {
                throw failure(lw.errno(), "getsockopt");
            }
            int v = lw.readInt(p);
            if (level == IPPROTO_TCP || (level == SOL_SOCKET)) {
                v = v != 0 ? 1 : 0; // lwip returns the flag bit
            }
            return trim(intBytes(v), maxLength);
        } finally {
            leave();
            lw.na.free(p);
        }
    }

    @Override
    public long ioctl(int request, long arg, Memory memory) throws Errno {
        alive();
        if (request == FIONREAD) {
            int avail;
            long p = lw.na.malloc(8);
            enter();
            try {
                if (lw.icall(lw.ioctl, fd, FIONREAD, p) < 0) {
                    throw failure(lw.errno(), "ioctl");
                }
                avail = lw.readInt(p);
            } finally {
                leave();
                lw.na.free(p);
            }
            memory.write(arg, intBytes(avail));
            return 0;
        }
        if (request >= SIOCGIFNAME && request <= SIOCSIFTXQLEN && request != SIOCGIFCONF) {
            byte[] ifr = memory.read(arg, 40);
            long p = lw.copyIn(ifr, 0);
            enter();
            try {
                if (lw.icall(lw.ioctl, fd, request, p) < 0) {
                    throw failure(lw.errno(), "ioctl");
                }
                ifr = lw.na.read(p, 40);
            } finally {
                leave();
                lw.na.free(p);
            }
            if ((request & 0xf) <= 0xf && isGet(request)) {
                memory.write(arg, ifr);
            }
            return 0;
        }
        throw new Errno(Errno.ENOTTY);
    }

    private static boolean isGet(int request) {
        // SIOCG* of linux/sockios.h in 0x8910..0x8943
        return switch (request) {
            case 0x8910, 0x8913, 0x8915, 0x8917, 0x8919, 0x891b, 0x891d, 0x891f, 0x8921, 0x8927, 0x8933,
                    0x8942 -> true;
            default -> false;
        };
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (dead) {
            stack.forget(this);
            lw.unregister(key);
            return;
        }
        boolean later;
        synchronized (this) {
            later = state == State.CONNECTING;
        }
        if (!later && stream && queued() > 0 && sendError == 0) {
            later = true;
        }
        if (later) {
            closePending = true; // the pump (or the connect) closes it when done
            if (stream) {
                stack.schedule(this);
            }
            return;
        }
        closeInLwip();
    }

    private void closeInLwip() {
        if (!lwipClosed.compareAndSet(false, true)) {
            return;
        }
        lockAll();
        try {
            if (!dead) {
                lw.disarm(key, fd);
                lw.disarm(key | 1, fd);
                lw.icall(lw.close, fd);
            }
        } finally {
            unlockAll();
        }
        lw.unregister(key);
        stack.forget(this);
    }

    @Override
    void kill() {
        // the stack goes: close in lwip what no thread is using, leave the rest to lwip's teardown
        if (!lwipClosed.get() && tryLockAll()) {
            try {
                lw.disarm(key, fd);
                lw.disarm(key | 1, fd);
                if (lwipClosed.compareAndSet(false, true)) {
                    lw.icall(lw.close, fd);
                }
            } finally {
                dead = true;
                unlockAll();
            }
        } else {
            lw.disarm(key, fd);
            lw.disarm(key | 1, fd);
        }
        lw.unregister(key);
        super.kill();
    }

    @Override
    Errno gone() {
        return new Errno(stream && state == State.CONNECTED ? Errno.ECONNRESET : Errno.ENETDOWN,
                "the stack was unmounted");
    }
}
