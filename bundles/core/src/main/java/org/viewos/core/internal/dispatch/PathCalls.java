package org.viewos.core.internal.dispatch;

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
import org.viewos.core.internal.trace.Tracee;
import org.viewos.core.internal.vfs.MountTable;
import org.viewos.core.internal.vfs.PathResolver;
import org.viewos.core.internal.vfs.PathResolver.Resolution;

/**
 * The path-carrying calls (the table's {@code path} class) and the view's cwd (getcwd, chdir,
 * fchdir): each path argument is canonicalized through the view and rewritten to where the file
 * really is when a mount took part, or the call fails with the module's error.
 */
final class PathCalls {
    private static final Logger LOG = Logger.getLogger(PathCalls.class.getName());
    private static final int AT_FDCWD = -100;
    private static final long AT_SYMLINK_NOFOLLOW = 0x100, AT_SYMLINK_FOLLOW = 0x400, AT_REMOVEDIR = 0x200;
    private static final long O_ACCMODE = 3, O_CREAT = 0x40, O_EXCL = 0x80, O_TRUNC = 0x200,
            O_NOFOLLOW = 0x20000;
    static final int PATH_MAX = 4096;

    private final ViewState view;
    private final ViewPaths where;
    private final VirtualFiles files;
    private final FdCalls fds;
    private Injector injector;
    /** Sockets made for virtual files that connect ({@link org.viewos.core.api.VirtualFile#connectTo}): inode to path. */
    private final java.util.Map<Long, String> connected = new java.util.concurrent.ConcurrentHashMap<>();
    private final int openat, socket, connect, close;
    private final int chdir, rename, renameat, renameat2, rmdir, unlinkat;

    PathCalls(ViewState view, ViewPaths where, SyscallTable table, VirtualFiles files, FdCalls fds) {
        this.view = view;
        this.where = where;
        this.files = files;
        this.fds = fds;
        this.openat = table.number("openat");
        this.socket = table.number("socket");
        this.connect = table.number("connect");
        this.close = table.number("close");
        this.chdir = table.number("chdir");
        this.rename = table.number("rename");
        this.renameat = table.number("renameat");
        this.renameat2 = table.number("renameat2");
        this.rmdir = table.number("rmdir");
        this.unlinkat = table.number("unlinkat");
    }

    /** Translates the call's path arguments (the entry {@code e} says where they are). */
    void paths(Call c, Entry e, MountTable mounts) throws Errno {
        Tracee t = c.t();
        Regs regs = c.regs();
        Scratch s = c.scratch();
        List<Integer> argIdx = new ArrayList<>();
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
            boolean mappedBase = false;
            if (path.charAt(0) != '/') {
                boolean atCwd = pa.dirfdArg() < 0 || (int) regs.arg(pa.dirfdArg()) == AT_FDCWD;
                String tracked = atCwd && t.fs() != null ? t.fs().viewCwd() : null;
                String kernel = Native.readlink(atCwd ? "/proc/" + t.tid() + "/cwd"
                        : "/proc/" + t.tid() + "/fd/" + (int) regs.arg(pa.dirfdArg()));
                base = tracked != null ? tracked
                        : kernel != null && kernel.startsWith("/") ? where.toView(kernel) : null;
                if (base == null) {
                    continue; // not a directory fd: the kernel gives ENOTDIR / EBADF
                }
                // the kernel would start from another directory than the view: always rewrite
                mappedBase = !base.equals(kernel);
            }
            Resolution r = PathResolver.resolve(mounts, base, path, follows(pa, flags), access(pa, flags),
                    t.tid(), t.tgid());
            if (e.number() == chdir) {
                chdirTo = r;
            }
            boolean moves = e.number() == rename || e.number() == renameat || e.number() == renameat2
                    || e.number() == rmdir || (e.number() == unlinkat && (regs.arg(2) & AT_REMOVEDIR) != 0);
            if (moves && pa == e.paths().get(0) && mounts.isMountAncestor(r.viewPath())) {
                throw new Errno(Errno.EBUSY, r.viewPath() + " holds a mount of this view");
            }
            if (r.lookup() != null && r.lookup().hostPath() == FileSystem.VIRTUAL) {
                virtual(c, e, r, flags);
                return;
            }
            if (r.lookup() == null && (e.name().equals("readlink") || e.name().equals("readlinkat"))
                    && r.viewPath().startsWith("/proc/") && placeholderLink(c, e, r.viewPath())) {
                return;
            }
            if (r.lookup() != null && r.lookup().hostPath() == FileSystem.DONE) {
                c.finish(0); // the module carried the call out itself
                return;
            }
            if (r.crossed() || mappedBase) {
                String host = r.hostPath();
                if (path.endsWith("/") && !host.endsWith("/")) {
                    host += "/"; // keep "not a directory" semantics of a trailing slash
                }
                argIdx.add(pa.pathArg());
                newPaths.add(Native.cpath(host));
            }
        }
        if (chdirTo != null) {
            Resolution to = chdirTo;
            t.atExit(r -> {
                if (r == 0 && t.fs() != null) {
                    t.fs().setViewCwd(to.lookup() != null ? to.viewPath() : null);
                }
                return r;
            });
        }
        if (newPaths.isEmpty()) {
            return;
        }
        int total = 0;
        for (byte[] b : newPaths) {
            total += b.length;
        }
        Regs changed = regs;
        long at = c.belowStack(total);
        for (int i = 0; i < newPaths.size(); i++) {
            byte[] b = newPaths.get(i);
            if (s.write(t.tid(), at, b, b.length) < 0) {
                LOG.warning("viewos: cannot write a translated path into " + t);
                throw new Errno(Errno.ENOMEM);
            }
            changed = changed.withArg(argIdx.get(i), at);
            at += b.length;
        }
        c.push(changed);
    }

    private static final long O_DIRECTORY = 0200000, O_CREAT_EXCL = O_CREAT | O_EXCL;
    /** Open flags the placeholder is opened with: the rest are the virtual file's business. */
    private static final long PLACEHOLDER_FLAGS = O_ACCMODE | 04000 /* O_NONBLOCK */ | 02000000 /* O_CLOEXEC */
            | 02000 /* O_APPEND */ | 0400 /* O_NOCTTY */ | 010000000 /* O_PATH */;

    /**
     * A path call on a file a module serves itself: stat and open are carried out here; a call that
     * cannot apply to such a file gets the kernel's errno for a device, an unknown one ENOSYS.
     */
    private void virtual(Call c, Entry e, Resolution r, long flags) throws Errno {
        org.viewos.core.internal.vfs.Mount m = r.lookup().mount();
        String rel = m.relative(r.viewPath());
        org.viewos.core.api.VirtualFile vf;
        try {
            vf = m.fs().virtualFile(rel);
        } catch (RuntimeException ex) {
            throw new Errno(Errno.EIO, "module " + m.module() + ": " + ex);
        }
        if (vf == null) {
            throw new Errno(Errno.ENOENT);
        }
        Regs regs = c.regs();
        switch (e.name()) {
            case "stat", "lstat" -> StatBuf.stat(c, regs.arg(1), VirtualFiles.stat(vf, m), r.viewPath());
            case "newfstatat" -> StatBuf.stat(c, regs.arg(2), VirtualFiles.stat(vf, m), r.viewPath());
            case "statx" -> StatBuf.statx(c, regs.arg(4), VirtualFiles.stat(vf, m), r.viewPath());
            case "open", "openat", "creat" -> {
                openVirtual(c, e, vf, m, r.viewPath(), e.name().equals("creat") ? 01101 : flags);
                return;
            }
            case "access", "faccessat", "faccessat2" -> {
                int mode = (int) regs.arg(e.name().equals("access") ? 1 : 2);
                org.viewos.core.api.FileStat st = VirtualFiles.stat(vf, m);
                if ((mode & 1) != 0 && (st.mode() & 0111) == 0) {
                    throw new Errno(Errno.EACCES);
                }
            }
            case "readlink", "readlinkat" -> throw new Errno(Errno.EINVAL);
            case "execve", "execveat" -> throw new Errno(Errno.EACCES);
            case "truncate" -> throw new Errno(Errno.EINVAL);
            case "chdir", "chroot" -> throw new Errno(Errno.ENOTDIR);
            case "chmod", "fchmodat", "chown", "lchown", "fchownat", "utime", "utimes", "futimesat", "utimensat" ->
                throw new Errno(Errno.EPERM, "a virtual file's attributes are set when it is mounted");
            case "unlink", "unlinkat", "rmdir", "rename", "renameat", "renameat2" ->
                throw new Errno(rel.isEmpty() ? Errno.EBUSY : Errno.EPERM);
            case "mkdir", "mkdirat", "mknod", "mknodat", "symlink", "symlinkat", "link", "linkat" ->
                throw new Errno(Errno.EEXIST);
            case "getxattr", "lgetxattr" -> throw new Errno(Errno.ENODATA);
            case "listxattr", "llistxattr" -> {
            }
            case "setxattr", "lsetxattr", "removexattr", "lremovexattr" -> throw new Errno(Errno.EOPNOTSUPP);
            default -> throw new Errno(Errno.ENOSYS, e.name() + " on a virtual file");
        }
        c.finish(0);
    }

    /** readlink of /proc/PID/fd/N on a virtual file's placeholder: the virtual file's path. */
    private boolean placeholderLink(Call c, Entry e, String viewPath) throws Errno {
        if (files.isEmpty()) {
            return false;
        }
        String target = Native.readlink(viewPath);
        String v = target == null ? null : org.viewos.core.internal.vfs.Placeholders.viewPathOf(target);
        if (v == null) {
            return false;
        }
        int bufArg = e.name().equals("readlink") ? 1 : 2;
        long size = c.regs().arg(bufArg + 1);
        byte[] b = v.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        int n = (int) Math.min(b.length, Math.max(size, 0));
        if (n > 0 && c.scratch().write(c.tid(), c.regs().arg(bufArg), b, n) != n) {
            throw new Errno(Errno.EFAULT);
        }
        c.finish(n);
        return true;
    }

    void injector(Injector injector) {
        this.injector = injector;
    }

    /**
     * The listening socket a descriptor of {@code tid} was connected to when it opened a virtual
     * file that connects, or null (it also follows the socket through dup, fork and SCM_RIGHTS).
     */
    String socketPathOf(int tid, int fd) {
        long ino = socketInode(tid, fd);
        return ino < 0 ? null : connected.get(ino);
    }

    /** The inode of the socket behind descriptor {@code fd} of {@code tid} ("socket:[N]"), or -1. */
    private static long socketInode(int tid, long fd) {
        String link = Native.readlink("/proc/" + tid + "/fd/" + fd);
        if (link == null || !link.startsWith("socket:[") || !link.endsWith("]")) {
            return -1;
        }
        try {
            return Long.parseLong(link.substring(8, link.length() - 1));
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    private static final int AF_UNIX = 1, SOCK_SEQPACKET = 5, SOCK_NONBLOCK = 04000, SOCK_CLOEXEC = 02000000;

    /**
     * open(2) of a virtual file that connects: the call becomes socket(AF_UNIX, SOCK_SEQPACKET) and
     * connect(2) to the module's listening socket, in the caller; it returns the new descriptor.
     */
    private void openConnecting(Call c, String socketPath, long flags) throws Errno {
        if (injector == null) {
            throw new Errno(Errno.ENOSYS, "no injector");
        }
        byte[] addr = Native.sockaddrUn(socketPath);
        if (addr == null) {
            throw new Errno(Errno.EIO, "socket path too long: " + socketPath);
        }
        long at = c.belowStack(addr.length);
        if (c.scratch().write(c.tid(), at, addr, addr.length) != addr.length) {
            throw new Errno(Errno.EFAULT);
        }
        int type = SOCK_SEQPACKET | ((flags & 02000000) != 0 ? SOCK_CLOEXEC : 0) | ((flags & 04000) != 0 ? SOCK_NONBLOCK : 0);
        Injector.Session in = injector.begin(c.t());
        long fd = in.call(socket, AF_UNIX, type, 0);
        long k = fd < 0 ? 0 : in.call(connect, fd, at, addr.length);
        if (fd >= 0 && k < 0) {
            in.call(close, fd);
        }
        in.end();
        if (fd < 0 || k < 0) {
            long err = fd < 0 ? fd : k;
            c.finish(err == -Errno.ENOENT || err == -111 /* ECONNREFUSED */ ? -Errno.ENXIO : err);
            return;
        }
        long ino = socketInode(c.tid(), fd);
        if (ino >= 0) {
            connected.put(ino, socketPath);
        }
        c.finish(fd);
    }

    private void openVirtual(Call c, Entry e, org.viewos.core.api.VirtualFile vf, org.viewos.core.internal.vfs.Mount m,
            String viewPath, long flags) throws Errno {
        String channel = vf.connectTo();
        if (channel != null) {
            openConnecting(c, channel, flags);
            return;
        }
        if ((flags & O_CREAT_EXCL) == O_CREAT_EXCL) {
            throw new Errno(Errno.EEXIST);
        }
        if ((flags & O_DIRECTORY) != 0) {
            throw new Errno(Errno.ENOTDIR);
        }
        Tracee t = c.t();
        if (!fds.covered(c, FdCalls.lowestFree(t, 0))) {
            return; // the call runs again once the process's filter watches that number
        }
        VirtualFiles.Entry en = files.open(vf, m, viewPath, (int) flags);
        byte[] ph = Native.cpath(en.placeholder);
        long at = c.belowStack(ph.length);
        if (c.scratch().write(t.tid(), at, ph, ph.length) != ph.length) {
            files.collect();
            throw new Errno(Errno.EFAULT);
        }
        files.opening(en, t.tid());
        c.push(c.regs().call(openat, AT_FDCWD, at, flags & PLACEHOLDER_FLAGS, 0));
        t.atExit(res -> {
            files.opened(en, res);
            if (res >= 0) {
                fds.coveredAtExit(t, res);
            }
            return res;
        });
    }

    /** getcwd(2): the view's cwd when it differs from the kernel's. */
    void getcwd(Call c) throws Errno {
        Tracee t = c.t();
        String cwd = t.fs() == null ? null : t.fs().viewCwd();
        if (cwd == null) {
            String kernel = Native.readlink("/proc/" + t.tid() + "/cwd");
            cwd = kernel == null ? null : view.mounts().viewOf(kernel);
        }
        if (cwd == null) {
            return;
        }
        byte[] b = Native.cpath(cwd);
        if (c.regs().arg(1) < b.length) {
            throw new Errno(Errno.ERANGE);
        }
        if (c.scratch().write(t.tid(), c.regs().arg(0), b, b.length) < 0) {
            throw new Errno(Errno.EFAULT);
        }
        c.finish(b.length);
    }

    /** fchdir(2): the kernel's cwd is right again afterwards (mapped back when asked). */
    void fchdir(Call c) {
        Tracee t = c.t();
        t.atExit(r -> {
            if (r == 0 && t.fs() != null) {
                t.fs().setViewCwd(null);
            }
            return r;
        });
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
            case EXEC -> FileSystem.Access.EXEC;
            case OPEN_FLAGS -> (flags & O_CREAT) != 0 ? FileSystem.Access.CREATE
                    : (flags & O_ACCMODE) != 0 || (flags & O_TRUNC) != 0 ? FileSystem.Access.WRITE
                    : FileSystem.Access.READ;
        };
    }
}
