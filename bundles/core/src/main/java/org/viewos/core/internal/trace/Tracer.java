package org.viewos.core.internal.trace;

import java.io.File;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.logging.Level;
import java.util.logging.Logger;

import org.viewos.core.internal.arch.Regs;
import org.viewos.core.internal.arch.SyscallTable;
import org.viewos.core.internal.dispatch.Dispatcher;
import org.viewos.core.internal.ffi.Native;
import org.viewos.core.internal.ffi.Scratch;

import jnr.ffi.Pointer;

/**
 * Runs one view: spawns its first process stopped, seizes it, installs the seccomp filter at its
 * first system call, and then serves every ptrace stop of it and its descendants until the last
 * one is gone. Everything here runs on the one thread that calls {@link #run}.
 */
public final class Tracer {
    private static final Logger LOG = Logger.getLogger(Tracer.class.getName());
    private static final int OPTIONS = Ptrace.O_TRACESYSGOOD | Ptrace.O_TRACEFORK | Ptrace.O_TRACEVFORK
            | Ptrace.O_TRACECLONE | Ptrace.O_TRACEEXEC | Ptrace.O_TRACESECCOMP | Ptrace.O_EXITKILL;
    private static final int SYSCALL_STOP = Ptrace.SIGTRAP | 0x80;
    private static final int O_RDONLY = 0, O_WRONLY = 1, O_CREAT = 0x40, O_TRUNC = 0x200;
    private static final int POSIX_SPAWN_SETSIGMASK = 0x08;

    private final Dispatcher dispatcher;
    private final Map<Integer, Tracee> tracees = new HashMap<>();
    /** The tids of {@link #tracees}, readable from any thread (for signalling the whole view). */
    private final Set<Integer> live = java.util.concurrent.ConcurrentHashMap.newKeySet();
    /** Children whose fork event was seen before their first stop: child tid → parent's FsState. */
    private final Map<Integer, FsState> pendingChildren = new HashMap<>();
    private Ptrace ptrace;
    private int rootPid;
    private int rootStatus = -1;

    public Tracer(Dispatcher dispatcher) {
        this.dispatcher = dispatcher;
        dispatcher.attach(this::tids);
    }

    /**
     * Spawns {@code argv} (argv[0] an absolute path) in a new view and serves it until its last
     * process ends.
     *
     * @param rcFile    an executable run in the view before the command, or null
     * @param keepFds   file descriptors above 2 the command inherits; every other daemon fd is closed
     * @param stdio     files for fd 0..2, or nulls to inherit the daemon's
     * @return the wait status of the first process (as waitpid gives it)
     */
    public int run(List<String> argv, Map<String, String> env, File dir, File[] stdio, String rcFile,
            Set<Integer> keepFds) {
        ptrace = new Ptrace(new Scratch());
        JobControl.install();
        // Not dumpable: no process of the user (traced or not) may ptrace the daemon, read its
        // memory or open its /proc files; only CAP_SYS_PTRACE could, and the guards refuse that.
        Native.LIBC.syscall(SyscallTable.x86_64().number("prctl"), 4 /* PR_SET_DUMPABLE */, 0, 0, 0, 0);
        rootPid = spawnStopped(argv, env, dir, stdio, rcFile, keepFds);
        Tracee root = new Tracee(rootPid);
        root.started = true;
        root.needsFilter = true;
        root.fs = new FsState();
        tracees.put(rootPid, root);
        live.add(rootPid);
        Ptrace.seize(rootPid, OPTIONS);
        Native.LIBC.kill(rootPid, Ptrace.SIGCONT);
        loop();
        return rootStatus;
    }

    private int spawnStopped(List<String> argv, Map<String, String> env, File dir, File[] stdio,
            String rcFile, Set<Integer> keepFds) {
        // The shell stops itself before exec, so the command's very first instruction is traced.
        List<String> sh = new ArrayList<>(List.of("/bin/sh", "-c",
                "rc=$1; shift; kill -STOP $$; if [ -n \"$rc\" ]; then \"$rc\"; fi; exec \"$@\"", "viewos",
                rcFile == null ? "" : rcFile));
        if (dir != null) {
            // the shell's cd keeps argv untouched and fails with the shell's own message
            sh.set(2, "cd \"$0\" || exit 126; " + sh.get(2));
            sh.set(3, dir.getPath());
        }
        sh.addAll(argv);
        List<String> envList = new ArrayList<>();
        env.forEach((k, v) -> envList.add(k + "=" + v));
        List<Pointer> keep = new ArrayList<>();
        Pointer argvP = Native.stringArray(sh, keep);
        Pointer envP = Native.stringArray(envList, keep);
        Pointer actions = Native.allocate(256);
        Pointer attr = Native.allocate(512);
        Pointer sigset = Native.allocate(128);
        Native.checkZero(Native.LIBC.posix_spawn_file_actions_init(actions.address()), "posix_spawn_file_actions_init");
        Native.checkZero(Native.LIBC.posix_spawnattr_init(attr.address()), "posix_spawnattr_init");
        try {
            Native.LIBC.sigemptyset(sigset.address());
            Native.LIBC.posix_spawnattr_setsigmask(attr.address(), sigset.address());
            Native.LIBC.posix_spawnattr_setflags(attr.address(), (short) POSIX_SPAWN_SETSIGMASK);
            for (int fd : daemonFds()) {
                if (fd > 2 && !keepFds.contains(fd)) {
                    Native.LIBC.posix_spawn_file_actions_addclose(actions.address(), fd);
                }
            }
            if (stdio != null) {
                for (int fd = 0; fd < 3 && fd < stdio.length; fd++) {
                    if (stdio[fd] != null) {
                        int flags = fd == 0 ? O_RDONLY : O_WRONLY | O_CREAT | O_TRUNC;
                        Native.checkZero(Native.LIBC.posix_spawn_file_actions_addopen(actions.address(), fd,
                                stdio[fd].getPath(), flags, 0644), "posix_spawn_file_actions_addopen");
                    }
                }
            }
            int[] pid = new int[1];
            Native.checkZero(Native.LIBC.posix_spawn(pid, "/bin/sh", actions.address(), attr.address(),
                    argvP.address(), envP.address()), "posix_spawn /bin/sh");
            int r = ptrace.waitFor(pid[0], Ptrace.WUNTRACED);
            int st = ptrace.status();
            if (r != pid[0] || (st & 0xff) != 0x7f) {
                throw new IllegalStateException("the view's first process did not stop (status " + st + ")");
            }
            return pid[0];
        } finally {
            Native.LIBC.posix_spawn_file_actions_destroy(actions.address());
            Native.LIBC.posix_spawnattr_destroy(attr.address());
        }
    }

    private static List<Integer> daemonFds() {
        List<Integer> fds = new ArrayList<>();
        String[] names = new File("/proc/self/fd").list();
        if (names != null) {
            for (String n : names) {
                fds.add(Integer.parseInt(n));
            }
        }
        return fds;
    }

    private void loop() {
        while (true) {
            int pid = ptrace.waitAny();
            if (pid < 0) {
                if (-pid == Ptrace.EINTR) {
                    continue;
                }
                break; // ECHILD: the view is empty
            }
            int st = ptrace.status();
            try {
                handle(pid, st);
            } catch (RuntimeException | Error e) {
                // A bug here must not leave a tracee stopped forever: log, resume, go on.
                LOG.log(Level.SEVERE, "viewos: tracer error on pid " + pid, e);
                Ptrace.resume(Ptrace.PTRACE_CONT, pid, 0);
            }
        }
    }

    private void handle(int pid, int st) {
        if ((st & 0x7f) == 0 || ((st & 0x7f) != 0x7f)) {
            // exited or killed
            tracees.remove(pid);
            live.remove(pid);
            pendingChildren.remove(pid);
            if (pid == rootPid) {
                rootStatus = st;
            }
            return;
        }
        int sig = (st >> 8) & 0xff;
        int event = (st >> 16) & 0xff;
        Tracee t = tracees.get(pid);
        if (t == null) {
            t = new Tracee(pid);
            tracees.put(pid, t);
            live.add(pid);
            FsState parentFs = pendingChildren.remove(pid);
            if (parentFs != null) {
                t.fs = parentFs;
            }
        }
        if (sig == SYSCALL_STOP) {
            syscallStop(t);
            return;
        }
        switch (event) {
            case Ptrace.EVENT_SECCOMP -> resume(t, dispatcher.onSeccomp(t, ptrace), 0);
            case Ptrace.EVENT_FORK, Ptrace.EVENT_VFORK, Ptrace.EVENT_CLONE -> {
                int child = (int) ptrace.eventMessage(pid);
                // threads share fs state (CLONE_FS); fork and vfork copy it
                FsState fs = event == Ptrace.EVENT_CLONE ? t.fs : t.fs.copy();
                Tracee c = tracees.get(child);
                if (c == null) {
                    pendingChildren.put(child, fs);
                } else {
                    c.fs = fs;
                    if (c.held) {
                        c.held = false;
                        resume(c, Ptrace.PTRACE_CONT, 0);
                    }
                }
                resume(t, Ptrace.PTRACE_CONT, 0);
            }
            case Ptrace.EVENT_EXEC -> {
                int former = (int) ptrace.eventMessage(pid);
                if (former != pid) {
                    // a non-leader thread exec'd and took over the leader's tid
                    tracees.remove(former);
                    live.remove(former);
                }
                t.onExit = null;
                resume(t, Ptrace.PTRACE_CONT, 0);
            }
            case Ptrace.EVENT_STOP -> {
                if (!t.started) {
                    t.started = true;
                    if (t.fs == null) {
                        t.held = true; // wait for the parent's fork event to know its state
                        return;
                    }
                    resume(t, Ptrace.PTRACE_CONT, 0);
                } else if (sig == Ptrace.SIGSTOP || sig == Ptrace.SIGTSTP || sig == Ptrace.SIGTTIN
                        || sig == Ptrace.SIGTTOU) {
                    // group-stop: stay stopped, but let SIGCONT and events through
                    Ptrace.resume(Ptrace.PTRACE_LISTEN, pid, 0);
                    if (sig != Ptrace.SIGSTOP && JobControl.sameJob(pid)) {
                        // Ctrl-Z of a job the daemon belongs to: the user's shell waits for the
                        // daemon, so the daemon stops too; the shell's SIGCONT wakes us all.
                        JobControl.stopSelf();
                    }
                } else {
                    resume(t, Ptrace.PTRACE_CONT, 0);
                }
            }
            case 0 -> resume(t, Ptrace.PTRACE_CONT, sig); // signal-delivery-stop: deliver it
            default -> resume(t, Ptrace.PTRACE_CONT, 0);
        }
    }

    private void syscallStop(Tracee t) {
        if (t.needsFilter) {
            installFilter(t);
            return;
        }
        if (t.onExit != null) {
            Regs regs = ptrace.getRegs(t.tid);
            var action = t.onExit;
            t.onExit = null;
            if (regs != null) {
                action.accept(regs.result());
            }
        }
        resume(t, Ptrace.PTRACE_CONT, 0);
    }

    private void resume(Tracee t, int request, int sig) {
        if (t.needsFilter || t.onExit != null) {
            request = Ptrace.PTRACE_SYSCALL;
        }
        Ptrace.resume(request, t.tid, sig);
    }

    /**
     * At the first process's first syscall-entry stop: inject seccomp(SET_MODE_FILTER) (after
     * prctl(NO_NEW_PRIVS) when the process lacks CAP_SYS_ADMIN), then re-run the original call.
     */
    private void installFilter(Tracee t) {
        t.needsFilter = false;
        Regs saved = ptrace.getRegs(t.tid);
        if (saved == null) {
            return;
        }
        SyscallTable table = SyscallTable.x86_64();
        byte[] prog = SeccompFilter.build(table, dispatcher.alwaysTracedSyscalls());
        long progAddr = (saved.sp() - 1024 - prog.length) & ~15L;
        long fprogAddr = progAddr - 16;
        byte[] fprog = new byte[16];
        int n = prog.length / 8;
        fprog[0] = (byte) n;
        fprog[1] = (byte) (n >> 8);
        for (int i = 0; i < 8; i++) {
            fprog[8 + i] = (byte) (progAddr >>> (8 * i));
        }
        Scratch s = ptrace.scratch();
        if (s.write(t.tid, progAddr, prog, prog.length) < 0 || s.write(t.tid, fprogAddr, fprog, 16) < 0) {
            abort(t, "cannot write the seccomp filter into the first process");
            return;
        }
        int seccomp = table.number("seccomp");
        long r = inject(t, saved, seccomp, 1 /* SECCOMP_SET_MODE_FILTER */, 0, fprogAddr);
        if (r == -13 /* EACCES: no CAP_SYS_ADMIN */) {
            inject(t, saved, table.number("prctl"), 38 /* PR_SET_NO_NEW_PRIVS */, 1, 0, 0, 0);
            r = inject(t, saved, seccomp, 1, 0, fprogAddr);
        }
        if (r != 0) {
            abort(t, "cannot install the seccomp filter (errno " + -r + ")");
            return;
        }
        ptrace.setRegs(t.tid, saved.restarted());
        Ptrace.resume(Ptrace.PTRACE_CONT, t.tid, 0);
    }

    /** Runs one system call in a tracee stopped at syscall entry; returns its result (or -ESRCH). */
    private long inject(Tracee t, Regs at, long nr, long... args) {
        if (!ptrace.setRegs(t.tid, at.call(nr, args))) {
            return -Ptrace.ESRCH;
        }
        Ptrace.resume(Ptrace.PTRACE_SYSCALL, t.tid, 0);
        int r = ptrace.waitFor(t.tid, Ptrace.WALL);
        int st = ptrace.status();
        if (r != t.tid || (st & 0xff) != 0x7f || ((st >> 8) & 0xff) != SYSCALL_STOP) {
            return -Ptrace.ESRCH;
        }
        Regs after = ptrace.getRegs(t.tid);
        return after == null ? -Ptrace.ESRCH : after.result();
    }

    private void abort(Tracee t, String why) {
        LOG.severe("viewos: " + why);
        Native.LIBC.kill(t.tid, Ptrace.SIGKILL);
    }

    /** Sends {@code sig} to every process of the view (any thread may call this). */
    public void signalAll(int sig) {
        for (int tid : live) {
            Native.LIBC.kill(tid, sig);
        }
    }

    /** The tids of the view's traced threads (any thread may call this). */
    public Set<Integer> tids() {
        return Set.copyOf(live);
    }
}
