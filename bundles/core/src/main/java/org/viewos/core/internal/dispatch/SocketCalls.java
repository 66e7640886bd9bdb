package org.viewos.core.internal.dispatch;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;

import org.viewos.core.api.Errno;
import org.viewos.core.api.FileStat;
import org.viewos.core.api.NetworkStack;
import org.viewos.core.api.OpenFile;
import org.viewos.core.api.SocketFile;
import org.viewos.core.api.VirtualFile;
import org.viewos.core.internal.arch.Regs;
import org.viewos.core.internal.ffi.Native;
import org.viewos.core.internal.ffi.Scratch;
import org.viewos.core.internal.trace.Tracee;
import org.viewos.core.internal.vfs.Mount;
import org.viewos.core.internal.vfs.MountTable;

/**
 * Sockets of virtual network stacks (umnet), with msocket semantics: each process has a default
 * stack ({@code mstack PATH}, inherited over fork and exec; else the stack mounted at
 * {@code /dev/net/default}, else the host's). socket(2) of a family that stack serves makes a
 * {@link SocketFile} with a placeholder descriptor; the socket calls on it come here from
 * {@link FdCalls}.
 */
final class SocketCalls {
    static final String DEFAULT_STACK = "/dev/net/default";
    private static final int SOCK_NONBLOCK = 04000, SOCK_CLOEXEC = 02000000;
    private static final int O_RDWR = 2, O_NONBLOCK = 04000, O_CLOEXEC = 02000000;
    private static final int MSG_DONTWAIT = 0x40, MSG_TRUNC = 0x20;
    private static final int AT_FDCWD = -100;
    private static final int S_IFSOCK = 0140000;
    private static final int ENOTSOCK = 88, EISCONN = 106;
    private static final int MAX_ADDR = 128, MAX_OPT = 4096;

    private final ViewState view;
    private final ViewPaths where;
    private final VirtualFiles files;
    private final FdCalls fds;
    private final int openat;

    SocketCalls(ViewState view, ViewPaths where, VirtualFiles files, FdCalls fds, int openat) {
        this.view = view;
        this.where = where;
        this.files = files;
        this.fds = fds;
        this.openat = openat;
    }

    /** The mount of the caller's default stack, or null for the host's. */
    private Mount stackOf(Tracee t) throws Errno {
        String path = t.fs() == null ? null : t.fs().netStack();
        MountTable mt = view.mounts();
        Mount m = mt.at(path != null ? path : DEFAULT_STACK);
        if (m == null || stack(m) == null) {
            if (path != null) {
                throw new Errno(Errno.ENETDOWN, "the stack " + path + " is gone");
            }
            return null;
        }
        return m;
    }

    private static NetworkStack stack(Mount m) {
        try {
            return m.fs().networkStack();
        } catch (RuntimeException e) {
            return null;
        }
    }

    /** socket(2): a virtual socket when the caller's stack serves the family. */
    void socket(Call c) throws Errno {
        Regs r = c.regs();
        int domain = (int) r.arg(0), type = (int) r.arg(1), proto = (int) r.arg(2);
        Mount m = stackOf(c.t());
        NetworkStack st = m == null ? null : stack(m);
        if (st == null || !st.serves(domain)) {
            return; // the host's stack
        }
        if (!fds.covered(c, FdCalls.lowestFree(c.t(), 0))) {
            return;
        }
        SocketFile sf;
        try {
            sf = st.socket(domain, type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC), proto);
        } catch (RuntimeException e) {
            throw new Errno(Errno.EIO, "module " + m.module() + ": " + e);
        }
        install(c, sf, m, (type & SOCK_NONBLOCK) != 0, (type & SOCK_CLOEXEC) != 0);
    }

    /**
     * ioctl(2) asking about network interfaces (SIOCGIFINDEX...) on a socket that is not virtual
     * (glibc's if_nametoindex uses an AF_UNIX one): when the caller's stack is virtual the stack
     * answers, through a socket made for the question.
     *
     * @return whether it was served
     */
    boolean interfaceIoctl(Call c) throws Errno {
        int cmd = (int) c.regs().arg(1);
        if (java.util.Arrays.stream(org.viewos.core.internal.trace.SeccompFilter.IF_IOCTLS).noneMatch(x -> x == cmd)) {
            return false;
        }
        Mount m = stackOf(c.t());
        NetworkStack st = m == null ? null : stack(m);
        if (st == null || !st.serves(2 /* AF_INET */)) {
            return false;
        }
        SocketFile probe = st.socket(2, 2 /* SOCK_DGRAM */, 0);
        try {
            long arg = c.regs().arg(2);
            long r = probe.ioctl(cmd, arg, new OpenFile.Memory() {
                @Override
                public byte[] read(long address, int length) throws Errno {
                    return bytes(c, address, length, Scratch.DATA_SIZE);
                }

                @Override
                public void write(long address, byte[] data) throws Errno {
                    put(c, address, data, data.length);
                }
            });
            c.finish(r);
        } finally {
            probe.close();
        }
        return true;
    }

    /** Turns the pending call into the open of a new placeholder for {@code sf}. */
    private void install(Call c, SocketFile sf, Mount m, boolean nonblock, boolean cloexec) throws Errno {
        VirtualFile vf = new VirtualFile() {
            @Override
            public FileStat stat() {
                return new FileStat(S_IFSOCK | 0777, 0, 0, 0, 0, 0);
            }

            @Override
            public OpenFile open(int flags) {
                return sf;
            }
        };
        VirtualFiles.Entry en = files.adopt(vf, sf, m, "socket:" + m.target(), O_RDWR);
        byte[] ph = Native.cpath(en.placeholder);
        long at = c.belowStack(ph.length);
        if (c.scratch().write(c.tid(), at, ph, ph.length) != ph.length) {
            files.collect();
            throw new Errno(Errno.EFAULT);
        }
        long flags = O_RDWR | (nonblock ? O_NONBLOCK : 0) | (cloexec ? O_CLOEXEC : 0);
        Tracee t = c.t();
        files.opening(en, t.tid());
        c.push(c.regs().call(openat, AT_FDCWD, at, flags, 0));
        t.atExit(res -> {
            files.opened(en, res);
            if (res >= 0) {
                fds.coveredAtExit(t, res);
            }
            return res;
        });
    }

    /** mstack PATH: the caller's default stack from now on (inherited by its children). */
    String mstack(Call c, List<String> argv) throws Errno {
        if (argv.size() != 2) {
            throw new Errno(Errno.EINVAL, "usage: mstack STACK command [args]");
        }
        Tracee t = c.t();
        String path = where.resolve(t, argv.get(1), view.mounts(), true).viewPath();
        Mount m = view.mounts().at(path);
        if (m == null || stack(m) == null) {
            throw new Errno(Errno.ENOENT, argv.get(1) + " is no network stack of this view");
        }
        if (t.fs() != null) {
            t.fs().setNetStack(path);
        }
        return "";
    }

    /** The socket calls on a virtual descriptor. */
    void serve(Call c, String name, VirtualFiles.Entry e) throws Errno {
        if (!(e.open instanceof SocketFile s)) {
            throw new Errno(ENOTSOCK);
        }
        Regs r = c.regs();
        Scratch sc = c.scratch();
        int tid = c.tid();
        switch (name) {
            case "bind" -> {
                s.bind(bytes(c, r.arg(1), (int) r.arg(2), MAX_ADDR));
                c.finish(0);
            }
            case "listen" -> {
                s.listen((int) r.arg(1));
                c.finish(0);
            }
            case "connect" -> {
                byte[] addr = bytes(c, r.arg(1), (int) r.arg(2), MAX_ADDR);
                try {
                    s.connect(addr);
                    c.finish(0);
                } catch (Errno err) {
                    if (err.code() != Errno.EAGAIN) {
                        throw err;
                    }
                    fds.retryLater(c); // connect returns when the connection is made (also non-blocking)
                }
            }
            case "accept", "accept4" -> accept(c, s, e, name.equals("accept4") ? (int) r.arg(3) : 0);
            case "sendto" -> {
                byte[] addr = r.arg(4) == 0 ? null : bytes(c, r.arg(4), (int) r.arg(5), MAX_ADDR);
                int n = (int) Math.min(Math.max(r.arg(2), 0), Scratch.DATA_SIZE);
                byte[] data = bytes(c, r.arg(1), n, Scratch.DATA_SIZE);
                sent(c, (int) r.arg(3), () -> s.send(ByteBuffer.wrap(data), (int) r.arg(3), addr));
            }
            case "recvfrom" -> {
                Received got = receive(c, s, r.arg(2), (int) r.arg(3));
                if (got == null) {
                    return;
                }
                put(c, r.arg(1), got.data(), got.copied());
                if (r.arg(4) != 0) {
                    putAddress(c, r.arg(4), r.arg(5), got.from());
                }
                c.finish(got.n());
            }
            case "sendmsg" -> {
                Msg m = Msg.read(c, r.arg(1));
                byte[] data = m.gather(c);
                sent(c, (int) r.arg(2), () -> s.send(ByteBuffer.wrap(data), (int) r.arg(2), m.name(c)));
            }
            case "sendmmsg" -> {
                int vlen = (int) Math.min(Math.max(r.arg(2), 0), 1024);
                int done = 0;
                for (int i = 0; i < vlen; i++) {
                    long hdr = r.arg(1) + 64L * i;
                    Msg m = Msg.read(c, hdr);
                    byte[] data = m.gather(c);
                    int n;
                    try {
                        n = s.send(ByteBuffer.wrap(data), (int) r.arg(3), m.name(c));
                    } catch (Errno err) {
                        if (done > 0) {
                            break;
                        }
                        retryOrFail(c, err, (int) r.arg(3));
                        return;
                    }
                    put(c, hdr + 56, le4(n), 4);
                    done++;
                }
                c.finish(done);
            }
            case "recvmsg", "recvmmsg" -> {
                boolean mm = name.equals("recvmmsg");
                int flags = (int) r.arg(mm ? 3 : 2);
                if (mm && r.arg(2) < 1) {
                    c.finish(0);
                    return;
                }
                Msg m = Msg.read(c, r.arg(1));
                Received got = receive(c, s, m.total(), flags);
                if (got == null) {
                    return;
                }
                int n = got.n();
                m.scatter(c, got.data(), got.copied());
                m.finish(c, r.arg(1), got.from(), n > got.data().length ? MSG_TRUNC : 0);
                if (mm) {
                    put(c, r.arg(1) + 56, le4(n), 4);
                    c.finish(1);
                } else {
                    c.finish(n);
                }
            }
            case "getsockname", "getpeername" -> {
                byte[] a = name.equals("getsockname") ? s.localAddress() : s.peerAddress();
                putAddress(c, r.arg(1), r.arg(2), a);
                c.finish(0);
            }
            case "setsockopt" -> {
                int len = (int) r.arg(4);
                if (len < 0 || len > MAX_OPT) {
                    throw new Errno(Errno.EINVAL);
                }
                s.setOption((int) r.arg(1), (int) r.arg(2), bytes(c, r.arg(3), len, MAX_OPT));
                c.finish(0);
            }
            case "getsockopt" -> {
                int len = ByteBuffer.wrap(bytes(c, r.arg(4), 4, 4)).order(ByteOrder.LITTLE_ENDIAN).getInt();
                if (len < 0) {
                    throw new Errno(Errno.EINVAL);
                }
                byte[] v = s.getOption((int) r.arg(1), (int) r.arg(2), Math.min(len, MAX_OPT));
                int n = Math.min(v.length, len);
                put(c, r.arg(3), v, n);
                put(c, r.arg(4), le4(n), 4);
                c.finish(0);
            }
            case "shutdown" -> {
                s.shutdown((int) r.arg(1));
                c.finish(0);
            }
            default -> throw new Errno(Errno.ENOSYS, name + " on a virtual socket");
        }
    }

    @FunctionalInterface
    private interface Send {
        int send() throws Errno;
    }

    private void sent(Call c, int flags, Send s) throws Errno {
        try {
            c.finish(s.send());
        } catch (Errno err) {
            retryOrFail(c, err, flags);
        }
    }

    /** A sending call the stack cannot take yet: tried again shortly when the caller may block. */
    private void retryOrFail(Call c, Errno err, int flags) throws Errno {
        if (err.code() != Errno.EAGAIN || nonblocking(c, flags)) {
            throw err;
        }
        fds.retryLater(c); // the stack's buffers are full: try again shortly
    }

    /** A receiving call with nothing to take: waits for readability when the caller may block. */
    private void waitOrFail(Call c, Errno err, int flags) throws Errno {
        if (err.code() != Errno.EAGAIN || nonblocking(c, flags)) {
            throw err;
        }
        fds.waitReadable(c);
    }

    private static boolean nonblocking(Call c, int flags) {
        return (flags & MSG_DONTWAIT) != 0 || FdCalls.nonblocking(c.t(), c.regs());
    }

    /** What a receive got: the buffer, the call's result (beyond the buffer with MSG_TRUNC), the sender. */
    private record Received(byte[] data, int n, byte[] from) {
        int copied() {
            return Math.min(n, data.length);
        }
    }

    /** Receives at most {@code want} bytes (capped); null when the call now waits for readability. */
    private Received receive(Call c, SocketFile s, long want, int flags) throws Errno {
        ByteBuffer dst = ByteBuffer.allocate((int) Math.min(Math.max(want, 0), Scratch.DATA_SIZE));
        byte[][] from = new byte[1][];
        try {
            return new Received(dst.array(), s.receive(dst, flags, from), from[0]);
        } catch (Errno err) {
            waitOrFail(c, err, flags);
            return null;
        }
    }

    private void accept(Call c, SocketFile s, VirtualFiles.Entry e, int flags) throws Errno {
        if (!fds.covered(c, FdCalls.lowestFree(c.t(), 0))) {
            return;
        }
        byte[][] peer = new byte[1][];
        SocketFile a;
        try {
            a = s.accept(peer);
        } catch (Errno err) {
            waitOrFail(c, err, 0);
            return;
        }
        if (a == null) {
            throw new Errno(Errno.EIO, "module " + e.mount.module() + " accepted nothing");
        }
        Regs r = c.regs();
        if (r.arg(1) != 0) {
            putAddress(c, r.arg(1), r.arg(2), peer[0]);
        }
        install(c, a, e.mount, (flags & SOCK_NONBLOCK) != 0, (flags & SOCK_CLOEXEC) != 0);
    }

    /** Writes an address to {@code addr} with its length at {@code lenAddr} (socklen_t in/out). */
    private static void putAddress(Call c, long addr, long lenAddr, byte[] a) throws Errno {
        if (lenAddr == 0) {
            return;
        }
        byte[] v = a == null ? new byte[0] : a;
        int len = ByteBuffer.wrap(bytes(c, lenAddr, 4, 4)).order(ByteOrder.LITTLE_ENDIAN).getInt();
        if (len < 0) {
            throw new Errno(Errno.EINVAL);
        }
        put(c, addr, v, Math.min(len, v.length));
        put(c, lenAddr, le4(v.length), 4);
    }

    static byte[] bytes(Call c, long addr, int len, int max) throws Errno {
        if (len < 0 || len > max) {
            throw new Errno(Errno.EINVAL);
        }
        if (len == 0) {
            return new byte[0];
        }
        if (c.scratch().read(c.tid(), addr, len) != len) {
            throw new Errno(Errno.EFAULT);
        }
        return java.util.Arrays.copyOf(c.scratch().bytes(len), len);
    }

    static void put(Call c, long addr, byte[] b, int n) throws Errno {
        if (n <= 0) {
            return;
        }
        if (c.scratch().write(c.tid(), addr, b, n) != n) {
            throw new Errno(Errno.EFAULT);
        }
    }

    static byte[] le4(int v) {
        return ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(v).array();
    }

    /** A struct msghdr of the caller. */
    private record Msg(long name, int namelen, long[] base, long[] len, long control) {
        static Msg read(Call c, long addr) throws Errno {
            ByteBuffer h = ByteBuffer.wrap(bytes(c, addr, 56, 56)).order(ByteOrder.LITTLE_ENDIAN);
            long iov = h.getLong(16), iovlen = h.getLong(24);
            if (iovlen < 0 || iovlen > 1024) {
                throw new Errno(Errno.EINVAL);
            }
            ByteBuffer v = ByteBuffer.wrap(bytes(c, iov, (int) iovlen * 16, 1024 * 16)).order(ByteOrder.LITTLE_ENDIAN);
            long[] b = new long[(int) iovlen], l = new long[(int) iovlen];
            for (int i = 0; i < iovlen; i++) {
                b[i] = v.getLong(16 * i);
                l[i] = v.getLong(16 * i + 8);
            }
            return new Msg(h.getLong(0), h.getInt(8), b, l, h.getLong(32));
        }

        long total() {
            long t = 0;
            for (long x : len) {
                t += Math.max(x, 0);
            }
            return t;
        }

        byte[] name(Call c) throws Errno {
            return name == 0 || namelen == 0 ? null : bytes(c, name, namelen, MAX_ADDR);
        }

        byte[] gather(Call c) throws Errno {
            java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
            for (int i = 0; i < base.length && out.size() < Scratch.DATA_SIZE; i++) {
                int n = (int) Math.min(len[i], Scratch.DATA_SIZE - out.size());
                out.write(bytes(c, base[i], n, Scratch.DATA_SIZE), 0, n);
            }
            return out.toByteArray();
        }

        void scatter(Call c, byte[] data, int n) throws Errno {
            int off = 0;
            for (int i = 0; i < base.length && off < n; i++) {
                int k = (int) Math.min(len[i], n - off);
                put(c, base[i], java.util.Arrays.copyOfRange(data, off, off + k), k);
                off += k;
            }
        }

        /** msg_namelen, msg_controllen (no ancillary data), msg_flags. */
        void finish(Call c, long addr, byte[] from, int flags) throws Errno {
            if (name != 0 && from != null) {
                put(c, name, from, Math.min(namelen, from.length));
                put(c, addr + 8, le4(from.length), 4);
            } else {
                put(c, addr + 8, le4(0), 4);
            }
            put(c, addr + 40, new byte[8], 8);
            put(c, addr + 48, le4(flags), 4);
        }
    }
}
