package org.viewos.core.internal.dispatch;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.Set;
import java.util.function.Supplier;
import java.util.regex.Pattern;

import org.viewos.core.api.Errno;
import org.viewos.core.api.FileSystem;
import org.viewos.core.internal.arch.Regs;
import org.viewos.core.internal.arch.SyscallTable;
import org.viewos.core.internal.arch.SyscallTable.Entry;
import org.viewos.core.internal.ffi.Native;
import org.viewos.core.internal.ffi.Scratch;
import org.viewos.core.internal.trace.Procfs;
import org.viewos.core.internal.trace.Tracee;
import org.viewos.core.internal.vfs.MountTable;
import org.viewos.core.internal.vfs.PathResolver;
import org.viewos.core.internal.vfs.PathResolver.Resolution;

/**
 * The table's {@code guard} class: calls that name a process must not reach the daemon (signals,
 * ptrace, process_vm_*, pidfd_open), and AF_UNIX socket paths are paths of the view (bind,
 * connect) — except the directory of the views' Gogo sockets, which no process in a view may
 * connect to.
 */
final class ProcessGuards {
    private static final int SOCKADDR_UN_SIZE = 110, AF_UNIX = 1;
    private static final long SECCOMP_SET_MODE_FILTER = 1, SECCOMP_FILTER_FLAG_NEW_LISTENER = 8;
    private static final long F_SETOWN = 8, F_SETOWN_EX = 15, PRIO_PROCESS = 0, PRIO_PGRP = 1,
            IOPRIO_WHO_PROCESS = 1, IOPRIO_WHO_PGRP = 2;
    private static final int F_OWNER_PGRP = 2;
    private static final Pattern SHELL_SOCKETS = Pattern.compile("(/run/user/[0-9]+|/tmp|"
            + Pattern.quote(String.valueOf(System.getenv("XDG_RUNTIME_DIR"))) + ")/viewos-[0-9]+/[^/]*");

    private final ViewState view;
    private final ViewPaths where;
    private final int daemonPid = Native.LIBC.getpid();
    private final int getpgid, kill, connect, bind;
    private volatile Supplier<Set<Integer>> viewTids = Set::of;

    ProcessGuards(ViewState view, ViewPaths where, SyscallTable table) {
        this.view = view;
        this.where = where;
        this.getpgid = table.number("getpgid");
        this.kill = table.number("kill");
        this.connect = table.number("connect");
        this.bind = table.number("bind");
    }

    void viewTids(Supplier<Set<Integer>> tids) {
        this.viewTids = tids;
    }

    /**
     * Refuses with EPERM what is aimed at the daemon. kill() of a process group the daemon shares
     * with the view (kill(0), kill(-pgid), kill(-1)) is carried out on the view's processes only.
     */
    void guard(Call c, Entry e) throws Errno {
        if (e.number() == connect || e.number() == bind) {
            unixSocketPath(c, e.number() == connect);
            return;
        }
        Regs regs = c.regs();
        switch (e.name()) {
            case "seccomp" -> {
                // a filter with a listener could answer CONTINUE to calls the view must translate:
                // its verdict outranks the view's TRACE
                if (regs.arg(0) == SECCOMP_SET_MODE_FILTER && (regs.arg(1) & SECCOMP_FILTER_FLAG_NEW_LISTENER) != 0) {
                    throw new Errno(Errno.EPERM, "a process in a view cannot take system calls away from the view");
                }
                return;
            }
            case "pidfd_send_signal", "pidfd_getfd" -> {
                if (isDaemonPidfd(c.tid(), (int) regs.arg(0))) {
                    throw new Errno(Errno.EPERM, e.name() + " aimed at the View-OS daemon");
                }
                return;
            }
            case "fcntl" -> {
                long cmd = regs.arg(1);
                if (cmd == F_SETOWN) {
                    refuseOwner((int) regs.arg(2), e.name());
                } else if (cmd == F_SETOWN_EX) {
                    byte[] o = readOwnerEx(c, regs.arg(2));
                    if (o != null) {
                        int type = le32(o, 0);
                        int who = le32(o, 4);
                        refuseOwner(type == F_OWNER_PGRP ? -who : who, e.name());
                    }
                }
                return;
            }
            case "ioctl" -> { // FIOSETOWN, SIOCSPGRP: int *owner, as F_SETOWN
                byte[] o = readOwnerEx(c, regs.arg(2));
                if (o != null) {
                    refuseOwner(le32(o, 0), e.name());
                }
                return;
            }
            case "setpriority", "ioprio_set" -> {
                long which = regs.arg(0);
                boolean prio = e.name().equals("setpriority");
                boolean group = prio ? which == PRIO_PGRP : which == IOPRIO_WHO_PGRP;
                if (group && regs.arg(1) != 0 && regs.arg(1) == pgid(0)) {
                    throw new Errno(Errno.EPERM, e.name() + " aimed at the View-OS daemon's group");
                }
                if (which != (prio ? PRIO_PROCESS : IOPRIO_WHO_PROCESS)) {
                    return; // who is a group or a user id, not a pid
                }
            }
            default -> {
            }
        }
        if (e.pidArg() < 0) {
            return;
        }
        int pid = (int) regs.arg(e.pidArg());
        if (pid == daemonPid || (pid > 0 && new File("/proc/" + daemonPid + "/task/" + pid).exists())) {
            throw new Errno(Errno.EPERM, e.name() + " aimed at the View-OS daemon");
        }
        if (e.number() != kill || pid > 0) {
            return;
        }
        long ours = pgid(0);
        long group = pid == 0 ? pgid(c.tid()) : -pid;
        if (pid != -1 && group != ours) {
            return; // a group without the daemon: the kernel's kill is exact
        }
        int sig = (int) regs.arg(1);
        Set<Integer> done = new HashSet<>();
        for (int tid : viewTids.get()) {
            int tgid = Procfs.tgid(tid);
            if (tgid > 0 && done.add(tgid) && (pid == -1 || pgid(tgid) == group)) {
                Native.LIBC.kill(tgid, sig);
            }
        }
        c.finish(done.isEmpty() ? -Errno.ESRCH : 0);
    }

    /** F_SETOWN semantics: a positive owner is a process, a negative one a process group. */
    private void refuseOwner(int owner, String call) throws Errno {
        if (owner > 0 && (owner == daemonPid || new File("/proc/" + daemonPid + "/task/" + owner).exists())) {
            throw new Errno(Errno.EPERM, call + ": the View-OS daemon cannot own a file's signals");
        }
        if (owner < 0 && -owner == pgid(0)) {
            throw new Errno(Errno.EPERM, call + ": the View-OS daemon's group cannot own a file's signals");
        }
    }

    private static byte[] readOwnerEx(Call c, long address) {
        long n = c.scratch().read(c.tid(), address, 8);
        return n == 8 ? java.util.Arrays.copyOf(c.scratch().bytes(8), 8) : null; // a bad pointer: the kernel says EFAULT
    }

    private static int le32(byte[] b, int off) {
        return (b[off] & 0xff) | (b[off + 1] & 0xff) << 8 | (b[off + 2] & 0xff) << 16 | (b[off + 3] & 0xff) << 24;
    }

    /** Whether fd of tid is a pidfd (or a /proc/PID directory fd) of the daemon. */
    private boolean isDaemonPidfd(int tid, int fd) {
        String link = Native.readlink("/proc/" + tid + "/fd/" + fd);
        if (link != null && link.matches("/proc/" + daemonPid + "(/task/[0-9]+)?")) {
            return true;
        }
        try {
            for (String l : java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/" + tid + "/fdinfo/" + fd))) {
                if (l.startsWith("Pid:")) {
                    int pid = Integer.parseInt(l.substring(4).strip());
                    return pid == daemonPid || new File("/proc/" + daemonPid + "/task/" + pid).exists();
                }
            }
        } catch (java.io.IOException | RuntimeException e) {
            return false;
        }
        return false;
    }

    private long pgid(int pid) {
        return Native.LIBC.syscall(getpgid, pid, 0, 0, 0, 0);
    }

    /** bind(2)/connect(2) of an AF_UNIX socket with a path. */
    private void unixSocketPath(Call c, boolean isConnect) throws Errno {
        Regs regs = c.regs();
        Tracee t = c.t();
        long len = regs.arg(2);
        if (len <= 2 || len > SOCKADDR_UN_SIZE) {
            return;
        }
        Scratch s = c.scratch();
        if (s.read(t.tid(), regs.arg(1), (int) len) != len) {
            return; // the kernel answers EFAULT itself
        }
        byte[] b = s.bytes((int) len);
        if ((b[0] | (b[1] << 8)) != AF_UNIX || b[2] == 0) {
            return; // not a path socket (abstract names have a leading NUL)
        }
        int end = 2;
        while (end < len && b[end] != 0) {
            end++;
        }
        String path = new String(b, 2, end - 2, StandardCharsets.ISO_8859_1);
        String base = path.startsWith("/") ? null : where.cwd(t);
        if (base == null && !path.startsWith("/")) {
            return;
        }
        MountTable mounts = view.mounts();
        Resolution r = PathResolver.resolve(mounts, base, path, isConnect,
                isConnect ? FileSystem.Access.LOOKUP : FileSystem.Access.CREATE, t.tid(), t.tgid());
        String host = r.hostPath();
        if (isConnect && SHELL_SOCKETS.matcher(host).matches()) {
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
        sa[0] = AF_UNIX;
        System.arraycopy(hp, 0, sa, 2, hp.length);
        long at = c.belowStack(sa.length);
        if (s.write(t.tid(), at, sa, sa.length) != sa.length) {
            throw new Errno(Errno.ENOMEM);
        }
        c.push(regs.withArg(1, at).withArg(2, sa.length));
    }
}
