package org.viewos.umnet;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;

import org.viewos.core.api.Errno;
import org.viewos.core.api.SocketFile;

/**
 * What every lwip socket shares: its lwip descriptor, the lock that keeps a second thread out of
 * lwip for the same socket (lwip's replies share one mailbox per socket), readiness, and what
 * happens when the stack goes away.
 */
abstract class SocketBase implements SocketFile {
    static final int SOL_SOCKET = 1, SO_TYPE = 3, SO_ERROR = 4, SO_SNDBUF = 7, SO_RCVBUF = 8,
            SO_PROTOCOL = 38, SO_DOMAIN = 39;
    static final int ADDR = 128;
    static final int MSG_PEEK = 0x2, MSG_TRUNC = 0x20, MSG_OOB = 0x1;

    final LwipStack stack;
    final Lwip lw;
    final int fd;
    final int domain, type;
    final ReentrantLock lock = new ReentrantLock();
    /**
     * One thread at a time of ours inside lwip's socket layer, whatever the socket (lwip's socket
     * table and select lists are shared by all sockets), except lwip_connect, which waits for the
     * handshake holding only its socket's lock. A call that cannot have it within 200 ms gives
     * EAGAIN (the core retries it), never a blocked tracer.
     */
    static final ReentrantLock BIG = new ReentrantLock();
    volatile Readiness readiness = r -> { };
    volatile boolean dead;
    volatile boolean closed;

    SocketBase(LwipStack stack, int fd, int domain, int type) {
        this.stack = stack;
        this.lw = stack.lw;
        this.fd = fd;
        this.domain = domain;
        this.type = type;
    }

    /** Enters lwip for this socket; EAGAIN when another thread is inside for long (a connect). */
    final void enter() throws Errno {
        alive();
        boolean got;
        try {
            got = lock.tryLock(200, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new Errno(Errno.EINTR);
        }
        if (!got) {
            throw new Errno(Errno.EAGAIN, "socket busy in lwip");
        }
        if (dead) {
            lock.unlock();
            throw gone();
        }
        try {
            got = BIG.tryLock(200, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            got = false;
        }
        if (!got) {
            lock.unlock();
            throw new Errno(Errno.EAGAIN, "lwip busy");
        }
    }

    final void leave() {
        BIG.unlock();
        lock.unlock();
    }

    /** Both locks, waiting (for the pump, close and setup). */
    final void lockAll() {
        lock.lock();
        BIG.lock();
    }

    final boolean tryLockAll() {
        if (!lock.tryLock()) {
            return false;
        }
        BIG.lock();
        return true;
    }

    final void unlockAll() {
        BIG.unlock();
        lock.unlock();
    }

    final void alive() throws Errno {
        if (dead) {
            throw gone();
        }
        if (closed) {
            throw new Errno(Errno.EBADF);
        }
    }

    Errno gone() {
        return new Errno(Errno.ENETDOWN, "the stack was unmounted");
    }

    /** lwip's getsockname or getpeername, as lwip answers it. */
    final byte[] name(long fn, String call) throws Errno {
        long p = lw.na.malloc(ADDR + 8);
        enter();
        try {
            lw.writeInt(p + ADDR, ADDR);
            int rc = lw.icall(fn, fd, p, p + ADDR);
            if (rc < 0) {
                throw failure(lw.errno(), call);
            }
            int len = Math.min(lw.readInt(p + ADDR), ADDR);
            return lw.na.read(p, len);
        } finally {
            leave();
            lw.na.free(p);
        }
    }

    /** The stack is going away: never call lwip for this socket again; wake whoever waits. */
    void kill() {
        dead = true;
        readiness.readable(true);
    }

    /** An lwip failure as Errno (the errno lwip left, EIO when it left none). */
    static Errno failure(int err, String call) {
        return new Errno(err > 0 ? err : Errno.EIO, call);
    }

    static byte[] intBytes(int v) {
        return new byte[] {(byte) v, (byte) (v >> 8), (byte) (v >> 16), (byte) (v >> 24)};
    }

    static byte[] trim(byte[] v, int max) {
        if (v.length <= max) {
            return v;
        }
        return java.util.Arrays.copyOf(v, Math.max(max, 0));
    }

    static int intOf(byte[] v) throws Errno {
        if (v == null || v.length < 4) {
            throw new Errno(Errno.EINVAL);
        }
        return (v[0] & 0xff) | (v[1] & 0xff) << 8 | (v[2] & 0xff) << 16 | (v[3] & 0xff) << 24;
    }
}
