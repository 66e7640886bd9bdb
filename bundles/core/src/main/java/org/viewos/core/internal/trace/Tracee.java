package org.viewos.core.internal.trace;

import java.util.function.LongUnaryOperator;

/** One traced thread, as the tracer sees it. Touched only while a stop is served (the tracer's lock). */
public final class Tracee {
    /** The thread id (what ptrace and waitpid name). */
    final int tid;
    /** Seen its first stop (auto-attached children start in a PTRACE_EVENT_STOP). */
    boolean started;
    /** Its first stop came before its parent's fork/clone event: held until linked to the parent. */
    boolean held;
    /** The first process: the seccomp filter is not installed yet. */
    boolean needsFilter;
    /** Run at the syscall-exit stop of the current call: gets its result, returns what the caller sees. */
    LongUnaryOperator onExit;
    /** Run at the syscall-exit stop of the current call: the registers the thread goes on with. */
    java.util.function.UnaryOperator<org.viewos.core.internal.arch.Regs> onExitRegs;
    /** cwd and root: shared between threads (CLONE_FS), copied by fork. */
    FsState fs;
    /** The process it belongs to. */
    TraceeGroup group;
    /** The first process until its execve of the command: the environment block that execve passes. */
    java.util.List<String> environ;
    /** In a group-stop we PTRACE_LISTENed: it runs again only by SIGCONT. */
    boolean listening;
    /** The index of the tracer thread (worker) that traces it. */
    int owner;
    /** The process that forked it (0: not forked in the view). */
    int parent;

    Tracee(int tid) {
        this.tid = tid;
    }

    public int tid() {
        return tid;
    }

    public FsState fs() {
        return fs;
    }

    /** The id of the traced process (thread group) this thread belongs to. */
    public int tgid() {
        return group != null ? group.tgid : tid;
    }

    /** Whether the process's filters already trace fd calls on descriptor {@code fd}. */
    public boolean coversFd(int fd) {
        return group != null && group.vfds.get(fd);
    }

    /**
     * Asks for the syscall-exit stop of the current call; {@code action} gets the result and returns
     * the result the caller sees (the same value to leave it alone).
     */
    public void atExit(LongUnaryOperator action) {
        this.onExit = action;
    }

    /** As {@link #atExit}, with the whole register set (to re-run or restart a call). */
    public void atExitRegs(java.util.function.UnaryOperator<org.viewos.core.internal.arch.Regs> action) {
        this.onExitRegs = action;
    }

    @Override
    public String toString() {
        return "tracee " + tid;
    }
}
