package org.viewos.umfuse;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.List;

import org.viewos.core.api.Errno;
import org.viewos.core.api.FuseConnection;

/**
 * One FUSE daemon as the kernel sees it: one request at a time, each answered within
 * {@link #timeoutMillis} or the call fails with EIO (the view never hangs on a stuck daemon). A
 * daemon that has gone gives ENODEV. Replies to requests that timed out earlier, and notifications
 * (unique 0), are skipped.
 */
final class FuseSession {
    private final FuseConnection conn;
    private final String what;
    private final long timeoutMillis;
    private final int uid, gid;
    private long unique;
    private Fuse.InitOut init;
    private volatile boolean dead;
    /** umview's debug option: one line per request on the daemon's stderr. */
    private volatile boolean debug;

    void debug() {
        debug = true;
    }

    /** umview's fuseuid=/fusegid=: every request claims these ids (-1: the caller's, as the kernel says). */
    private volatile int forcedUid = -1, forcedGid = -1;

    void claim(int uid, int gid) {
        forcedUid = uid;
        forcedGid = gid;
    }

    FuseSession(FuseConnection conn, String what, long timeoutMillis, int uid, int gid) {
        this.conn = conn;
        this.what = what;
        this.timeoutMillis = timeoutMillis;
        this.uid = uid;
        this.gid = gid;
    }

    Fuse.InitOut init() {
        return init;
    }

    /** Sends one request and waits for its reply body; a negative error in the reply is thrown. */
    synchronized byte[] call(int opcode, long nodeid, byte[] body) throws Errno {
        return call(opcode, nodeid, body, timeoutMillis);
    }

    synchronized byte[] call(int opcode, long nodeid, byte[] body, long timeout) throws Errno {
        return call(opcode, nodeid, body, timeout, uid, gid);
    }

    /** As the caller {@code asUid}/{@code asGid} (the owner a daemon gives a new file). */
    synchronized byte[] call(int opcode, long nodeid, byte[] body, long timeout, int asUid, int asGid) throws Errno {
        if (dead) {
            throw new Errno(Errno.ENODEV, what + " has gone");
        }
        long u = ++unique;
        if (debug) {
            long t0 = System.nanoTime();
            try {
                byte[] r = exchange(opcode, u, nodeid, body, timeout, asUid, asGid);
                System.err.printf("umfuse: %s: opcode %d node %d: %d bytes (%d us)%n", what, opcode, nodeid, r.length,
                        (System.nanoTime() - t0) / 1000);
                return r;
            } catch (Errno e) {
                System.err.printf("umfuse: %s: opcode %d node %d: %s (%d us)%n", what, opcode, nodeid,
                        Errno.name(e.code()), (System.nanoTime() - t0) / 1000);
                throw e;
            }
        }
        return exchange(opcode, u, nodeid, body, timeout, asUid, asGid);
    }

    private byte[] exchange(int opcode, long u, long nodeid, byte[] body, long timeout, int asUid, int asGid)
            throws Errno {
        send(opcode, u, nodeid, asUid, asGid, body);
        long deadline = System.nanoTime() + timeout * 1_000_000L;
        while (true) {
            byte[] m = receive(deadline, opcode, timeout);
            if (Fuse.le(m).getLong(8) == u) {
                return body(m);
            } // else a notification, or a late reply to a request that timed out
        }
    }

    /** Sends one request, with the ids fuseuid=/fusegid= force; a daemon that has gone is noted. */
    private void send(int opcode, long u, long nodeid, int asUid, int asGid, byte[] body) throws Errno {
        try {
            conn.send(Fuse.request(opcode, u, nodeid, forcedUid >= 0 ? forcedUid : asUid,
                    forcedGid >= 0 ? forcedGid : asGid, 0, body));
        } catch (Errno e) {
            if (e.code() == Errno.ENODEV) {
                dead = true;
            }
            throw e;
        }
    }

    /** The next reply (header present) before {@code deadline} (nanoTime), else EIO naming the opcode awaited. */
    private byte[] receive(long deadline, int opcode, long timeout) throws Errno {
        long left = (deadline - System.nanoTime()) / 1_000_000L;
        if (left <= 0) {
            throw new Errno(Errno.EIO, what + ": no reply to opcode " + opcode + " in " + timeout + " ms");
        }
        byte[] m;
        try {
            m = conn.receive(left);
        } catch (Errno e) {
            if (e.code() == Errno.ETIMEDOUT) {
                throw new Errno(Errno.EIO, what + ": no reply to opcode " + opcode + " in " + timeout + " ms");
            }
            if (e.code() == Errno.ENODEV) {
                dead = true;
            }
            throw e;
        }
        if (m.length < Fuse.OUT_HEADER) {
            throw new Errno(Errno.EIO, what + ": short reply");
        }
        return m;
    }

    /** A reply's body, or the error it carries (a length that lies, an errno out of range: EIO). */
    private byte[] body(byte[] m) throws Errno {
        ByteBuffer h = Fuse.le(m);
        int len = h.getInt(), error = h.getInt();
        if (len != m.length) {
            throw new Errno(Errno.EIO, what + ": reply length " + len + " != " + m.length);
        }
        if (error != 0) {
            int code = -error;
            throw new Errno(code > 0 && code < 4096 ? code : Errno.EIO);
        }
        return Arrays.copyOfRange(m, Fuse.OUT_HEADER, m.length);
    }

    /** Sends a request that has no reply (FORGET). */
    synchronized void post(int opcode, long nodeid, byte[] body) {
        if (dead) {
            return;
        }
        try {
            conn.send(Fuse.request(opcode, ++unique, nodeid, uid, gid, 0, body));
        } catch (Errno e) {
            dead = true;
        }
    }

    /** FUSE_INIT with the kernel's flags; the daemon must speak major 7. */
    Fuse.InitOut handshake() throws Errno {
        byte[] r = call(Fuse.INIT, 0, Fuse.initIn(Fuse.KERNEL_FLAGS, Fuse.MAX_READ));
        try {
            init = Fuse.initOut(r);
        } catch (Fuse.ProtocolException e) {
            throw new Errno(Errno.EIO, what + ": " + e.getMessage());
        }
        if (init.major() != Fuse.MAJOR) {
            throw new Errno(Errno.EIO, what + " speaks FUSE " + init.major() + "." + init.minor());
        }
        return init;
    }

    /** Requests a batch holds at most: the replies must fit the socket's buffer while we still send. */
    private static final int BATCH = 32;

    /**
     * LOOKUPs of many names of one directory, pipelined: a batch of requests goes out before the
     * replies are read, so the daemon answers them back to back instead of one round trip each.
     * Each result is a {@link Fuse.Entry} or the {@link Errno} its reply carried.
     */
    synchronized List<Object> lookupAll(long parent, List<String> names) throws Errno {
        Object[] out = new Object[names.size()];
        for (int start = 0; start < names.size(); start += BATCH) {
            if (dead) {
                throw new Errno(Errno.ENODEV, what + " has gone");
            }
            int end = Math.min(start + BATCH, names.size());
            long first = unique + 1;
            for (int i = start; i < end; i++) {
                send(Fuse.LOOKUP, ++unique, parent, uid, gid, Fuse.name(names.get(i)));
            }
            long deadline = System.nanoTime() + timeoutMillis * 1_000_000L;
            for (int left = end - start; left > 0;) {
                byte[] m = receive(deadline, Fuse.LOOKUP, timeoutMillis);
                long k = Fuse.le(m).getLong(8) - first;
                if (k < 0 || k >= end - start || out[start + (int) k] != null) {
                    continue; // a notification, or a late reply to a request that timed out
                }
                int i = start + (int) k;
                left--;
                try {
                    byte[] body = body(m);
                    out[i] = decode(() -> Fuse.entryOut(body));
                } catch (Errno e) {
                    out[i] = e;
                }
                if (debug) {
                    System.err.printf("umfuse: %s: opcode %d node %d: %s (batched)%n", what, Fuse.LOOKUP, parent,
                            out[i] instanceof Errno e ? Errno.name(e.code()) : (m.length - Fuse.OUT_HEADER) + " bytes");
                }
            }
        }
        return Arrays.asList(out);
    }

    Fuse.Entry lookup(long parent, String name) throws Errno {
        return decode(() -> Fuse.entryOut(call(Fuse.LOOKUP, parent, Fuse.name(name))));
    }

    Fuse.Attr getattr(long nodeid) throws Errno {
        return decode(() -> Fuse.attrOut(call(Fuse.GETATTR, nodeid, Fuse.getattrIn())));
    }

    String readlink(long nodeid) throws Errno {
        byte[] r = call(Fuse.READLINK, nodeid, new byte[0]);
        int n = r.length;
        while (n > 0 && r[n - 1] == 0) {
            n--;
        }
        return new String(r, 0, n, java.nio.charset.StandardCharsets.ISO_8859_1);
    }

    long open(long nodeid, int flags) throws Errno {
        return decode(() -> Fuse.openOut(call(Fuse.OPEN, nodeid, Fuse.openIn(flags))));
    }

    long opendir(long nodeid) throws Errno {
        return decode(() -> Fuse.openOut(call(Fuse.OPENDIR, nodeid, Fuse.openIn(0))));
    }

    byte[] read(long nodeid, long fh, long offset, int size) throws Errno {
        return call(Fuse.READ, nodeid, Fuse.readIn(fh, offset, size, 0));
    }

    List<Fuse.Dirent> readdir(long nodeid, long fh, long offset) throws Errno {
        return decode(() -> Fuse.dirents(call(Fuse.READDIR, nodeid, Fuse.readIn(fh, offset, Fuse.MAX_READ, 0))));
    }

    void release(long nodeid, long fh, boolean dir) {
        try {
            call(dir ? Fuse.RELEASEDIR : Fuse.RELEASE, nodeid, Fuse.releaseIn(fh, 0));
        } catch (Errno e) {
            // nothing to do: the handle is gone either way
        }
    }

    /** The largest WRITE the daemon takes: its max_write, at most {@link Fuse#MAX_READ}; 4 KiB without BIG_WRITES. */
    int maxWrite() {
        if (init == null || (init.flags() & Fuse.BIG_WRITES) == 0 && init.minor() < 31) {
            return 4096;
        }
        int m = init.maxWrite();
        return m <= 0 ? 4096 : Math.min(m, Fuse.MAX_READ);
    }

    Fuse.Entry mkdir(long parent, String name, int mode, int asUid, int asGid) throws Errno {
        return decode(() -> Fuse.entryOut(call(Fuse.MKDIR, parent, Fuse.mkdirIn(mode, name), timeoutMillis, asUid, asGid)));
    }

    Fuse.Entry mknod(long parent, String name, int mode, int rdev, int asUid, int asGid) throws Errno {
        return decode(() -> Fuse.entryOut(call(Fuse.MKNOD, parent, Fuse.mknodIn(mode, rdev, name), timeoutMillis,
                asUid, asGid)));
    }

    Fuse.Created create(long parent, String name, int mode, int asUid, int asGid) throws Errno {
        return decode(() -> Fuse.createOut(call(Fuse.CREATE, parent,
                Fuse.createIn(Fuse.O_WRONLY | Fuse.O_CREAT | Fuse.O_EXCL, mode, name), timeoutMillis, asUid, asGid)));
    }

    Fuse.Entry symlink(long parent, String name, String target, int asUid, int asGid) throws Errno {
        return decode(() -> Fuse.entryOut(call(Fuse.SYMLINK, parent, Fuse.names(name, target), timeoutMillis,
                asUid, asGid)));
    }

    Fuse.Entry link(long node, long newParent, String name) throws Errno {
        return decode(() -> Fuse.entryOut(call(Fuse.LINK, newParent, Fuse.linkIn(node, name))));
    }

    void unlink(long parent, String name) throws Errno {
        call(Fuse.UNLINK, parent, Fuse.name(name));
    }

    void rmdir(long parent, String name) throws Errno {
        call(Fuse.RMDIR, parent, Fuse.name(name));
    }

    void rename(long parent, String name, long newParent, String newName) throws Errno {
        call(Fuse.RENAME, parent, Fuse.renameIn(newParent, name, newName));
    }

    Fuse.Attr setattr(long nodeid, int valid, long fh, long size, long atimeNs, long mtimeNs, int mode, int uid,
            int gid) throws Errno {
        return decode(() -> Fuse.attrOut(call(Fuse.SETATTR, nodeid,
                Fuse.setattrIn(valid, fh, size, atimeNs, mtimeNs, mode, uid, gid))));
    }

    /** Writes {@code len} bytes (at most {@link #maxWrite()}); returns how many the daemon took. */
    int write(long nodeid, long fh, long offset, byte[] data, int off, int len) throws Errno {
        return decode(() -> Fuse.writeOut(call(Fuse.WRITE, nodeid, Fuse.writeIn(fh, offset, data, off, len))));
    }

    /** FLUSH (what close(2) sends); a daemon without it (ENOSYS) is fine. */
    void flush(long nodeid, long fh) throws Errno {
        try {
            call(Fuse.FLUSH, nodeid, Fuse.flushIn(fh));
        } catch (Errno e) {
            if (e.code() != Errno.ENOSYS) {
                throw e;
            }
        }
    }

    boolean dead() {
        return dead;
    }

    Fuse.StatFs statfs() throws Errno {
        return decode(() -> Fuse.statfsOut(call(Fuse.STATFS, 1, new byte[0])));
    }

    void forget(long nodeid, long nlookup) {
        if (nlookup > 0 && nodeid != 1) {
            post(Fuse.FORGET, nodeid, Fuse.forgetIn(nlookup));
        }
    }

    /**
     * DESTROY (a writable file system stores everything it holds when it answers: fuse2fs flushes its
     * caches and marks the file system clean), then close the connection (the daemon exits).
     */
    void close() {
        try {
            if (!dead && init != null) {
                call(Fuse.DESTROY, 0, new byte[0], timeoutMillis);
            }
        } catch (Errno e) {
            // going anyway
        }
        dead = true;
        conn.close();
    }

    boolean alive() {
        return !dead && conn.alive();
    }

    private interface Decoder<T> {
        T get() throws Errno, Fuse.ProtocolException;
    }

    private <T> T decode(Decoder<T> d) throws Errno {
        try {
            return d.get();
        } catch (Fuse.ProtocolException e) {
            throw new Errno(Errno.EIO, what + ": " + e.getMessage());
        }
    }
}
