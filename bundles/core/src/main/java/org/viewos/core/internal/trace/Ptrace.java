package org.viewos.core.internal.trace;

import org.viewos.core.internal.arch.Regs;
import org.viewos.core.internal.ffi.Native;
import org.viewos.core.internal.ffi.NativeException;
import org.viewos.core.internal.ffi.Scratch;

import jnr.ffi.Pointer;

/** Raw ptrace and wait, for the one tracer thread that owns {@code scratch}. */
public final class Ptrace {
    public static final int PTRACE_CONT = 7, PTRACE_GETREGS = 12, PTRACE_SETREGS = 13,
            PTRACE_SYSCALL = 24, PTRACE_SETOPTIONS = 0x4200, PTRACE_GETEVENTMSG = 0x4201,
            PTRACE_SEIZE = 0x4206, PTRACE_INTERRUPT = 0x4207, PTRACE_LISTEN = 0x4208;
    static final int O_TRACESYSGOOD = 1, O_TRACEFORK = 2, O_TRACEVFORK = 4, O_TRACECLONE = 8,
            O_TRACEEXEC = 0x10, O_TRACESECCOMP = 0x80, O_EXITKILL = 0x100000;
    static final int EVENT_FORK = 1, EVENT_VFORK = 2, EVENT_CLONE = 3, EVENT_EXEC = 4,
            EVENT_SECCOMP = 7, EVENT_STOP = 128;
    static final int WNOHANG = 1, WUNTRACED = 2, WNOTHREAD = 0x20000000, WALL = 0x40000000;
    static final int SIGKILL = 9, SIGTRAP = 5, SIGSTOP = 19, SIGTSTP = 20, SIGTTIN = 21, SIGTTOU = 22,
            SIGCONT = 18;
    static final int ESRCH = 3, EINTR = 4, ECHILD = 10;

    private final Scratch scratch;

    Ptrace(Scratch scratch) {
        this.scratch = scratch;
    }

    public Scratch scratch() {
        return scratch;
    }

    /** ptrace(2); returns the result or -errno. */
    static long call(int request, int pid, long addr, long data) {
        long r = Native.LIBC.ptrace(request, pid, addr, data);
        return r == -1 ? -Native.errno() : r;
    }

    static void seize(int pid, int options) {
        long r = call(PTRACE_SEIZE, pid, 0, options);
        if (r < 0) {
            throw new NativeException("PTRACE_SEIZE", (int) -r);
        }
    }

    /** Resumes a stopped tracee; ESRCH (it died meanwhile) is not an error: its exit comes by wait. */
    static void resume(int request, int pid, int signal) {
        call(request, pid, 0, signal);
    }

    static final int PTRACE_GET_SYSCALL_INFO = 0x420e;
    static final int SYSCALL_INFO_ENTRY = 1;

    /** What kind of syscall stop the tracee is in (PTRACE_SYSCALL_INFO_*), or 0. */
    int syscallOp(int pid) {
        Pointer p = scratch.regs();
        long r = call(PTRACE_GET_SYSCALL_INFO, pid, 88, p.address());
        return r <= 0 ? 0 : p.getByte(0);
    }

    public long eventMessage(int pid) {
        Pointer p = scratch.regs();
        long r = call(PTRACE_GETEVENTMSG, pid, 0, p.address());
        return r < 0 ? -1 : p.getLong(0);
    }

    /** PTRACE_GETREGS, or null when the tracee is gone. */
    public Regs getRegs(int pid) {
        Pointer p = scratch.regs();
        if (call(PTRACE_GETREGS, pid, 0, p.address()) < 0) {
            return null;
        }
        long[] w = new long[27];
        p.get(0, w, 0, 27);
        return new Regs(w);
    }

    public boolean setRegs(int pid, Regs regs) {
        Pointer p = scratch.regs();
        p.put(0, regs.words(), 0, 27);
        return call(PTRACE_SETREGS, pid, 0, p.address()) >= 0;
    }

    /** waitpid for this thread's tracees; returns pid, or -errno. Status in {@code status()[0]}. */
    int waitAny() {
        int r = Native.LIBC.waitpid(-1, scratch.status(), WALL | WNOTHREAD);
        return r < 0 ? -Native.errno() : r;
    }

    /** As {@link #waitAny}, but 0 at once when no tracee has anything to report. */
    int waitAnyNoHang() {
        int r = Native.LIBC.waitpid(-1, scratch.status(), WALL | WNOTHREAD | WNOHANG);
        return r < 0 ? -Native.errno() : r;
    }

    int waitFor(int pid, int options) {
        int r;
        do {
            r = Native.LIBC.waitpid(pid, scratch.status(), options | WNOTHREAD);
        } while (r < 0 && Native.errno() == EINTR);
        return r < 0 ? -Native.errno() : r;
    }

    int status() {
        return scratch.status()[0];
    }
}
