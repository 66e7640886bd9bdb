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
import org.viewos.core.internal.trace.SeccompFilter;
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
    private final int chdir, fchdir, getcwd, mount, umount2, ctl;
    private static final int CTL_MAX = 64 * 1024;
    private static final int SYS_GETPGID = 121;
    private final int daemonPid = Native.LIBC.getpid();
    private final int rename, renameat, renameat2, rmdir, unlinkat, kill, connect, bind;
    private static final int SOCKADDR_UN_SIZE = 110;
    private volatile java.util.function.Supplier<java.util.Set<Integer>> viewTids = java.util.Set::of;

    public Dispatcher(ViewState view) {
        this.view = view;
        this.chdir = table.number("chdir");
        this.fchdir = table.number("fchdir");
        this.getcwd = table.number("getcwd");
        this.mount = table.number("mount");
        this.umount2 = table.number("umount2");
        this.ctl = table.number("viewos_ctl");
        this.rename = table.number("rename");
        this.renameat = table.number("renameat");
        this.renameat2 = table.number("renameat2");
        this.rmdir = table.number("rmdir");
        this.unlinkat = table.number("unlinkat");
        this.kill = table.number("kill");
        this.connect = table.number("connect");
        this.bind = table.number("bind");
    }

    /** Whether new programs must do without the vDSO (a hook serves the clock). */
    public boolean needsSyscallsForTime() {
        return view.needsSyscallsForTime();
    }

    /** Calls the dispatcher must see even in a view with no mount. */
    public List<Integer> alwaysTracedSyscalls() {
        List<Integer> l = new ArrayList<>(List.of(ctl, mount, umount2));
        for (Entry e : table.entries()) {
            if (e.kind() == SyscallTable.Kind.GUARD) {
                l.add(e.number());
            }
        }
        return l;
    }

    /** um_attach's worker (the tracer): pid → null on success, else "errno message". */
    public void attacher(java.util.function.IntFunction<String> attach) {
        this.attach = attach;
    }

    private volatile java.util.function.IntFunction<String> attach = pid -> "38 no tracer";

    /** Where the dispatcher learns which threads the view has (for signals to a process group). */
    public void attach(java.util.function.Supplier<java.util.Set<Integer>> viewTids) {
        this.viewTids = viewTids;
    }

    /** Handles a seccomp stop; returns the ptrace request to resume with. */
    public int onSeccomp(Tracee t, Ptrace p) {
        MountTable mounts = view.mounts();
        FsState fs = t.fs();
        if (mounts.isEmpty() && (fs == null || fs.viewCwd() == null)
                && p.eventMessage(t.tid()) != SeccompFilter.DATA_ALWAYS) {
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
            List<org.viewos.core.api.SyscallHook> hooks = view.hooksFor(e.name());
            if (!hooks.isEmpty() && new HookedCall(t, p, regs, e.name()).run(hooks)) {
                return Ptrace.PTRACE_CONT;
            }
            if (e.kind() == SyscallTable.Kind.GUARD) {
                guard(t, p, regs, e);
            } else if (e.number() == ctl) {
                control(t, p, regs);
            } else if (e.number() == mount) {
                mount(t, p, regs, mounts);
            } else if (e.number() == umount2) {
                umount(t, p, regs, mounts);
            } else if (e.number() == getcwd) {
                getcwd(t, p, regs);
            } else if (e.number() == fchdir) {
                t.atExit(r -> {
                    if (r == 0 && t.fs() != null) {
                        t.fs().setViewCwd(null);
                    }
                    return r;
                });
            } else if (e.kind() == SyscallTable.Kind.PATH) {
                paths(t, p, regs, e, mounts);
            }
        } catch (Errno err) {
            p.setRegs(t.tid(), regs.skipped(-err.code()));
        }
        return Ptrace.PTRACE_CONT;
    }

    /**
     * Calls that name a process: none may reach the daemon (signals, ptrace, process_vm_*, pidfd).
     * kill() of a process group the daemon shares with the view (kill(0), kill(-pgid), kill(-1))
     * is carried out on the view's processes only.
     */
    private void guard(Tracee t, Ptrace p, Regs regs, Entry e) throws Errno {
        if (e.number() == connect || e.number() == bind) {
            unixSocketPath(t, p, regs, e.number() == connect);
            return;
        }
        int pid = (int) regs.arg(e.pidArg());
        if (pid == daemonPid || (pid > 0 && isDaemonThread(pid))) {
            throw new Errno(Errno.EPERM, e.name() + " aimed at the View-OS daemon");
        }
        if (e.number() != kill || pid > 0) {
            return;
        }
        long ours = Native.LIBC.syscall(SYS_GETPGID, 0, 0, 0, 0, 0);
        long group = pid == 0 ? Native.LIBC.syscall(SYS_GETPGID, t.tid(), 0, 0, 0, 0) : -pid;
        if (pid != -1 && group != ours) {
            return; // a group without the daemon: the kernel's kill is exact
        }
        int sig = (int) regs.arg(1);
        java.util.Set<Integer> done = new java.util.HashSet<>();
        for (int tid : viewTids.get()) {
            int tgid = org.viewos.core.internal.trace.Procfs.tgid(tid);
            if (tgid > 0 && done.add(tgid)
                    && (pid == -1 || Native.LIBC.syscall(SYS_GETPGID, tgid, 0, 0, 0, 0) == group)) {
                Native.LIBC.kill(tgid, sig);
            }
        }
        p.setRegs(t.tid(), regs.skipped(done.isEmpty() ? -Errno.ESRCH : 0));
    }

    /**
     * bind(2)/connect(2) of an AF_UNIX socket with a path: the path is a path of the view (it is
     * translated like any other), and a connect to the directory of the views' Gogo sockets is
     * refused: a process inside a view must not drive any view's shell.
     */
    private void unixSocketPath(Tracee t, Ptrace p, Regs regs, boolean isConnect) throws Errno {
        long len = regs.arg(2);
        if (len <= 2 || len > SOCKADDR_UN_SIZE) {
            return;
        }
        Scratch s = p.scratch();
        if (s.read(t.tid(), regs.arg(1), (int) len) != len) {
            return; // the kernel answers EFAULT itself
        }
        byte[] b = s.bytes((int) len);
        if ((b[0] | (b[1] << 8)) != 1 /* AF_UNIX */ || b[2] == 0) {
            return; // not a path socket (abstract names have a leading NUL)
        }
        int end = 2;
        while (end < len && b[end] != 0) {
            end++;
        }
        String path = new String(b, 2, end - 2, StandardCharsets.ISO_8859_1);
        String base = path.startsWith("/") ? null : cwd(t);
        if (base == null && !path.startsWith("/")) {
            return;
        }
        MountTable mounts = view.mounts();
        Resolution r = PathResolver.resolve(mounts, base, path, isConnect,
                isConnect ? FileSystem.Access.LOOKUP : FileSystem.Access.CREATE, t.tid(), t.tgid());
        String host = r.hostPath();
        if (isConnect && host.matches("(/run/user/[0-9]+|/tmp|" + java.util.regex.Pattern.quote(
                String.valueOf(System.getenv("XDG_RUNTIME_DIR"))) + ")/viewos-[0-9]+/[^/]*")) {
            throw new Errno(Errno.EACCES, "a view's shell socket is not for processes in a view");
        }
        if (!r.crossed() || host == FileSystem.DONE) {
            return;
        }
        byte[] hp = Native.cpath(host);
        if (2 + hp.length > SOCKADDR_UN_SIZE) {
            throw new Errno(Errno.ENAMETOOLONG, "socket path " + host);
        }
        byte[] sa = new byte[2 + hp.length];
        sa[0] = 1;
        System.arraycopy(hp, 0, sa, 2, hp.length);
        long at = (regs.sp() - STACK_GAP - sa.length) & ~15L;
        if (s.write(t.tid(), at, sa, sa.length) != sa.length) {
            throw new Errno(Errno.ENOMEM);
        }
        p.setRegs(t.tid(), regs.withArg(1, at).withArg(2, sa.length));
    }

    private boolean isDaemonThread(int tid) {
        return new java.io.File("/proc/" + daemonPid + "/task/" + tid).exists();
    }

    /** viewos_ctl(request, length, reply, size): NUL-separated argv in, text out; returns its length. */
    private void control(Tracee t, Ptrace p, Regs regs) throws Errno {
        long len = regs.arg(1);
        if (len < 0 || len > CTL_MAX) {
            throw new Errno(Errno.EINVAL, "request too long");
        }
        Scratch s = p.scratch();
        if (s.read(t.tid(), regs.arg(0), (int) len) != len) {
            throw new Errno(Errno.EFAULT);
        }
        String req = str(java.util.Arrays.copyOf(s.bytes((int) len), (int) len));
        List<String> argv = new ArrayList<>(List.of(req.split("\0", -1)));
        while (!argv.isEmpty() && argv.get(argv.size() - 1).isEmpty()) {
            argv.remove(argv.size() - 1);
        }
        if (argv.isEmpty()) {
            throw new Errno(Errno.EINVAL, "empty request");
        }
        String reply;
        if (argv.get(0).equals("attach")) {
            if (argv.size() != 2 || !argv.get(1).matches("[0-9]{1,9}")) {
                throw new Errno(Errno.EINVAL, "usage: um_attach pid");
            }
            String failed = attach.apply(Integer.parseInt(argv.get(1)));
            if (failed != null) {
                int sp = failed.indexOf(' ');
                Errno err = new Errno(Integer.parseInt(failed.substring(0, sp)), failed.substring(sp + 1));
                writeReply(t, p, regs, err.getMessage());
                throw err;
            }
            p.setRegs(t.tid(), regs.skipped(0));
            return;
        }
        try {
            reply = view.control(t.tid(), argv);
        } catch (Errno err) {
            // the message goes back too, so the command can print the daemon's reason
            reply = err.getMessage();
            writeReply(t, p, regs, reply);
            throw err;
        } catch (RuntimeException err) {
            LOG.log(java.util.logging.Level.WARNING, "viewos: control request " + argv + " failed", err);
            throw new Errno(Errno.EIO, err.toString());
        }
        int n = writeReply(t, p, regs, reply);
        p.setRegs(t.tid(), regs.skipped(n));
    }

    private static int writeReply(Tracee t, Ptrace p, Regs regs, String reply) {
        byte[] b = reply.getBytes(StandardCharsets.UTF_8);
        int n = (int) Math.min(b.length, Math.max(0, Math.min(regs.arg(3), CTL_MAX)));
        if (n > 0 && p.scratch().write(t.tid(), regs.arg(2), b, n) < 0) {
            return 0;
        }
        return n;
    }

    /** mount(2): virtual when a loaded module claims the type, else the kernel's. */
    private void mount(Tracee t, Ptrace p, Regs regs, MountTable mounts) throws Errno {
        Scratch s = p.scratch();
        String fstype = regs.arg(2) == 0 ? null : s.readString(t.tid(), regs.arg(2), 256);
        if (fstype == null || !view.claimsFsType(fstype)) {
            paths(t, p, regs, table.get(mount), mounts); // the kernel's mount, on view paths
            return;
        }
        String source = regs.arg(0) == 0 ? "none" : s.readString(t.tid(), regs.arg(0), PATH_MAX);
        String target = s.readString(t.tid(), regs.arg(1), PATH_MAX);
        if (source == null || target == null) {
            throw new Errno(Errno.EFAULT);
        }
        String data = regs.arg(4) == 0 ? "" : s.readString(t.tid(), regs.arg(4), 4096);
        if (data == null) {
            throw new Errno(Errno.EFAULT);
        }
        if ((regs.arg(3) & 1) != 0) { // MS_RDONLY
            data = data.isEmpty() ? "ro" : "ro," + data;
        }
        try {
            Resolution r = resolveArg(t, target, mounts, true);
            if (!new java.io.File(r.hostPath()).exists()) {
                throw new Errno(Errno.ENOENT, "mount point " + r.viewPath() + " does not exist");
            }
            view.userMount(sourcePath(t, source, mounts), r.viewPath(), fstype, data);
        } catch (Errno err) {
            view.noteError(t.tgid(), err.getMessage()); // viewmount fetches it to print
            throw err;
        }
        p.setRegs(t.tid(), regs.skipped(0));
    }

    /**
     * A mount source that names a file or directory (absolute, or relative and existing) is a path of
     * the view: it goes to the module as the host path it resolves to. Anything else ("none",
     * "host:/dir") goes as it is.
     */
    private String sourcePath(Tracee t, String source, MountTable mounts) throws Errno {
        if (source.isEmpty() || source.equals("none")) {
            return source;
        }
        boolean absolute = source.startsWith("/");
        if (!absolute && source.contains(":")) {
            return source;
        }
        Resolution r = resolveArg(t, source, mounts, true);
        String host = r.hostPath();
        if (absolute || new java.io.File(host).exists()) {
            return host;
        }
        return source;
    }

    /** umount2(2): virtual for the view's own mounts, else the kernel's. */
    private void umount(Tracee t, Ptrace p, Regs regs, MountTable mounts) throws Errno {
        String target = p.scratch().readString(t.tid(), regs.arg(0), PATH_MAX);
        if (target == null || target.isEmpty()) {
            return;
        }
        Resolution r = resolveArg(t, target, mounts, false);
        if (mounts.at(r.viewPath()) == null) {
            paths(t, p, regs, table.get(umount2), mounts);
            return;
        }
        view.umount(r.viewPath());
        p.setRegs(t.tid(), regs.skipped(0));
    }

    private Resolution resolveArg(Tracee t, String path, MountTable mounts, boolean follow) throws Errno {
        String base = path.startsWith("/") ? null : cwd(t);
        if (base == null && !path.startsWith("/")) {
            throw new Errno(Errno.ENOENT);
        }
        return PathResolver.resolve(mounts, base, path, follow, FileSystem.Access.LOOKUP, t.tid(), t.tgid());
    }

    private void getcwd(Tracee t, Ptrace p, Regs regs) throws Errno {
        String cwd = t.fs() == null ? null : t.fs().viewCwd();
        if (cwd == null) {
            String kernel = Native.readlink("/proc/" + t.tid() + "/cwd");
            cwd = kernel == null ? null : view.mounts().viewOf(kernel);
        }
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
            boolean mappedBase = false;
            if (path.charAt(0) != '/') {
                boolean atCwd = pa.dirfdArg() < 0 || (int) regs.arg(pa.dirfdArg()) == AT_FDCWD;
                String tracked = atCwd && t.fs() != null ? t.fs().viewCwd() : null;
                String kernel = Native.readlink(atCwd ? "/proc/" + t.tid() + "/cwd"
                        : "/proc/" + t.tid() + "/fd/" + (int) regs.arg(pa.dirfdArg()));
                base = tracked != null ? tracked : kernel != null && kernel.startsWith("/") ? toView(kernel) : null;
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
                    || e.number() == rmdir || (e.number() == unlinkat && (regs.arg(2) & 0x200) != 0);
            if (moves && pa == e.paths().get(0) && mounts.isMountAncestor(r.viewPath())) {
                throw new Errno(Errno.EBUSY, r.viewPath() + " holds a mount of this view");
            }
            if (r.lookup() != null && r.lookup().hostPath() == FileSystem.DONE) {
                p.setRegs(t.tid(), regs.skipped(0)); // the module carried the call out itself
                return;
            }
            if (r.crossed() || mappedBase) {
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

    /**
     * The view cwd of a tracee: tracked after a chdir into a mount, else the kernel's cwd mapped
     * back through the mounts.
     */
    private String cwd(Tracee t) {
        String v = t.fs() == null ? null : t.fs().viewCwd();
        return v != null ? v : toView(Native.readlink("/proc/" + t.tid() + "/cwd"));
    }

    private String toView(String host) {
        if (host == null) {
            return null;
        }
        String v = view.mounts().viewOf(host);
        return v != null ? v : host;
    }

    static String str(byte[] b) {
        return new String(b, StandardCharsets.ISO_8859_1);
    }
}
