package org.viewos.core.internal.fuse;

import java.util.Arrays;

import org.viewos.core.api.Errno;
import org.viewos.core.api.FuseConnection;
import org.viewos.core.internal.ffi.Native;

/** Our end of a FUSE daemon's socketpair: one record a message, replies reassembled by length. */
final class SeqpacketConnection implements FuseConnection {
    private static final int POLLIN = 1, POLLERR = 8, POLLHUP = 0x10;
    private static final int EINTR = 4, EAGAIN = 11, ECONNRESET = 104, EPIPE = 32;
    private static final int SIGTERM = 15, SIGKILL = 9, WNOHANG = 1;

    private final int fd;
    private final int pid;
    private final Object sendLock = new Object();
    private final Object receiveLock = new Object();
    private final byte[] buffer = new byte[(1 << 20) + 4096];
    private volatile boolean closed;

    SeqpacketConnection(int fd, int pid) {
        this.fd = fd;
        this.pid = pid;
    }

    @Override
    public int pid() {
        return pid;
    }

    @Override
    public void send(byte[] request) throws Errno {
        if (request.length < 40) {
            throw new Errno(Errno.EINVAL, "a FUSE request has a 40-byte header");
        }
        synchronized (sendLock) {
            if (closed) {
                throw new Errno(Errno.ENODEV, "FUSE connection closed");
            }
            long n;
            do {
                n = Native.LIBC.write(fd, request, request.length);
            } while (n < 0 && Native.errno() == EINTR);
            if (n < 0) {
                int e = Native.errno();
                throw new Errno(e == EPIPE || e == ECONNRESET ? Errno.ENODEV : Errno.EIO, "FUSE daemon gone (errno " + e + ")");
            }
            if (n != request.length) {
                throw new Errno(Errno.EIO, "short write to the FUSE daemon");
            }
        }
    }

    @Override
    public byte[] receive(long timeoutMillis) throws Errno {
        synchronized (receiveLock) {
            byte[] first = record(timeoutMillis);
            if (first.length < 16) {
                throw new Errno(Errno.EIO, "FUSE reply shorter than its header (" + first.length + " bytes)");
            }
            int len = le32(first, 0);
            if (len < 16 || len > (1 << 24)) {
                throw new Errno(Errno.EIO, "FUSE reply with a bad length " + len);
            }
            if (len == first.length) {
                return first;
            }
            if (len < first.length) {
                throw new Errno(Errno.EIO, "FUSE reply longer (" + first.length + ") than its header says (" + len + ")");
            }
            // libfuse may splice one reply into several records
            byte[] all = Arrays.copyOf(first, len);
            int have = first.length;
            while (have < len) {
                byte[] more = record(timeoutMillis);
                if (have + more.length > len) {
                    throw new Errno(Errno.EIO, "FUSE reply records exceed its length " + len);
                }
                System.arraycopy(more, 0, all, have, more.length);
                have += more.length;
            }
            return all;
        }
    }

    private byte[] record(long timeoutMillis) throws Errno {
        if (closed) {
            throw new Errno(Errno.ENODEV, "FUSE connection closed");
        }
        long deadline = System.nanoTime() + timeoutMillis * 1_000_000L;
        int[] pfd = {fd, POLLIN};
        while (true) {
            long left = Math.max(0, (deadline - System.nanoTime()) / 1_000_000L);
            pfd[1] = POLLIN;
            int r = Native.LIBC.poll(pfd, 1, (int) Math.min(left, Integer.MAX_VALUE));
            if (r < 0 && Native.errno() == EINTR) {
                continue;
            }
            if (r == 0) {
                throw new Errno(Errno.ETIMEDOUT, "no answer from the FUSE daemon in " + timeoutMillis + " ms");
            }
            int revents = pfd[1] >>> 16;
            if ((revents & POLLIN) == 0 && (revents & (POLLHUP | POLLERR)) != 0) {
                throw new Errno(Errno.ENODEV, "the FUSE daemon has gone");
            }
            long n = Native.LIBC.read(fd, buffer, buffer.length);
            if (n < 0) {
                int e = Native.errno();
                if (e == EINTR || e == EAGAIN) {
                    continue;
                }
                throw new Errno(Errno.ENODEV, "reading from the FUSE daemon: errno " + e);
            }
            if (n == 0) {
                throw new Errno(Errno.ENODEV, "the FUSE daemon closed its end");
            }
            return Arrays.copyOf(buffer, (int) n);
        }
    }

    @Override
    public boolean alive() {
        if (pid <= 0) { // a program of the view: alive while its end is open
            int[] pfd = {fd, 0};
            return !closed && !(Native.LIBC.poll(pfd, 1, 0) == 1 && ((pfd[1] >>> 16) & (POLLHUP | POLLERR)) != 0);
        }
        int[] st = new int[1];
        return !closed && Native.LIBC.waitpid(pid, st, WNOHANG) == 0;
    }

    @Override
    public void close() {
        synchronized (sendLock) {
            if (closed) {
                return;
            }
            closed = true;
        }
        Native.LIBC.close(fd);
        if (pid <= 0) {
            return; // not our child: it sees its end close and goes
        }
        int[] st = new int[1];
        for (int i = 0; i < 100 && Native.LIBC.waitpid(pid, st, WNOHANG) == 0; i++) {
            if (i == 20) {
                Native.LIBC.kill(pid, SIGTERM);
            } else if (i == 60) {
                Native.LIBC.kill(pid, SIGKILL);
            }
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                Native.LIBC.kill(pid, SIGKILL);
                return;
            }
        }
    }

    private static int le32(byte[] b, int off) {
        return (b[off] & 0xff) | (b[off + 1] & 0xff) << 8 | (b[off + 2] & 0xff) << 16 | (b[off + 3] & 0xff) << 24;
    }
}
