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
import org.viewos.core.internal.ffi.Spawn;


/**
 * Runs one view: spawns its first process stopped, seizes it, installs the seccomp filter at its
 * first system call, and then serves every ptrace stop of it and its descendants until the last
 * one is gone, on one tracer thread per CPU (workers, see {@link #handedOff}); one stop is served
 * at a time ({@link #serving}).
 */
public final class Tracer {
    private static final Logger LOG = Logger.getLogger(Tracer.class.getName());
    private static final int OPTIONS = Ptrace.O_TRACESYSGOOD | Ptrace.O_TRACEFORK | Ptrace.O_TRACEVFORK
            | Ptrace.O_TRACECLONE | Ptrace.O_TRACEEXEC | Ptrace.O_TRACESECCOMP | Ptrace.O_EXITKILL;
    private static final int SYSCALL_STOP = Ptrace.SIGTRAP | 0x80;
    private static final int PTRACE_GETSIGINFO = 0x4202, SI_TKILL = -6;
    private static final int SECCOMP_FILTER_FLAG_TSYNC = 1;
    private static final int AT_NULL = 0, AT_IGNORE = 1, AT_SYSINFO_EHDR = 33;

    private final Dispatcher dispatcher;
    private final Map<Integer, Tracee> tracees = new HashMap<>();
    /**
     * The tids of {@link #tracees} and the index of the worker tracing each, readable from any
     * thread (for signalling the whole view).
     */
    private final Map<Integer, Integer> live = new java.util.concurrent.ConcurrentHashMap<>();
    /** Children whose fork event was seen before their first stop: what they inherit. */
    private record Inherited(FsState fs, TraceeGroup group, int parent) {
    }

    private final Map<Integer, Inherited> pendingChildren = new HashMap<>();
    /** The stacked filters beyond the base one, in order; a process carrying n has the first n. */
    private final List<byte[]> filters = new java.util.concurrent.CopyOnWriteArrayList<>();
    private final Set<String> filterNames = new java.util.HashSet<>();
    private final int daemonPid = Native.LIBC.getpid();
    /**
     * The view's tracer threads. ptrace binds a tracee to the thread that traces it (and a child to
     * its parent's tracer), so each worker serves the stops of its own tracees; a process that runs
     * beside another one moves to an idle worker (see {@link #handedOff}), so that two processes on
     * two cores are not served one after the other. Worker 0 is the thread that calls {@link #run}.
     */
    private Worker[] workers;
    /**
     * Held while a stop is served: the dispatcher and the view's state see one stop at a time.
     * Released while a stop waits for a module call ({@link #await}).
     */
    private final java.util.concurrent.locks.ReentrantLock serving = new java.util.concurrent.locks.ReentrantLock();
    private static final ThreadLocal<Worker> WORKER = new ThreadLocal<>();
    /** How many tracer threads a view has (-Dviewos.tracers, default: one per CPU, at most 2). */
    private static final int TRACERS = Math.max(1, Integer.getInteger("viewos.tracers",
            Math.min(2, Runtime.getRuntime().availableProcessors())));
    private volatile boolean ended;
    /** ptrace stops served (for -Dviewos.stats=true, which prints it when the view ends). */
    private long stops;
    /** Processes moved from one worker to another (for -Dviewos.stats=true). */
    private long handOffs;
    private int rootPid;
    private int rootStatus = -1;

    public Tracer(Dispatcher dispatcher) {
        this.dispatcher = dispatcher;
        dispatcher.attach(this::tids);
        dispatcher.attacher(this::attachProcess);
        dispatcher.fdCover(this::coverFd);
        dispatcher.fdCoverAtExit(this::coverFdAtExit);
        dispatcher.watchdog(this::takeWatchdogErrno);
        dispatcher.injector(this::inject);
    }

    /**
     * At a seccomp stop (syscall entry) of {@code t}: a series of calls run in the tracee; at its end
     * the pending call's registers are put back (the caller then finishes the call).
     */
    private org.viewos.core.internal.dispatch.Injector.Session inject(Tracee t) {
        Regs saved = ptrace().getRegs(t.tid);
        Injection in = saved == null ? null : new Injection(t, saved);
        return new org.viewos.core.internal.dispatch.Injector.Session() {
            private boolean gone = in == null;

            @Override
            public long call(long nr, long... args) {
                if (gone) {
                    return -Ptrace.ESRCH;
                }
                long r = in.call(nr, args);
                gone = r == -Ptrace.ESRCH;
                return r;
            }

            @Override
            public void end() {
                if (saved != null) {
                    ptrace().setRegs(t.tid, saved);
                }
            }
        };
    }

    /**
     * At a syscall-entry stop of {@code t}: stacks a filter on its process that traces the fd calls
     * on {@code fd} too (a virtual file is about to get that number). The pending call is replaced
     * by the injection; the caller re-runs it ({@code restarted()} registers).
     *
     * @return whether the pending call was replaced (the caller then re-runs it)
     */
    private boolean coverFd(Tracee t, int fd) {
        Regs saved = ptrace().getRegs(t.tid);
        if (saved == null || t.group == null) {
            return false;
        }
        java.util.BitSet want = (java.util.BitSet) t.group.vfds.clone();
        want.set(fd, fd + 4); // a few ahead: another thread may take the number meanwhile
        byte[] prog = SeccompFilter.fds(SyscallTable.x86_64(), want);
        long fprog = writeProgram(t, saved.sp(), prog);
        long r = fprog == 0 ? -14 : new Injection(t, saved).call(SyscallTable.x86_64().number("seccomp"), 1,
                SECCOMP_FILTER_FLAG_TSYNC, fprog);
        if (r != 0) {
            // not retried (it would fail again): the descriptor's calls reach the placeholder
            LOG.severe("viewos: cannot add a virtual-file filter to process " + t.group.tgid + " (" + r + ")");
        }
        t.group.vfds.or(want);
        return fprog != 0; // the injection took the pending call's place: it must run again
    }

    /**
     * um_attach: brings a running process from outside into this view. Seizes all its threads (from
     * the tracer thread: the caller is the traced um_attach's control call) and interrupts one of
     * them; at that stop the process gets the base filter and the view's stacked filters (TSYNC).
     *
     * @return null on success, else "errno message" ("1 ..." EPERM, "3 ..." ESRCH, "17 ..." EEXIST)
     */
    public String attachProcess(int pid) {
        if (pid <= 0 || pid == daemonPid) {
            return "1 not a process a view can take";
        }
        if (live.containsKey(pid)) {
            return "17 process " + pid + " is already in this view";
        }
        String[] tasks = new File("/proc/" + pid + "/task").list();
        if (tasks == null || tasks.length == 0) {
            return "3 no process " + pid;
        }
        TraceeGroup group = new TraceeGroup(pid, -1); // -1: not even the base filter yet
        Tracee first = null;
        for (String task : tasks) {
            int tid = Integer.parseInt(task);
            long r = Ptrace.call(Ptrace.PTRACE_SEIZE, tid, 0, OPTIONS);
            if (r < 0) {
                if (first == null) {
                    return (-r) + " cannot trace process " + pid + " (errno " + (-r) + ")";
                }
                continue; // a thread that just ended
            }
            Tracee t = new Tracee(tid);
            t.started = true;
            t.fs = new FsState();
            t.group = group;
            adopted(t);
            if (first == null) {
                first = t;
            }
        }
        if (Ptrace.call(Ptrace.PTRACE_INTERRUPT, first.tid, 0, 0) >= 0) {
            group.interrupting = true;
        }
        return null;
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
        workers = new Worker[TRACERS];
        for (int i = 0; i < workers.length; i++) {
            workers[i] = new Worker(i);
        }
        Worker main = workers[0];
        main.thread = Thread.currentThread();
        CURRENT.set(this);
        WORKER.set(main);
        JobControl.install();
        // Not dumpable: no process of the user (traced or not) may ptrace the daemon, read its
        // memory or open its /proc files; only CAP_SYS_PTRACE could, and the guards refuse that.
        Native.LIBC.syscall(SyscallTable.x86_64().number("prctl"), 4 /* PR_SET_DUMPABLE */, 0, 0, 0, 0);
        rootPid = spawnStopped(argv, env, dir, stdio, rcFile, keepFds);
        Tracee root = new Tracee(rootPid);
        root.started = true;
        root.needsFilter = true;
        root.fs = new FsState();
        root.group = new TraceeGroup(rootPid, 0);
        List<String> envList = new ArrayList<>();
        env.forEach((k, v) -> envList.add(k + "=" + v));
        root.environ = envList;
        adopted(root);
        Ptrace.seize(rootPid, OPTIONS);
        for (int i = 1; i < workers.length; i++) {
            Worker w = workers[i];
            // a tracer thread must outlive its tracees (PTRACE_O_EXITKILL kills them when it ends),
            // so it ends with the view only
            w.thread = new Thread(() -> work(w), main.thread.getName() + "-tracer" + i);
            w.thread.setDaemon(true);
            w.thread.start();
        }
        Native.LIBC.kill(rootPid, Ptrace.SIGCONT);
        Thread dog = new Thread(this::watchdog, main.thread.getName() + "-watchdog");
        dog.setDaemon(true);
        dog.start();
        try {
            loop(main);
        } finally {
            CURRENT.remove();
            WORKER.remove();
        }
        for (int i = 1; i < workers.length; i++) {
            try {
                workers[i].thread.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        dog.interrupt();
        dispatcher.ended();
        if (Boolean.getBoolean("viewos.stats")) {
            StringBuilder b = new StringBuilder("viewos: stats: " + stops + " ptrace stops, " + handOffs
                    + " hand-offs; per tracer thread: stops/CPU ms");
            for (Worker w : workers) {
                b.append(' ').append(w.stops).append('/').append(w.cpu / 1_000_000).append(" (lock wait ")
                        .append(w.lockWait / 1_000_000).append(" held ").append(w.held / 1_000_000).append(')');
            }
            System.err.println(b);
        }
        return rootStatus;
    }

    private int spawnStopped(List<String> argv, Map<String, String> env, File dir, File[] stdio,
            String rcFile, Set<Integer> keepFds) {
        // The shell stops itself before exec, so the command's very first instruction is traced.
        // (The shell rebuilds the environment in its own order when it execs: the tracer puts the
        // caller's block back at that execve, see execEnvironment.)
        List<String> envList = new ArrayList<>();
        env.forEach((k, v) -> envList.add(k + "=" + v));
        List<String> sh = new ArrayList<>(List.of("/bin/sh", "-c",
                "rc=$1; shift; kill -STOP $$; if [ -n \"$rc\" ]; then \"$rc\"; fi; exec \"$@\"",
                "viewos", rcFile == null ? "" : rcFile));
        if (dir != null) {
            // the shell's cd keeps argv untouched and fails with the shell's own message
            sh.set(2, "cd \"$0\" || exit 126; " + sh.get(2));
            sh.set(3, dir.getPath());
        }
        sh.addAll(argv);
        Spawn spawn = new Spawn("/bin/sh", sh, envList).keep(keepFds);
        if (stdio != null) {
            for (int fd = 0; fd < 3 && fd < stdio.length; fd++) {
                if (stdio[fd] != null) {
                    spawn.open(fd, stdio[fd].getPath(), fd == 0 ? Spawn.O_RDONLY : Spawn.O_WRONLY | Spawn.O_CREAT | Spawn.O_TRUNC);
                }
            }
        }
        int pid = spawn.start();
        int r = ptrace().waitFor(pid, Ptrace.WUNTRACED);
        int st = ptrace().status();
        if (r != pid || (st & 0xff) != 0x7f) {
            throw new IllegalStateException("the view's first process did not stop (status " + st + ")");
        }
        return pid;
    }

    private void work(Worker w) {
        CURRENT.set(this);
        WORKER.set(w);
        try {
            loop(w);
        } catch (RuntimeException | Error e) {
            // its tracees die with it (PTRACE_O_EXITKILL); the view goes on with the others
            LOG.log(Level.SEVERE, "viewos: tracer thread " + w.index + " failed", e);
            serving.lock();
            try {
                w.dead = true;
                w.idle = true;
                w.owned.clear();
            } finally {
                serving.unlock();
            }
            throw e;
        }
    }

    private void loop(Worker w) {
        try {
            serve(w);
        } finally {
            w.cpu = java.lang.management.ManagementFactory.getThreadMXBean().getCurrentThreadCpuTime();
        }
    }

    private void serve(Worker w) {
        while (!ended) {
            int pid = w.ptrace.waitAny();
            if (pid > 0) {
                int st = w.ptrace.status();
                // what touches only this stopped tracee is done outside the lock: reading its
                // registers at a seccomp stop, and resuming it once served
                w.early = ((st >> 16) & 0xff) == Ptrace.EVENT_SECCOMP ? w.ptrace.getRegs(pid) : null;
                w.deferTid = pid;
                long t0 = System.nanoTime();
                serving.lock();
                long t1 = System.nanoTime();
                try {
                    serveStop(pid, st);
                } finally {
                    serving.unlock();
                    w.early = null;
                    w.deferTid = 0;
                }
                if (w.deferredRequest != 0) {
                    Ptrace.resume(w.deferredRequest, pid, w.deferredSignal);
                    w.deferredRequest = 0;
                }
                w.lockWait += t1 - t0;
                w.held += System.nanoTime() - t1;
                HandOff h = w.inbox.poll();
                if (h != null && h != END) {
                    adopt(w, h);
                }
            } else if (-pid != Ptrace.EINTR && !awaitHandOff(w)) {
                return; // ECHILD everywhere: the view is empty
            }
        }
    }

    /**
     * A worker with nothing of its own to wait for (ECHILD): takes the next process handed to it.
     * When every worker is in this state and nothing is on its way, the view has ended.
     *
     * @return false once the view has ended
     */
    private boolean awaitHandOff(Worker w) {
        serving.lock();
        try {
            w.idle = true;
            boolean all = w.inbox.isEmpty();
            for (Worker o : workers) {
                all &= o.idle && o.incoming == 0;
            }
            if (all) {
                ended = true;
                for (Worker o : workers) {
                    o.inbox.add(END);
                }
                return false;
            }
        } finally {
            serving.unlock();
        }
        try {
            HandOff h = w.inbox.poll(100, java.util.concurrent.TimeUnit.MILLISECONDS);
            if (h == END) {
                return false;
            }
            if (h != null) {
                adopt(w, h);
            }
        } catch (InterruptedException e) {
            // a watchdog interrupt that came too late: nothing to do
        }
        return !ended;
    }

    /** Records a tracee of the calling worker. */
    private void adopted(Tracee t) {
        Worker w = WORKER.get();
        t.owner = w.index;
        tracees.put(t.tid, t);
        live.put(t.tid, w.index);
        w.owned.add(t.tid);
    }

    private static final int PTRACE_DETACH = 17, SIGSTOP_BIT = 1 << (Ptrace.SIGSTOP - 1);
    private static final int EXECVE = SyscallTable.x86_64().number("execve"),
            EXECVEAT = SyscallTable.x86_64().number("execveat"),
            RT_SIGSUSPEND = SyscallTable.x86_64().number("rt_sigsuspend");
    /** The worker index {@link #live} gives a thread on its way from one worker to another. */
    private static final int IN_TRANSIT = -1;

    /** Another worker with nothing to do, or null. */
    private Worker idleWorker() {
        Worker me = WORKER.get();
        for (Worker o : workers) {
            if (o != me && o.idle && !o.dead && o.incoming == 0 && o.owned.isEmpty()) {
                return o;
            }
        }
        return null;
    }

    /**
     * At a seccomp stop of {@code t} (registers {@code saved}) while worker {@code to} has nothing
     * to do: when {@code t} starts a program (execve) while another process of this worker runs,
     * its parent aside (make -j2 starting its second compiler, the second side of a pipe), moves {@code t} to
     * {@code to}; the program and everything it starts are then served there. A program started by
     * a shell that waits for it stays (nothing would run in parallel). ptrace cannot pass a tracee
     * from one thread to another, so {@code t} is detached asleep: its pending call becomes
     * rt_sigsuspend(every signal blocked), which only SIGKILL, SIGSTOP or a ptrace interrupt can
     * end; {@code to} seizes and interrupts it, and puts back the call to re-run it, which the
     * filter brings to {@code to}. Signals that come meanwhile wait (they are blocked) and are
     * delivered once it runs traced again. Never the first process (its exit status is the
     * view's), nor a thread with something pending at this stop.
     *
     * @return whether {@code t} went to {@code to}
     */
    private boolean handedOff(Tracee t, Regs saved, Worker to) {
        Worker w = WORKER.get();
        long nr = saved.syscall();
        if ((nr != EXECVE && nr != EXECVEAT) || t.tid == rootPid
                || !w.pending.isEmpty() || t.group == null || t.group.interrupting || t.onExit != null
                || t.onExitRegs != null || t.environ != null || t.needsFilter || !othersRunning(w, t)
                // a SIGSTOP (the doorbell, a user's) cannot be blocked: it would stop it untraced
                || (pendingSignals(t.tid) & SIGSTOP_BIT) != 0) {
            return false;
        }
        long mask = (saved.sp() - 2048) & ~15L;
        byte[] all = {-1, -1, -1, -1, -1, -1, -1, -1};
        if (w.ptrace.scratch().write(t.tid, mask, all, all.length) != all.length
                || !w.ptrace.setRegs(t.tid, saved.call(RT_SIGSUSPEND, mask, all.length))) {
            return false;
        }
        if (Ptrace.call(PTRACE_DETACH, t.tid, 0, 0) < 0) {
            w.ptrace.setRegs(t.tid, saved);
            return false;
        }
        w.owned.remove(t.tid);
        live.put(t.tid, IN_TRANSIT); // no doorbell for it: a SIGSTOP would stop it untraced
        t.owner = to.index;
        to.incoming++;
        handOffs++;
        to.inbox.add(new HandOff(t, saved));
        return true;
    }

    /**
     * Whether a thread of another process of this worker is running, its parent aside (a parent
     * that forked runs on a moment before it waits).
     */
    private boolean othersRunning(Worker w, Tracee t) {
        for (int tid : w.owned) {
            Tracee o = tracees.get(tid);
            if (o != null && o.tgid() != t.tgid() && o.tgid() != t.parent && Procfs.running(tid)) {
                return true;
            }
        }
        return false;
    }

    /** Seizes a thread another worker handed over and lets it re-run its call (see {@link #handedOff}). */
    private void adopt(Worker w, HandOff h) {
        serving.lock();
        try {
            w.idle = false;
            w.incoming--;
            Tracee t = h.t();
            if (Ptrace.call(Ptrace.PTRACE_SEIZE, t.tid, 0, OPTIONS) < 0) {
                forget(t.tid); // killed meanwhile
                return;
            }
            adopted(t);
            if (Ptrace.call(Ptrace.PTRACE_INTERRUPT, t.tid, 0, 0) < 0) {
                return; // dying: its exit comes by wait
            }
            int r = w.ptrace.waitFor(t.tid, Ptrace.WALL);
            int st = w.ptrace.status();
            if (r != t.tid) {
                return;
            }
            if ((st & 0xff) == 0x7f) {
                // the syscall instruction again, with the call's number and arguments
                w.ptrace.setRegs(t.tid, h.saved().restarted());
            }
            serveStop(t.tid, st); // the interrupt's stop resumes it; an exit forgets it
        } finally {
            serving.unlock();
        }
    }

    /** Forgets a tracee that is gone. */
    private void forget(int tid) {
        Tracee t = tracees.remove(tid);
        live.remove(tid);
        if (t != null) {
            workers[t.owner].owned.remove(tid);
        }
        WORKER.get().owned.remove(tid);
    }

    /** Serves one stop that {@code waitpid} reported for {@code pid}, with status {@code st}. */
    private void serveStop(int pid, int st) {
        Worker w = WORKER.get();
        stops++;
        w.stops++;
        w.busyTid = pid;
        w.busySince = System.nanoTime();
        try {
            handle(pid, st);
            if (w.doorbellSwallowed) {
                w.doorbellSwallowed = false;
                interruptBehind();
            }
        } catch (RuntimeException | Error e) {
            // A bug here must not leave a tracee stopped forever: log, resume, go on.
            LOG.log(Level.SEVERE, "viewos: tracer error on pid " + pid, e);
            if (w.deferTid == pid) {
                w.deferredRequest = 0;
            }
            Ptrace.resume(Ptrace.PTRACE_CONT, pid, 0);
        } finally {
            w.busySince = 0;
            Thread.interrupted(); // a watchdog interrupt that came too late for this stop
        }
    }

    // ---- module calls that take time: the view goes on meanwhile ----------------------------

    private static final ThreadLocal<Tracer> CURRENT = new ThreadLocal<>();

    /** The tracer whose thread is calling, or null on any other thread. */
    public static Tracer current() {
        return CURRENT.get();
    }

    /** How long the tracer spins for a module call on another thread before serving others (ns). */
    private static final long SPIN_NS = 30_000;

    /** A module call a stop waits for, on the stack of nested waits (the innermost last). */
    /** A tracer thread and what only it may touch: its ptrace buffers, its tracees, its waits. */
    private final class Worker {
        final int index;
        final Ptrace ptrace = new Ptrace(new Scratch());
        /** Processes handed to it (taken when it has nothing else to wait for, or after a stop). */
        final java.util.concurrent.BlockingQueue<HandOff> inbox = new java.util.concurrent.LinkedBlockingQueue<>();
        Thread thread;
        /** tids it traces, or will: a child counts from its parent's fork event (under the lock). */
        final Set<Integer> owned = new java.util.HashSet<>();
        /** Hand-offs on their way to it (under the lock). */
        int incoming;
        /** Nothing of its own to wait for: waiting for a hand-off (under the lock). */
        boolean idle;
        /** Its thread ended on an error: it takes nothing more (under the lock). */
        boolean dead;
        volatile long busySince;
        volatile int busyTid;
        /** The errno a watchdog interrupt means for the call being served (EINTR or EIO), else 0. */
        volatile int watchdogErrno;
        /** The module calls its stops wait for, innermost first. */
        final java.util.ArrayDeque<Pending> pending = new java.util.ArrayDeque<>();
        /** A doorbell met during an injection: the other processes still need their interrupt. */
        boolean doorbellSwallowed;
        /** Stops it served, and its thread's CPU time when it ended (ns; for -Dviewos.stats=true). */
        long stops;
        long cpu;
        long lockWait;
        long held;
        /** The registers of the stop being served, read before taking the lock (or null). */
        Regs early;
        /** The tracee whose resume waits until the lock is released, and that resume (0: none). */
        int deferTid;
        int deferredRequest;
        int deferredSignal;

        Worker(int index) {
            this.index = index;
        }
    }

    /** A thread detached by one worker (asleep in rt_sigsuspend) for another to seize. */
    private record HandOff(Tracee t, Regs saved) {
    }

    private static final HandOff END = new HandOff(null, null);

    private static Ptrace ptrace() {
        return WORKER.get().ptrace;
    }

    private static final class Pending {
        final java.util.concurrent.Future<?> call;
        final int tid;
        final long start;
        /** 0 while waiting; EINTR/EIO when the watchdog gave up on it; -1 when its caller died. */
        int errno;

        Pending(java.util.concurrent.Future<?> call, int tid, long start) {
            this.call = call;
            this.tid = tid;
            this.start = start;
        }
    }


    /**
     * Waits for {@code call}, a module call running on a thread of its own on behalf of the stop
     * being served, and meanwhile serves the stops of the view's other threads (nested: a stop
     * served here may wait for a module call of its own). The stopped caller gets EINTR when the
     * call has taken over a second and the caller has a signal to take, EIO after
     * {@code viewos.moduleTimeoutMs}; the call is then cancelled (its thread interrupted). Every
     * level of nesting watches all the calls waited for, so an inner wait never holds up the
     * verdict on an outer one.
     *
     * @return the call's result
     * @throws org.viewos.core.api.Errno what the call threw, or EINTR/EIO as above
     */
    public <T> T await(java.util.concurrent.Future<T> call) throws org.viewos.core.api.Errno {
        long start = System.nanoTime();
        while (!call.isDone() && System.nanoTime() - start < SPIN_NS) {
            Thread.onSpinWait();
        }
        int errno = 0;
        if (!call.isDone()) {
            Worker w = WORKER.get();
            int tid = w.busyTid;
            long since = w.busySince;
            w.busySince = 0; // the watchdog's business is the stops served meanwhile, not this one
            Pending p = new Pending(call, tid, start);
            w.pending.push(p);
            // the other workers serve their stops meanwhile too
            int holds = serving.getHoldCount();
            for (int i = 0; i < holds; i++) {
                serving.unlock();
            }
            try {
                serveOthersUntil(w, p);
            } finally {
                for (int i = 0; i < holds; i++) {
                    serving.lock();
                }
                w.pending.remove(p);
                w.busyTid = tid;
                w.busySince = since;
            }
            errno = p.errno;
        }
        if (errno < 0) {
            throw new org.viewos.core.api.Errno(org.viewos.core.api.Errno.EIO, "the caller is gone");
        }
        if (errno != 0) {
            call.cancel(true);
            throw new org.viewos.core.api.Errno(errno, errno == org.viewos.core.api.Errno.EINTR
                    ? "interrupted while a module worked" : "a module did not answer within " + MODULE_TIMEOUT_MS + " ms");
        }
        try {
            return call.get();
        } catch (java.util.concurrent.ExecutionException e) {
            Throwable c = e.getCause();
            if (c instanceof org.viewos.core.api.Errno err) {
                throw err;
            }
            if (c instanceof RuntimeException r) {
                throw r;
            }
            if (c instanceof Error err) {
                throw err;
            }
            throw new org.viewos.core.api.Errno(org.viewos.core.api.Errno.EIO, "module call failed: " + c);
        } catch (java.util.concurrent.CancellationException e) {
            throw new org.viewos.core.api.Errno(org.viewos.core.api.Errno.EINTR, "module call cancelled");
        } catch (InterruptedException e) {
            call.cancel(true);
            throw new org.viewos.core.api.Errno(org.viewos.core.api.Errno.EINTR, "interrupted");
        }
    }

    /** Serves other stops until {@code p}'s call is done or has a verdict ({@link Pending#errno}). */
    private void serveOthersUntil(Worker w, Pending p) {
        long pause = 20_000;
        while (!p.call.isDone() && p.errno == 0) {
            int pid = w.ptrace.waitAnyNoHang();
            if (pid > 0) {
                int st = w.ptrace.status();
                serving.lock();
                try {
                    serveStop(pid, st);
                } finally {
                    serving.unlock();
                }
                pause = 20_000;
            } else {
                try {
                    p.call.get(pause, java.util.concurrent.TimeUnit.NANOSECONDS);
                    return;
                } catch (java.util.concurrent.TimeoutException e) {
                    pause = Math.min(pause * 2, 2_000_000);
                } catch (java.util.concurrent.ExecutionException | java.util.concurrent.CancellationException e) {
                    return;
                } catch (InterruptedException e) {
                    // a watchdog interrupt meant for a stop served meanwhile: nothing to do here
                }
            }
            judge(w);
        }
    }

    /** The watchdog's verdict on every call the worker waits for (outer waits included). */
    private void judge(Worker w) {
        long now = System.nanoTime();
        for (Pending q : w.pending) {
            if (q.errno != 0 || q.call.isDone()) {
                continue;
            }
            long ms = (now - q.start) / 1_000_000;
            q.errno = !live.containsKey(q.tid) ? -1 // the caller is gone (killed): nobody waits for the answer
                    : verdict(ms, q.tid);
            if (q.errno == org.viewos.core.api.Errno.EIO) {
                LOG.warning("viewos: a module kept thread " + q.tid + " waiting " + ms + " ms: the call fails (EIO)");
            }
            if (q.errno > 0) {
                q.call.cancel(true); // frees the module's thread for the calls queued behind it
            }
        }
    }

    private void handle(int pid, int st) {
        if ((st & 0x7f) == 0 || ((st & 0x7f) != 0x7f)) {
            // exited or killed
            forget(pid);
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
            adopted(t);
            Inherited in = pendingChildren.remove(pid);
            if (in != null) {
                t.fs = in.fs();
                t.parent = in.parent();
                t.group = in.group();
            }
        }
        t.listening = false;
        if (sig == SYSCALL_STOP) {
            syscallStop(t);
            return;
        }
        switch (event) {
            case Ptrace.EVENT_SECCOMP -> {
                if (behind(t)) {
                    addFiltersAtEntry(t); // the call re-runs under the new filters
                    return;
                }
                Worker w = WORKER.get();
                Regs regs = w.deferTid == pid ? w.early : null;
                Worker to = workers.length > 1 ? idleWorker() : null;
                if (to != null) {
                    regs = regs != null ? regs : ptrace().getRegs(t.tid);
                    if (regs != null && handedOff(t, regs, to)) {
                        return; // the other worker re-runs the call
                    }
                }
                resume(t, dispatcher.onSeccomp(t, ptrace(), regs), 0);
            }
            case Ptrace.EVENT_FORK, Ptrace.EVENT_VFORK, Ptrace.EVENT_CLONE -> {
                int child = (int) ptrace().eventMessage(pid);
                // threads share fs state (CLONE_FS) and their process; fork and vfork copy both
                boolean thread = event == Ptrace.EVENT_CLONE && Procfs.tgid(child) == t.group.tgid;
                FsState fs = event == Ptrace.EVENT_CLONE ? t.fs : t.fs.copy();
                TraceeGroup group = thread ? t.group : new TraceeGroup(child, t.group.filters);
                if (!thread) {
                    group.vfds.or(t.group.vfds); // the child inherits the filters
                }
                Tracee c = tracees.get(child);
                WORKER.get().owned.add(child); // auto-attached to this worker's thread
                if (c == null) {
                    pendingChildren.put(child, new Inherited(fs, group, t.tgid()));
                } else {
                    c.fs = fs;
                    c.parent = t.tgid();
                    c.group = group;
                    if (c.held) {
                        c.held = false;
                        firstResume(c);
                    }
                }
                resume(t, Ptrace.PTRACE_CONT, 0);
            }
            case Ptrace.EVENT_EXEC -> {
                int former = (int) ptrace().eventMessage(pid);
                if (former != pid) {
                    // a non-leader thread exec'd and took over the leader's tid
                    forget(former);
                }
                t.onExit = null;
                t.onExitRegs = null;
                t.environ = null;
                t.group.syscallInsn = 0; // a new address space, a new vDSO
                if (dispatcher.needsSyscallsForTime()) {
                    hideVdso(t);
                }
                resume(t, Ptrace.PTRACE_CONT, 0);
            }
            case Ptrace.EVENT_STOP -> {
                if (!t.started) {
                    t.started = true;
                    if (t.fs == null) {
                        t.held = true; // wait for the parent's fork event to know its state
                        return;
                    }
                    firstResume(t);
                } else if (sig == Ptrace.SIGSTOP || sig == Ptrace.SIGTSTP || sig == Ptrace.SIGTTIN
                        || sig == Ptrace.SIGTTOU) {
                    // group-stop: stay stopped, but let SIGCONT and events through
                    t.listening = true;
                    Ptrace.resume(Ptrace.PTRACE_LISTEN, pid, 0);
                    if (sig != Ptrace.SIGSTOP && JobControl.sameJob(pid)) {
                        // Ctrl-Z of a job the daemon belongs to: the user's shell waits for the
                        // daemon, so the daemon stops too; the shell's SIGCONT wakes us all.
                        JobControl.stopSelf();
                    }
                } else {
                    // our PTRACE_INTERRUPT (or a SIGCONT re-trap): a chance to add missing filters
                    t.group.interrupting = false;
                    if (behind(t)) {
                        addFiltersAnywhere(t);
                        return;
                    }
                    resume(t, Ptrace.PTRACE_CONT, 0);
                }
            }
            case 0 -> {
                if (sig == Ptrace.SIGSTOP && isDoorbell(pid)) {
                    resume(t, Ptrace.PTRACE_CONT, 0); // ours: the tracee never sees it
                    interruptBehind();
                    return;
                }
                resume(t, Ptrace.PTRACE_CONT, sig); // signal-delivery-stop: deliver it
            }
            default -> resume(t, Ptrace.PTRACE_CONT, 0);
        }
    }

    /**
     * Right after an execve: turns the new program's AT_SYSINFO_EHDR auxv entry into AT_IGNORE, so its
     * libc finds no vDSO and makes real clock_gettime/gettimeofday/time calls that a hook can serve.
     */
    private void hideVdso(Tracee t) {
        Regs regs = ptrace().getRegs(t.tid);
        if (regs == null) {
            return;
        }
        Scratch s = ptrace().scratch();
        long n = s.read(t.tid, regs.sp(), Scratch.DATA_SIZE);
        if (n <= 0) {
            return;
        }
        java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(s.bytes((int) n), 0, (int) n).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        long argc = b.getLong(0);
        int i = (int) (8 + (argc + 1) * 8);
        while (i + 8 <= n && b.getLong(i) != 0) { // envp
            i += 8;
        }
        for (i += 8; i + 16 <= n; i += 16) {
            long type = b.getLong(i);
            if (type == AT_NULL) {
                return;
            }
            if (type == AT_SYSINFO_EHDR) {
                byte[] ignore = {AT_IGNORE, 0, 0, 0, 0, 0, 0, 0};
                s.write(t.tid, regs.sp() + i, ignore, 8);
                return;
            }
        }
    }

    /** The first resume of a new thread: add missing filters first (its first stop is a safe point). */
    private void firstResume(Tracee t) {
        if (behind(t)) {
            addFiltersAnywhere(t);
        } else {
            resume(t, Ptrace.PTRACE_CONT, 0);
        }
    }

    // ---- stacking filters while the view runs ------------------------------------------------

    /**
     * Asks every process of the view to carry the filter {@code name} (once; filters stack and can
     * never be removed). Any thread may call this; the tracer thread does the work: directly when it
     * is the caller, else woken by a doorbell (a SIGSTOP from the daemon, swallowed).
     */
    public void require(String name, byte[] program) {
        synchronized (filterNames) {
            if (!filterNames.add(name)) {
                return;
            }
            filters.add(program);
        }
        if (CURRENT.get() == this) {
            interruptBehind();
        } else {
            ringDoorbell();
        }
    }

    /** The view's path filter (for modules that translate paths). */
    public void requirePaths() {
        require("paths", SeccompFilter.paths(SyscallTable.x86_64(), dispatcher.alwaysTracedSyscalls()));
    }

    private boolean behind(Tracee t) {
        return t.group != null && t.group.filters < filters.size();
    }

    /** Rings at one thread of each worker (each interrupts its own tracees). */
    private void ringDoorbell() {
        Worker[] ws = workers;
        boolean[] rung = new boolean[ws == null ? 0 : ws.length];
        for (Map.Entry<Integer, Integer> e : live.entrySet()) {
            int w = e.getValue();
            if (w >= 0 && w < rung.length && !rung[w]) {
                rung[w] = ring(e.getKey());
            }
        }
    }

    private static boolean ring(int tid) {
        return Native.LIBC.syscall(SyscallTable.x86_64().number("tkill"), tid, Ptrace.SIGSTOP, 0, 0, 0) == 0;
    }

    private boolean isDoorbell(int pid) {
        jnr.ffi.Pointer info = ptrace().scratch().regs();
        if (Ptrace.call(PTRACE_GETSIGINFO, pid, 0, info.address()) < 0) {
            return false;
        }
        return info.getInt(8) == SI_TKILL && info.getInt(16) == daemonPid;
    }

    /**
     * PTRACE_INTERRUPT one running thread of every process of this worker that lacks filters; the
     * doorbell for the other workers' processes.
     */
    private void interruptBehind() {
        int me = WORKER.get().index;
        boolean[] rung = new boolean[workers.length];
        for (Tracee t : tracees.values()) {
            TraceeGroup g = t.group;
            if (g != null && g.filters < filters.size() && !g.interrupting && t.started && !t.held && !t.listening) {
                if (t.owner != me) {
                    if (live.getOrDefault(t.tid, IN_TRANSIT) != IN_TRANSIT && !rung[t.owner]) {
                        rung[t.owner] = ring(t.tid);
                    }
                    continue;
                }
                if (Ptrace.call(Ptrace.PTRACE_INTERRUPT, t.tid, 0, 0) >= 0) {
                    g.interrupting = true;
                }
            }
        }
    }

    /** At a seccomp stop (syscall entry): inject the missing filters, then re-run the call. */
    private void addFiltersAtEntry(Tracee t) {
        Regs saved = ptrace().getRegs(t.tid);
        if (saved == null) {
            return;
        }
        int seccomp = SyscallTable.x86_64().number("seccomp");
        Injection in = new Injection(t, saved);
        while (t.group.filters < filters.size()) {
            byte[] prog = filters.get(t.group.filters);
            long fprog = writeProgram(t, saved.sp(), prog);
            long r = fprog == 0 ? -14 : in.call(seccomp, 1, SECCOMP_FILTER_FLAG_TSYNC, fprog);
            if (r != 0) {
                LOG.warning("viewos: cannot add a filter to process " + t.group.tgid + " (" + r + ")");
                break;
            }
            t.group.filters++;
        }
        ptrace().setRegs(t.tid, saved.restarted());
        Ptrace.resume(Ptrace.PTRACE_CONT, t.tid, 0);
    }

    /**
     * At a stop anywhere (an interrupt, a new thread's first stop): make the thread execute a
     * {@code syscall} instruction of its vDSO for each missing filter, then put everything back,
     * restarting a system call the stop interrupted.
     */
    private void addFiltersAnywhere(Tracee t) {
        Regs saved = ptrace().getRegs(t.tid);
        if (saved == null) {
            return;
        }
        long insn = syscallInsn(t);
        SyscallTable table = SyscallTable.x86_64();
        int seccomp = table.number("seccomp");
        boolean triedNoNewPrivs = false;
        while (insn != 0 && t.group.filters < filters.size()) {
            byte[] prog = t.group.filters < 0 ? SeccompFilter.base(table, dispatcher.alwaysTracedSyscalls())
                    : filters.get(t.group.filters);
            long fprog = writeProgram(t, saved.sp(), prog);
            if (fprog == 0) {
                break;
            }
            ptrace().setRegs(t.tid, saved.executing(insn, seccomp, 1, SECCOMP_FILTER_FLAG_TSYNC, fprog));
            Ptrace.resume(Ptrace.PTRACE_SYSCALL, t.tid, 0);
            if (!awaitSyscallStop(t)) {
                // something else came first (a signal, death): put the registers back and serve
                // that stop as usual; the filters are added at a later stop
                int st = ptrace().status();
                ptrace().setRegs(t.tid, saved.resumable());
                handle(t.tid, st);
                return;
            }
            long r = toExit(t);
            if (r == -13 && !triedNoNewPrivs) { // EACCES: no CAP_SYS_ADMIN, as at the view's start
                triedNoNewPrivs = true;
                ptrace().setRegs(t.tid, saved.executing(insn, table.number("prctl"), 38 /* PR_SET_NO_NEW_PRIVS */, 1, 0, 0, 0));
                Ptrace.resume(Ptrace.PTRACE_SYSCALL, t.tid, 0);
                if (awaitSyscallStop(t) && toExit(t) == 0) {
                    continue;
                }
                break;
            }
            if (r != 0) {
                LOG.warning("viewos: cannot add a filter to process " + t.group.tgid + " (" + r + ")");
                break;
            }
            t.group.filters++;
        }
        ptrace().setRegs(t.tid, saved.resumable());
        resume(t, Ptrace.PTRACE_CONT, 0);
    }

    private boolean awaitSyscallStop(Tracee t) {
        while (true) {
            int r = ptrace().waitFor(t.tid, Ptrace.WALL);
            int st = ptrace().status();
            boolean stopped = r == t.tid && (st & 0xff) == 0x7f;
            if (stopped && ((st >> 8) & 0xff) == SYSCALL_STOP) {
                return true;
            }
            if (stopped && ((st >> 16) & 0xff) == Ptrace.EVENT_SECCOMP) {
                // a call we inject that the filter traces (connect, say): it is ours, let it run
                Ptrace.resume(Ptrace.PTRACE_SYSCALL, t.tid, 0);
                continue;
            }
            if (stopped && ((st >> 16) & 0xff) == 0 && ((st >> 8) & 0xff) == Ptrace.SIGSTOP && isDoorbell(t.tid)) {
                // our doorbell rang while we were injecting: swallow it, ring it later ourselves
                WORKER.get().doorbellSwallowed = true;
                Ptrace.resume(Ptrace.PTRACE_SYSCALL, t.tid, 0);
                continue;
            }
            return false;
        }
    }

    /**
     * At a syscall-exit stop of {@code t}: stacks a filter tracing fd calls on {@code fd} too (a
     * virtual file got a number nobody predicted: another thread of the process opened something
     * meanwhile). Runs seccomp(2) from the vDSO's syscall instruction, then puts the registers back.
     */
    private boolean coverFdAtExit(Tracee t, int fd) {
        Regs saved = ptrace().getRegs(t.tid);
        long insn = saved == null || t.group == null ? 0 : syscallInsn(t);
        if (insn == 0) {
            return false;
        }
        java.util.BitSet want = (java.util.BitSet) t.group.vfds.clone();
        want.set(fd, fd + 4);
        long fprog = writeProgram(t, saved.sp(), SeccompFilter.fds(SyscallTable.x86_64(), want));
        if (fprog == 0) {
            return false;
        }
        ptrace().setRegs(t.tid, saved.executing(insn, SyscallTable.x86_64().number("seccomp"), 1,
                SECCOMP_FILTER_FLAG_TSYNC, fprog));
        Ptrace.resume(Ptrace.PTRACE_SYSCALL, t.tid, 0);
        long r = awaitSyscallStop(t) ? toExit(t) : -Ptrace.ESRCH;
        ptrace().setRegs(t.tid, saved);
        if (r != 0) {
            LOG.severe("viewos: cannot add a virtual-file filter to process " + t.group.tgid + " (" + r + ")");
            return false;
        }
        t.group.vfds.or(want);
        return true;
    }

    // ---- the watchdog: a module that hangs must not hang the view --------------------------

    /** How long one stop may take in a module before the call fails with EIO (ms). */
    private static final long MODULE_TIMEOUT_MS = Long.getLong("viewos.moduleTimeoutMs", 30_000);

    /**
     * While a stop is being served for longer than a second, checks every 200 ms whether the
     * stopped thread has a signal to take (the user pressed Ctrl-C, or killed it): then the module
     * call is interrupted and fails with EINTR. After {@code viewos.moduleTimeoutMs} it is
     * interrupted anyway and fails with EIO. A module that ignores interrupts cannot be stopped.
     */
    private void watchdog() {
        Thread main = workers[0].thread;
        while (main.isAlive()) {
            try {
                Thread.sleep(200);
            } catch (InterruptedException e) {
                return;
            }
            for (Worker w : workers) {
                long since = w.busySince;
                if (since == 0 || w.watchdogErrno != 0) {
                    continue;
                }
                long ms = (System.nanoTime() - since) / 1_000_000;
                int errno = verdict(ms, w.busyTid);
                if (errno != 0 && w.busySince == since) {
                    LOG.warning("viewos: a module kept thread " + w.busyTid + " waiting " + ms + " ms: interrupting ("
                            + (errno == 4 ? "a signal is pending" : "timeout") + ")");
                    w.watchdogErrno = errno;
                    w.thread.interrupt();
                }
            }
        }
    }

    /**
     * The watchdog's rule for a module call that has kept thread {@code tid} waiting {@code ms}: EIO
     * after the timeout, EINTR after a second when the thread has a signal to take, else 0.
     */
    private static int verdict(long ms, int tid) {
        return ms > MODULE_TIMEOUT_MS ? org.viewos.core.api.Errno.EIO
                : ms > 1000 && signalPending(tid) ? org.viewos.core.api.Errno.EINTR : 0;
    }

    /** The errno the watchdog asked for the call being served (and forgets it), else 0. */
    public int takeWatchdogErrno() {
        Worker w = WORKER.get();
        if (w == null) {
            return 0;
        }
        int e = w.watchdogErrno;
        w.watchdogErrno = 0;
        Thread.interrupted();
        return e;
    }

    /** Whether a signal the thread neither blocks nor ignores is pending for it (or its process). */
    private static boolean signalPending(int tid) {
        long[] m = signalMasks(tid);
        return (m[0] & ~m[1] & ~m[2]) != 0;
    }

    /** The signals pending for the thread or its process. */
    private static long pendingSignals(int tid) {
        return signalMasks(tid)[0];
    }

    /** Pending (thread's and process's), blocked and ignored signals of a thread (zeros if unknown). */
    private static long[] signalMasks(int tid) {
        long pnd = 0, blk = 0, ign = 0;
        try {
            for (String l : java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/" + tid + "/status"))) {
                if (l.startsWith("SigPnd:") || l.startsWith("ShdPnd:")) {
                    pnd |= Long.parseUnsignedLong(l.substring(7).strip(), 16);
                } else if (l.startsWith("SigBlk:")) {
                    blk = Long.parseUnsignedLong(l.substring(7).strip(), 16);
                } else if (l.startsWith("SigIgn:")) {
                    ign = Long.parseUnsignedLong(l.substring(7).strip(), 16);
                }
            }
        } catch (java.io.IOException | RuntimeException e) {
            return new long[3];
        }
        return new long[] {pnd, blk, ign};
    }

    /** Writes a BPF program and its sock_fprog below the red zone; returns the sock_fprog address. */
    private long writeProgram(Tracee t, long sp, byte[] prog) {
        long progAddr = (sp - 1024 - prog.length) & ~15L;
        long fprogAddr = progAddr - 16;
        byte[] fprog = new byte[16];
        int n = prog.length / 8;
        fprog[0] = (byte) n;
        fprog[1] = (byte) (n >> 8);
        for (int i = 0; i < 8; i++) {
            fprog[8 + i] = (byte) (progAddr >>> (8 * i));
        }
        Scratch s = ptrace().scratch();
        if (s.write(t.tid, progAddr, prog, prog.length) < 0 || s.write(t.tid, fprogAddr, fprog, 16) < 0) {
            return 0;
        }
        return fprogAddr;
    }

    /** A {@code syscall} instruction (0f 05) in the thread's vDSO, looked up once per exec. */
    private long syscallInsn(Tracee t) {
        if (t.group.syscallInsn != 0) {
            return t.group.syscallInsn;
        }
        try {
            for (String l : java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/" + t.tid + "/maps"))) {
                if (!l.endsWith("[vdso]")) {
                    continue;
                }
                String[] range = l.substring(0, l.indexOf(' ')).split("-");
                long start = Long.parseUnsignedLong(range[0], 16);
                int len = (int) Math.min(Long.parseUnsignedLong(range[1], 16) - start, Scratch.DATA_SIZE);
                long n = ptrace().scratch().read(t.tid, start, len);
                byte[] b = ptrace().scratch().bytes((int) Math.max(n, 0));
                for (int i = 0; i + 1 < n; i++) {
                    if (b[i] == 0x0f && b[i + 1] == 0x05) {
                        t.group.syscallInsn = start + i;
                        return t.group.syscallInsn;
                    }
                }
            }
        } catch (java.io.IOException | RuntimeException e) {
            LOG.warning("viewos: no vDSO syscall instruction in " + t.tid + ": " + e);
        }
        return 0;
    }

    private void syscallStop(Tracee t) {
        if (t.needsFilter) {
            installFilter(t);
            return;
        }
        if (t.onExitRegs != null) {
            Regs regs = ptrace().getRegs(t.tid);
            var action = t.onExitRegs;
            t.onExitRegs = null;
            if (regs != null) {
                ptrace().setRegs(t.tid, action.apply(regs));
            }
            resume(t, Ptrace.PTRACE_CONT, 0);
            return;
        }
        if (t.environ != null && t.onExit == null) {
            execEnvironment(t);
            return;
        }
        if (t.onExit != null) {
            Regs regs = ptrace().getRegs(t.tid);
            var action = t.onExit;
            t.onExit = null;
            if (regs != null) {
                long r = action.applyAsLong(regs.result());
                if (r != regs.result()) {
                    ptrace().setRegs(t.tid, regs.withResult(r));
                }
            }
        }
        resume(t, Ptrace.PTRACE_CONT, 0);
    }

    private void resume(Tracee t, int request, int sig) {
        if (t.needsFilter || t.onExit != null || t.onExitRegs != null || t.environ != null) {
            request = Ptrace.PTRACE_SYSCALL;
        }
        Worker w = WORKER.get();
        if (t.tid == w.deferTid) {
            w.deferredRequest = request; // done by the worker's loop once the lock is released
            w.deferredSignal = sig;
            return;
        }
        Ptrace.resume(request, t.tid, sig);
    }

    /**
     * At the first process's first syscall-entry stop: inject seccomp(SET_MODE_FILTER) (after
     * prctl(NO_NEW_PRIVS) when the process lacks CAP_SYS_ADMIN), then re-run the original call.
     */
    private void installFilter(Tracee t) {
        t.needsFilter = false;
        Regs saved = ptrace().getRegs(t.tid);
        if (saved == null) {
            return;
        }
        SyscallTable table = SyscallTable.x86_64();
        byte[] prog = SeccompFilter.base(table, dispatcher.alwaysTracedSyscalls());
        long fprogAddr = writeProgram(t, saved.sp(), prog);
        if (fprogAddr == 0) {
            abort(t, "cannot write the seccomp filter into the first process");
            return;
        }
        int seccomp = table.number("seccomp");
        Injection in = new Injection(t, saved);
        long r = in.call(seccomp, 1 /* SECCOMP_SET_MODE_FILTER */, 0, fprogAddr);
        if (r == -13 /* EACCES: no CAP_SYS_ADMIN */) {
            in.call(table.number("prctl"), 38 /* PR_SET_NO_NEW_PRIVS */, 1, 0, 0, 0);
            r = in.call(seccomp, 1, 0, fprogAddr);
        }
        if (r != 0) {
            abort(t, "cannot install the seccomp filter (errno " + -r + ")");
            return;
        }
        while (t.group.filters < filters.size()) { // filters the view needed before it started
            long more = writeProgram(t, saved.sp(), filters.get(t.group.filters));
            if (more == 0 || in.call(seccomp, 1, 0, more) != 0) {
                abort(t, "cannot stack the view's filters");
                return;
            }
            t.group.filters++;
        }
        ptrace().setRegs(t.tid, saved.restarted());
        resume(t, Ptrace.PTRACE_CONT, 0);
    }

    /**
     * The first process's syscall stops until its execve of the command: there its envp becomes the
     * caller's environment block, in the caller's order (written below its stack pointer), instead
     * of the one the shell rebuilt. Too large a block (or any failure) leaves the shell's.
     */
    private void execEnvironment(Tracee t) {
        Regs regs = ptrace().getRegs(t.tid);
        if (regs == null || ptrace().syscallOp(t.tid) != Ptrace.SYSCALL_INFO_ENTRY
                || regs.syscall() != SyscallTable.x86_64().number("execve")) {
            resume(t, Ptrace.PTRACE_CONT, 0);
            return;
        }
        List<String> env = t.environ; // kept until an execve succeeds (the shell tries each PATH entry)
        java.io.ByteArrayOutputStream strings = new java.io.ByteArrayOutputStream();
        List<Integer> offsets = new ArrayList<>();
        for (String kv : env) {
            offsets.add(strings.size());
            byte[] b = kv.getBytes(java.nio.charset.Charset.defaultCharset());
            strings.write(b, 0, b.length);
            strings.write(0);
        }
        byte[] str = strings.toByteArray();
        int total = str.length + (offsets.size() + 1) * 8;
        if (total > Scratch.DATA_SIZE) {
            t.environ = null;
            resume(t, Ptrace.PTRACE_CONT, 0);
            return;
        }
        long strAddr = (regs.sp() - 1024 - str.length) & ~15L;
        long arrAddr = (strAddr - (offsets.size() + 1) * 8L) & ~15L;
        java.nio.ByteBuffer arr = java.nio.ByteBuffer.allocate((offsets.size() + 1) * 8).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        for (int off : offsets) {
            arr.putLong(strAddr + off);
        }
        arr.putLong(0);
        Scratch s = ptrace().scratch();
        if (s.write(t.tid, strAddr, str, str.length) == str.length
                && s.write(t.tid, arrAddr, arr.array(), arr.capacity()) == arr.capacity()) {
            ptrace().setRegs(t.tid, regs.withArg(2, arrAddr));
        }
        resume(t, Ptrace.PTRACE_CONT, 0);
    }

    /**
     * Runs system calls in a tracee stopped at a system call's entry ({@code saved}): the first one
     * replaces the pending call; later ones make it execute that call's {@code syscall} instruction
     * again. Afterwards the caller puts back {@code saved.restarted()} to run the original call.
     */
    private final class Injection {
        private final Tracee t;
        private final Regs saved;
        private boolean atEntry = true;

        Injection(Tracee t, Regs saved) {
            this.t = t;
            this.saved = saved;
        }

        /** Returns the call's result, or -ESRCH when the tracee is gone or stopped for another reason. */
        long call(long nr, long... args) {
            if (atEntry) {
                atEntry = false;
                if (!ptrace().setRegs(t.tid, saved.call(nr, args))) {
                    return -Ptrace.ESRCH;
                }
            } else {
                if (!ptrace().setRegs(t.tid, saved.executing(saved.ip() - Regs.SYSCALL_INSN_LEN, nr, args))) {
                    return -Ptrace.ESRCH;
                }
                Ptrace.resume(Ptrace.PTRACE_SYSCALL, t.tid, 0);
                if (!awaitSyscallStop(t)) {
                    return -Ptrace.ESRCH;
                }
            }
            return toExit(t);
        }
    }

    /** From a syscall-entry stop to the call's exit stop; returns its result (or -ESRCH). */
    private long toExit(Tracee t) {
        Ptrace.resume(Ptrace.PTRACE_SYSCALL, t.tid, 0);
        if (!awaitSyscallStop(t)) {
            return -Ptrace.ESRCH;
        }
        Regs after = ptrace().getRegs(t.tid);
        return after == null ? -Ptrace.ESRCH : after.result();
    }

    private void abort(Tracee t, String why) {
        LOG.severe("viewos: " + why);
        Native.LIBC.kill(t.tid, Ptrace.SIGKILL);
    }

    /** Sends {@code sig} to every process of the view (any thread may call this). */
    public void signalAll(int sig) {
        for (int tid : live.keySet()) {
            Native.LIBC.kill(tid, sig);
        }
    }

    /** The tids of the view's traced threads (any thread may call this). */
    public Set<Integer> tids() {
        return Set.copyOf(live.keySet());
    }
}
