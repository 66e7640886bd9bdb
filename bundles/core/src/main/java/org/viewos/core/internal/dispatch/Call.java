package org.viewos.core.internal.dispatch;

import org.viewos.core.internal.arch.Regs;
import org.viewos.core.internal.arch.SyscallTable.Entry;
import org.viewos.core.internal.ffi.Scratch;
import org.viewos.core.internal.trace.Ptrace;
import org.viewos.core.internal.trace.Tracee;

/**
 * One traced call at its seccomp stop: who, how to reach it, its registers (fetched once) and its
 * table entry. Pushing registers is done through {@link #push} or {@link #finish}, once.
 */
record Call(Tracee t, Ptrace p, Regs regs, Entry e) {
    /** Below the x86_64 red zone: where strings for the call are written in the tracee's stack. */
    static final int STACK_GAP = 256;

    int tid() {
        return t.tid();
    }

    Scratch scratch() {
        // a module's own thread (reading the caller's memory for an ioctl) has buffers of its own
        return org.viewos.core.internal.trace.Tracer.current() != null ? p.scratch() : Scratch.local();
    }

    /** The call does not run in the kernel; the caller sees {@code result}. */
    void finish(long result) {
        p.setRegs(t.tid(), regs.skipped(result));
    }

    void push(Regs changed) {
        p.setRegs(t.tid(), changed);
    }

    /** Where {@code length} bytes fit below the stack pointer (16-aligned). */
    long belowStack(int length) {
        return (regs.sp() - STACK_GAP - length) & ~15L;
    }
}
