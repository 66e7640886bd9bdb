package org.viewos.core.internal.dispatch;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.function.BiPredicate;

import org.viewos.core.api.Errno;
import org.viewos.core.api.FileStat;
import org.viewos.core.api.OpenFile;
import org.viewos.core.internal.arch.Regs;
import org.viewos.core.internal.arch.SyscallTable;
import org.viewos.core.internal.ffi.Scratch;
import org.viewos.core.internal.trace.SeccompFilter;
import org.viewos.core.internal.trace.Tracee;

/**
 * The fd calls on virtual files (the {@link SeccompFilter#FD_CALLS}): data calls go to the module's
 * {@link OpenFile}, with the position kept here; calls that only manage the descriptor (close, dup,
 * fcntl, FIONBIO) run in the kernel on the placeholder; calls a virtual file cannot take (mmap,
 * sendfile, getdents...) get the errno the kernel gives for a device that lacks them.
 */
final class FdCalls {
    private static final int CHUNK = Scratch.DATA_SIZE;
    private static final int IOV_MAX = 1024;
    private static final int SEEK_SET = 0, SEEK_CUR = 1, SEEK_END = 2;
    private static final int AT_EMPTY_PATH = 0x1000;
    private static final int F_DUPFD = 0, F_DUPFD_CLOEXEC = 1030;
    private static final int FIONBIO = 0x5421, FIOCLEX = 0x5451, FIONCLEX = 0x5450, FIOASYNC = 0x5452;
    private static final int O_PATH = 010000000;
    private static final int POLLIN = 1;
    private static final long ERESTARTSYS = 512, ERESTARTNOHAND = 514;

    private final VirtualFiles files;
    private final Map<Integer, String> names = new HashMap<>();
    private final int ppoll;
    private BiPredicate<Tracee, Integer> cover = (t, fd) -> false;

    FdCalls(VirtualFiles files, SyscallTable table) {
        this.files = files;
        for (String[] c : SeccompFilter.FD_CALLS) {
            names.put(table.number(c[0]), c[0]);
        }
        this.ppoll = table.number("ppoll");
    }

    private SocketCalls sockets;

    void sockets(SocketCalls sockets) {
        this.sockets = sockets;
    }

    private BiPredicate<Tracee, Integer> coverAtExit = (t, fd) -> false;

    void coverAtExit(BiPredicate<Tracee, Integer> c) {
        this.coverAtExit = c;
    }

    /**
     * At the exit of a call that made a virtual file's descriptor: makes sure the process's filter
     * watches the number it got (another thread may have taken the predicted one).
     */
    void coveredAtExit(Tracee t, long fd) {
        if (fd >= 0 && !t.coversFd((int) fd) && !coverAtExit.test(t, (int) fd)) {
            java.util.logging.Logger.getLogger(FdCalls.class.getName()).warning("viewos: descriptor " + fd
                    + " of a virtual file is not watched in process " + t.tgid());
        }
    }

    void cover(BiPredicate<Tracee, Integer> cover) {
        this.cover = cover;
    }

    /**
     * Makes sure the process's filters trace descriptor {@code fd} before a virtual file gets it.
     *
     * @return false when the call was replaced by the filter's injection and must run again
     */
    boolean covered(Call c, int fd) {
        if (c.t().coversFd(fd) || !cover.test(c.t(), fd)) {
            return true;
        }
        c.push(c.regs().restarted());
        return false;
    }

    /** The lowest free descriptor number of the caller's process, at least {@code from}. */
    static int lowestFree(Tracee t, int from) {
        String[] l = new java.io.File("/proc/" + t.tgid() + "/fd").list();
        java.util.BitSet used = new java.util.BitSet();
        if (l != null) {
            for (String s : l) {
                used.set(Integer.parseInt(s));
            }
        }
        return used.nextClearBit(Math.max(from, 0));
    }

    /**
     * Serves an fd call if it names a virtual file.
     *
     * @return whether it did (else the call goes on as usual)
     */
    boolean serve(Call c) throws Errno {
        String name = names.get((int) c.regs().syscall());
        if (name == null || files.isEmpty()) {
            return false;
        }
        Regs r = c.regs();
        int tid = c.tid();
        VirtualFiles.Entry e = files.byFd(tid, fd(r, name.equals("mmap") ? 4 : 0));
        if (e == null) {
            switch (name) {
                case "sendfile", "tee" -> e = files.byFd(tid, fd(r, 1));
                case "splice", "copy_file_range" -> e = files.byFd(tid, fd(r, 2));
                default -> {
                    return false;
                }
            }
            if (e == null) {
                return false;
            }
            throw new Errno(Errno.EINVAL);
        }
        if ((e.flags & O_PATH) != 0 && !name.equals("close") && !name.equals("fcntl") && !name.startsWith("dup")
                && !name.equals("fstat") && !name.equals("newfstatat") && !name.equals("statx")) {
            throw new Errno(Errno.EBADF);
        }
        Tracee t = c.t();
        switch (name) {
            case "close" -> t.atExit(res -> {
                if (res == 0) {
                    files.collect();
                }
                return res;
            });
            case "dup" -> covered(c, lowestFree(t, 0));
            case "dup2", "dup3" -> covered(c, fd(r, 1));
            case "fcntl" -> {
                int cmd = (int) r.arg(1);
                if (cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC) {
                    covered(c, lowestFree(t, (int) r.arg(2)));
                }
            }
            case "read" -> done(c, read(c, e, r.arg(1), r.arg(2), -1));
            case "pread64" -> done(c, read(c, e, r.arg(1), r.arg(2), offset(e, r.arg(3))));
            case "readv" -> done(c, vector(c, e, true, -1));
            case "preadv", "preadv2" -> done(c, vector(c, e, true, offset(e, r.arg(3))));
            case "write" -> done(c, write(c, e, r.arg(1), r.arg(2), -1));
            case "pwrite64" -> done(c, write(c, e, r.arg(1), r.arg(2), offset(e, r.arg(3))));
            case "writev" -> done(c, vector(c, e, false, -1));
            case "pwritev", "pwritev2" -> done(c, vector(c, e, false, offset(e, r.arg(3))));
            case "lseek" -> c.finish(lseek(e, r.arg(1), (int) r.arg(2)));
            case "ioctl" -> ioctl(c, e);
            case "fstat" -> {
                StatBuf.stat(c, r.arg(1), VirtualFiles.stat(e.file, e.mount), e.viewPath);
                c.finish(0);
            }
            case "newfstatat", "statx" -> {
                String path = c.scratch().readString(tid, r.arg(1), 2);
                int flags = (int) (name.equals("statx") ? r.arg(2) : r.arg(3));
                if (path == null || !path.isEmpty() || (flags & AT_EMPTY_PATH) == 0) {
                    throw new Errno(path == null ? Errno.EFAULT : path.isEmpty() ? Errno.ENOENT : Errno.ENOTDIR);
                }
                FileStat s = VirtualFiles.stat(e.file, e.mount);
                if (name.equals("statx")) {
                    StatBuf.statx(c, r.arg(4), s, e.viewPath);
                } else {
                    StatBuf.stat(c, r.arg(2), s, e.viewPath);
                }
                c.finish(0);
            }
            case "fsync", "fdatasync", "sync_file_range" -> {
                e.open.sync();
                c.finish(0);
            }
            case "mmap" -> throw new Errno(Errno.ENODEV, "virtual files cannot be mapped");
            case "getdents", "getdents64" -> throw new Errno(Errno.ENOTDIR);
            case "ftruncate", "readahead" -> throw new Errno(Errno.EINVAL);
            case "fallocate" -> throw new Errno(Errno.EOPNOTSUPP);
            case "fadvise64" -> {
                if (e.stream) {
                    throw new Errno(Errno.ESPIPE);
                }
                c.finish(0);
            }
            case "sendfile", "splice", "tee", "copy_file_range" -> throw new Errno(Errno.EINVAL);
            default -> sockets.serve(c, name, e);
        }
        return true;
    }

    private static int fd(Regs r, int arg) {
        return (int) r.arg(arg);
    }

    private static long offset(VirtualFiles.Entry e, long off) throws Errno {
        if (e.stream) {
            throw new Errno(Errno.ESPIPE);
        }
        if (off < 0) {
            throw new Errno(Errno.EINVAL);
        }
        return off;
    }

    /** read/pread: {@code at} < 0 reads at (and advances) the file position. */
    private long read(Call c, VirtualFiles.Entry e, long addr, long count, long at) throws Errno {
        if ((e.flags & 3) == 1) {
            throw new Errno(Errno.EBADF);
        }
        if (count < 0) {
            throw new Errno(Errno.EINVAL);
        }
        long pos = at >= 0 ? at : e.position;
        long done = 0;
        while (done < count) {
            int n = (int) Math.min(count - done, CHUNK);
            ByteBuffer b = ByteBuffer.allocate(n);
            int got;
            long off = pos + done;
            try {
                got = module(e, () -> e.open.read(off, b));
            } catch (Errno err) {
                if (done > 0) {
                    break;
                }
                if (err.code() == Errno.EAGAIN && e.stream && !nonblocking(c.t(), c.regs())) {
                    waitReadable(c);
                    return WAITING;
                }
                throw err;
            }
            if (got <= 0) {
                break;
            }
            if (c.scratch().write(c.tid(), addr + done, b.array(), got) != got) {
                if (done > 0) {
                    break;
                }
                throw new Errno(Errno.EFAULT);
            }
            done += got;
            if (got < n || e.stream) {
                break;
            }
        }
        if (at < 0 && !e.stream) {
            e.position = pos + done;
        }
        return done;
    }

    private long write(Call c, VirtualFiles.Entry e, long addr, long count, long at) throws Errno {
        if ((e.flags & 3) == 0) {
            throw new Errno(Errno.EBADF);
        }
        if (count < 0) {
            throw new Errno(Errno.EINVAL);
        }
        long pos = at >= 0 ? at : e.position;
        long done = 0;
        while (done < count || count == 0) {
            int n = (int) Math.min(count - done, CHUNK);
            long got = n == 0 ? 0 : c.scratch().read(c.tid(), addr + done, n);
            if (got != n) {
                if (done > 0) {
                    break;
                }
                throw new Errno(Errno.EFAULT);
            }
            ByteBuffer b = ByteBuffer.wrap(java.util.Arrays.copyOf(c.scratch().bytes(n), n));
            long off = pos + done;
            int put;
            try {
                put = module(e, () -> e.open.write(off, b));
            } catch (Errno err) {
                if (done > 0) {
                    break;
                }
                if (err.code() == Errno.EAGAIN && e.stream && !nonblocking(c.t(), c.regs())) {
                    retryLater(c);
                    return WAITING;
                }
                throw err;
            }
            done += Math.max(put, 0);
            if (put < n || n == 0) {
                break;
            }
        }
        if (at < 0 && !e.stream) {
            e.position = pos + done;
        }
        return done;
    }

    /** readv/writev and their positioned variants: iovecs one after the other, stopping short. */
    private long vector(Call c, VirtualFiles.Entry e, boolean reading, long at) throws Errno {
        long iov = c.regs().arg(1);
        long cnt = c.regs().arg(2);
        if (cnt < 0 || cnt > IOV_MAX) {
            throw new Errno(Errno.EINVAL);
        }
        if (cnt == 0) {
            return 0;
        }
        int len = (int) cnt * 16;
        if (c.scratch().read(c.tid(), iov, len) != len) {
            throw new Errno(Errno.EFAULT);
        }
        ByteBuffer v = ByteBuffer.wrap(java.util.Arrays.copyOf(c.scratch().bytes(len), len)).order(ByteOrder.LITTLE_ENDIAN);
        long total = 0;
        long saved = e.position;
        for (int i = 0; i < cnt; i++) {
            long base = v.getLong(16 * i), l = v.getLong(16 * i + 8);
            if (l == 0) {
                continue;
            }
            long pos = at >= 0 ? at + total : -1;
            long n;
            try {
                n = reading ? read(c, e, base, l, pos) : write(c, e, base, l, pos);
            } catch (Errno err) {
                if (total > 0) {
                    break;
                }
                throw err;
            }
            if (n == WAITING) {
                e.position = saved;
                return WAITING;
            }
            total += n;
            if (n < l || e.stream) {
                break;
            }
        }
        return total;
    }

    private long lseek(VirtualFiles.Entry e, long off, int whence) throws Errno {
        if (e.stream) {
            throw new Errno(Errno.ESPIPE);
        }
        long base = switch (whence) {
            case SEEK_SET -> 0;
            case SEEK_CUR -> e.position;
            case SEEK_END -> size(e);
            default -> throw new Errno(Errno.EINVAL);
        };
        long to = base + off;
        if (to < 0) {
            throw new Errno(Errno.EINVAL);
        }
        e.position = to;
        return to;
    }

    private static long size(VirtualFiles.Entry e) throws Errno {
        try {
            return e.open.size();
        } catch (RuntimeException ex) {
            throw new Errno(Errno.EIO, "module " + e.mount.module() + ": " + ex);
        }
    }

    private static void done(Call c, long result) {
        if (result != WAITING) {
            c.finish(result);
        }
    }

    private void ioctl(Call c, VirtualFiles.Entry e) throws Errno {
        int req = (int) c.regs().arg(1);
        if (req == FIONBIO || req == FIOCLEX || req == FIONCLEX || req == FIOASYNC) {
            return; // about the descriptor: the kernel does it on the placeholder
        }
        long arg = c.regs().arg(2);
        Tracee t = c.t();
        OpenFile.Memory mem = new OpenFile.Memory() {
            @Override
            public byte[] read(long address, int length) throws Errno {
                Scratch s = c.scratch(); // the module may call from a thread of its own
                if (length < 0 || length > CHUNK) {
                    throw new Errno(Errno.EINVAL);
                }
                if (s.read(t.tid(), address, length) != length) {
                    throw new Errno(Errno.EFAULT);
                }
                return java.util.Arrays.copyOf(s.bytes(length), length);
            }

            @Override
            public void write(long address, byte[] data) throws Errno {
                Scratch s = c.scratch();
                if (data.length > CHUNK || s.write(t.tid(), address, data, data.length) != data.length) {
                    throw new Errno(Errno.EFAULT);
                }
            }
        };
        long[] res = new long[1];
        module(e, () -> {
            res[0] = e.open.ioctl(req, arg, mem);
            return 0;
        });
        c.finish(res[0]);
    }

    /** What {@link #read} returns when it turned the call into a wait: the registers are set. */
    private static final long WAITING = Long.MIN_VALUE;

    /**
     * A blocking read of a stream with nothing to read: the call becomes ppoll on the placeholder
     * (readable when the module says so); when it returns the read runs again, when a signal comes
     * first it is restarted or fails with EINTR as the signal's SA_RESTART says.
     */
    void waitReadable(Call c) {
        Regs orig = c.regs();
        long at = c.belowStack(8);
        byte[] pfd = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN)
                .putInt((int) orig.arg(0)).putShort((short) POLLIN).putShort((short) 0).array();
        if (c.scratch().write(c.tid(), at, pfd, 8) != 8) {
            c.finish(-Errno.EFAULT);
            return;
        }
        c.push(orig.call(ppoll, at, 1, 0, 0, 8));
        c.t().atExitRegs(after -> {
            long res = after.result();
            if (res > 0) {
                return orig.restarted();
            }
            if (res == -ERESTARTNOHAND || res == -Errno.EINTR || res == -ERESTARTSYS) {
                return orig.withResult(-ERESTARTSYS);
            }
            return orig.withResult(res);
        });
    }

    /**
     * The call cannot go on yet and has no readiness to wait for (a full send buffer, a connection
     * being made): it becomes a 1 ms ppoll, then runs again; a signal meanwhile restarts it or fails
     * it with EINTR as SA_RESTART says.
     */
    void retryLater(Call c) {
        Regs orig = c.regs();
        long at = c.belowStack(16);
        byte[] ts = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(0).putLong(1_000_000).array();
        if (c.scratch().write(c.tid(), at, ts, 16) != 16) {
            c.finish(-Errno.EFAULT);
            return;
        }
        c.push(orig.call(ppoll, 0, 0, at, 0, 8));
        c.t().atExitRegs(after -> {
            long res = after.result();
            if (res == -ERESTARTNOHAND || res == -Errno.EINTR || res == -ERESTARTSYS) {
                return orig.withResult(-ERESTARTSYS);
            }
            return orig.restarted();
        });
    }

    /** Whether the descriptor is in non-blocking mode now (fcntl may have changed it since open). */
    static boolean nonblocking(Tracee t, Regs r) {
        try {
            for (String l : Files.readAllLines(Path.of("/proc/" + t.tid() + "/fdinfo/" + (int) r.arg(0)))) {
                if (l.startsWith("flags:")) {
                    return (Long.parseLong(l.substring(6).strip(), 8) & 04000) != 0;
                }
            }
        } catch (IOException | RuntimeException e) {
            return false;
        }
        return false;
    }

    @FunctionalInterface
    private interface ModuleCall {
        int call() throws Errno;
    }

    /** A module call: its Errno stands, any other failure becomes EIO for this call only. */
    private static int module(VirtualFiles.Entry e, ModuleCall call) throws Errno {
        try {
            return call.call();
        } catch (Errno err) {
            throw err;
        } catch (RuntimeException | LinkageError ex) {
            throw new Errno(Errno.EIO, "module " + e.mount.module() + ": " + ex);
        }
    }
}
