package org.viewos.core.internal.dispatch;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.logging.Logger;

import org.viewos.core.api.Errno;
import org.viewos.core.api.FileSystem;
import org.viewos.core.internal.arch.Regs;
import org.viewos.core.internal.arch.SyscallTable;
import org.viewos.core.internal.arch.SyscallTable.Entry;
import org.viewos.core.internal.arch.SyscallTable.PathArg;
import org.viewos.core.internal.ffi.Native;
import org.viewos.core.internal.ffi.Scratch;
import org.viewos.core.internal.trace.FsState;
import org.viewos.core.internal.trace.Ptrace;
import org.viewos.core.internal.trace.Tracee;
import org.viewos.core.internal.vfs.MountTable;
import org.viewos.core.internal.vfs.PathResolver;
import org.viewos.core.internal.vfs.PathResolver.Resolution;

/** Serves seccomp stops: path translation and the view's cwd. Runs on the tracer thread. */
public final class Dispatcher {
    private static final Logger LOG = Logger.getLogger(Dispatcher.class.getName());
    private static final int AT_FDCWD = -100;
    private static final long AT_SYMLINK_NOFOLLOW = 0x100, AT_SYMLINK_FOLLOW = 0x400, AT_EMPTY_PATH = 0x1000;
    private static final long O_ACCMODE = 3, O_CREAT = 0x40, O_EXCL = 0x80, O_TRUNC = 0x200,
            O_NOFOLLOW = 0x20000;
    private static final int PATH_MAX = 4096;
    /** Below the x86_64 red zone: where rewritten paths are written in the tracee's stack. */
    private static final int STACK_GAP = 256;

    private final SyscallTable table = SyscallTable.x86_64();
    private final ViewState view;
    private final int chdir, fchdir, getcwd;

    public Dispatcher(ViewState view) {
        this.view = view;
        this.chdir = table.number("chdir");
        this.fchdir = table.number("fchdir");
        this.getcwd = table.number("getcwd");
    }

    /** Syscalls traced besides the table's path and cwd classes (none yet). */
    public List<Integer> extraTracedSyscalls() {
        return List.of();
    }

    /** Handles a seccomp stop; returns the ptrace request to resume with. */
    public int onSeccomp(Tracee t, Ptrace p) {
        MountTable mounts = view.mounts();
        FsState fs = t.fs();
        if (mounts.isEmpty() && (fs == null || fs.viewCwd() == null)) {
            return Ptrace.PTRACE_CONT; // nothing in this view can change the call's meaning
        }
        Regs regs = p.getRegs(t.tid());
        if (regs == null) {
            return Ptrace.PTRACE_CONT;
        }
        Entry e = table.get(regs.syscall());
        if (e == null) {
            return Ptrace.PTRACE_CONT;
        }
        try {
            if (e.number() == getcwd) {
                getcwd(t, p, regs);
            } else if (e.number() == fchdir) {
                t.atExit(r -> {
                    if (r == 0 && t.fs() != null) {
                        t.fs().setViewCwd(null);
                    }
                });
            } else if (e.kind() == SyscallTable.Kind.PATH) {
                paths(t, p, regs, e, mounts);
            }
        } catch (Errno err) {
            p.setRegs(t.tid(), regs.skipped(-err.code()));
        }
        return Ptrace.PTRACE_CONT;
    }

    private void getcwd(Tracee t, Ptrace p, Regs regs) throws Errno {
        String cwd = t.fs() == null ? null : t.fs().viewCwd();
        if (cwd == null) {
            return;
        }
        byte[] b = Native.cpath(cwd);
        if (regs.arg(1) < b.length) {
            throw new Errno(Errno.ERANGE);
        }
        if (p.scratch().write(t.tid(), regs.arg(0), b, b.length) < 0) {
            throw new Errno(Errno.EFAULT);
        }
        p.setRegs(t.tid(), regs.skipped(b.length));
    }

    private void paths(Tracee t, Ptrace p, Regs regs, Entry e, MountTable mounts) throws Errno {
        Scratch s = p.scratch();
        List<int[]> argIdx = new ArrayList<>();
        List<byte[]> newPaths = new ArrayList<>();
        Resolution chdirTo = null;
        for (PathArg pa : e.paths()) {
            long addr = regs.arg(pa.pathArg());
            if (addr == 0) {
                continue; // e.g. utimensat(fd, NULL, ...): an fd operation
            }
            String path = s.readString(t.tid(), addr, PATH_MAX);
            if (path == null || path.isEmpty()) {
                continue; // EFAULT, ENAMETOOLONG, ENOENT or AT_EMPTY_PATH: the kernel answers alike
            }
            long flags = pa.flagsArg() >= 0 ? regs.arg(pa.flagsArg()) : 0;
            String base = null;
            if (path.charAt(0) != '/') {
                base = pa.dirfdArg() < 0 || (int) regs.arg(pa.dirfdArg()) == AT_FDCWD
                        ? cwd(t) : fdPath(t, (int) regs.arg(pa.dirfdArg()));
                if (base == null) {
                    continue; // not a directory fd: the kernel gives ENOTDIR / EBADF
                }
            }
            Resolution r = PathResolver.resolve(mounts, base, path, follows(pa, flags), access(pa, flags));
            if (e.number() == chdir) {
                chdirTo = r;
            }
            if (r.crossed()) {
                String host = r.hostPath();
                if (path.endsWith("/") && !host.endsWith("/")) {
                    host += "/"; // keep "not a directory" semantics of a trailing slash
                }
                argIdx.add(new int[] {pa.pathArg()});
                newPaths.add(Native.cpath(host));
            }
        }
        if (chdirTo != null) {
            Resolution to = chdirTo;
            t.atExit(r -> {
                if (r == 0 && t.fs() != null) {
                    t.fs().setViewCwd(to.lookup() != null ? to.viewPath() : null);
                }
            });
        }
        if (newPaths.isEmpty()) {
            return;
        }
        int total = 0;
        for (byte[] b : newPaths) {
            total += b.length;
        }
        long addr = (regs.sp() - STACK_GAP - total) & ~15L;
        Regs changed = regs;
        long at = addr;
        for (int i = 0; i < newPaths.size(); i++) {
            byte[] b = newPaths.get(i);
            if (s.write(t.tid(), at, b, b.length) < 0) {
                LOG.warning("viewos: cannot write a translated path into " + t);
                throw new Errno(Errno.ENOMEM);
            }
            changed = changed.withArg(argIdx.get(i)[0], at);
            at += b.length;
        }
        p.setRegs(t.tid(), changed);
    }

    private static boolean follows(PathArg pa, long flags) {
        return switch (pa.follow()) {
            case FOLLOW -> true;
            case NOFOLLOW -> false;
            case OPEN_FLAGS -> (flags & O_NOFOLLOW) == 0 && (flags & (O_CREAT | O_EXCL)) != (O_CREAT | O_EXCL);
            case AT_NOFOLLOW_FLAG -> (flags & AT_SYMLINK_NOFOLLOW) == 0;
            case AT_FOLLOW_FLAG -> (flags & AT_SYMLINK_FOLLOW) != 0;
        };
    }

    private static FileSystem.Access access(PathArg pa, long flags) {
        return switch (pa.access()) {
            case LOOKUP -> FileSystem.Access.LOOKUP;
            case READ -> FileSystem.Access.READ;
            case WRITE -> FileSystem.Access.WRITE;
            case CREATE -> FileSystem.Access.CREATE;
            case DELETE -> FileSystem.Access.DELETE;
            case OPEN_FLAGS -> (flags & O_CREAT) != 0 ? FileSystem.Access.CREATE
                    : (flags & O_ACCMODE) != 0 || (flags & O_TRUNC) != 0 ? FileSystem.Access.WRITE
                    : FileSystem.Access.READ;
        };
    }

    /** The view cwd of a tracee: tracked when it differs from the kernel's, else the kernel's. */
    private static String cwd(Tracee t) {
        String v = t.fs() == null ? null : t.fs().viewCwd();
        return v != null ? v : Native.readlink("/proc/" + t.tid() + "/cwd");
    }

    private static String fdPath(Tracee t, int fd) {
        String l = Native.readlink("/proc/" + t.tid() + "/fd/" + fd);
        return l != null && l.startsWith("/") ? l : null;
    }

    static String str(byte[] b) {
        return new String(b, StandardCharsets.ISO_8859_1);
    }
}
