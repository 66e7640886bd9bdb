package org.viewos.core.internal.arch;

import java.util.Arrays;

/**
 * An immutable snapshot of a tracee's x86_64 {@code struct user_regs_struct}: fetched once at a stop,
 * changed by copy ({@code with...}), pushed once. Only this class knows {@code orig_rax}.
 */
public final class Regs {
    public static final int SIZE = 27 * 8;
    // word indexes in struct user_regs_struct
    private static final int R10 = 7, R9 = 8, R8 = 9, RAX = 10, RDX = 12, RSI = 13, RDI = 14,
            ORIG_RAX = 15, RIP = 16, RSP = 19;
    private static final int[] ARGS = {RDI, RSI, RDX, R10, R8, R9};
    /** Length of the {@code syscall} instruction: rewinding rip by it re-executes the call. */
    public static final int SYSCALL_INSN_LEN = 2;

    private final long[] w;

    public Regs(long[] words) {
        if (words.length != 27) {
            throw new IllegalArgumentException("user_regs_struct has 27 words");
        }
        this.w = words;
    }

    public long[] words() {
        return w.clone();
    }

    public long syscall() {
        return w[ORIG_RAX];
    }

    public long arg(int i) {
        return w[ARGS[i]];
    }

    public long result() {
        return w[RAX];
    }

    public long sp() {
        return w[RSP];
    }

    public long ip() {
        return w[RIP];
    }

    private Regs with(int index, long value) {
        long[] c = w.clone();
        c[index] = value;
        return new Regs(c);
    }

    public Regs withArg(int i, long value) {
        return with(ARGS[i], value);
    }

    public Regs withResult(long value) {
        return with(RAX, value);
    }

    /** A syscall that is skipped: the kernel runs nothing and the tracee sees {@code result}. */
    public Regs skipped(long result) {
        long[] c = w.clone();
        c[ORIG_RAX] = -1;
        c[RAX] = result;
        return new Regs(c);
    }

    /** Registers that re-execute the syscall this snapshot was taken at (entry) once resumed. */
    public Regs restarted() {
        long[] c = w.clone();
        c[RAX] = w[ORIG_RAX];
        c[RIP] = w[RIP] - SYSCALL_INSN_LEN;
        return new Regs(c);
    }

    /**
     * Registers that, once resumed, continue the program as the kernel would after a stop that
     * interrupted a system call without a signal handler running: an interrupted call is restarted
     * (the kernel does this itself unless the tracer ran another call meanwhile).
     */
    public Regs resumable() {
        long ax = w[RAX];
        if (w[ORIG_RAX] < 0) {
            return this;
        }
        long[] c = w.clone();
        if (ax == -512 || ax == -513 || ax == -514) { // ERESTARTSYS, ERESTARTNOINTR, ERESTARTNOHAND
            c[RAX] = w[ORIG_RAX];
            c[RIP] = w[RIP] - SYSCALL_INSN_LEN;
        } else if (ax == -516) { // ERESTART_RESTARTBLOCK
            c[RAX] = RESTART_SYSCALL;
            c[RIP] = w[RIP] - SYSCALL_INSN_LEN;
        } else {
            return this;
        }
        return new Regs(c);
    }

    /** Number of restart_syscall(2), which the kernel uses for ERESTART_RESTARTBLOCK. */
    private static final long RESTART_SYSCALL = 219;

    /**
     * Registers that make the tracee execute the {@code syscall} instruction at {@code insn} with
     * this number and these arguments (injection from a stop that is not at a syscall entry).
     */
    public Regs executing(long insn, long nr, long... args) {
        long[] c = w.clone();
        c[RIP] = insn;
        c[RAX] = nr;
        c[ORIG_RAX] = -1;
        for (int i = 0; i < args.length; i++) {
            c[ARGS[i]] = args[i];
        }
        return new Regs(c);
    }

    /** The snapshot with new syscall number and arguments (for injecting a call). */
    public Regs call(long nr, long... args) {
        long[] c = w.clone();
        c[ORIG_RAX] = nr;
        for (int i = 0; i < args.length; i++) {
            c[ARGS[i]] = args[i];
        }
        return new Regs(c);
    }

    @Override
    public String toString() {
        return "Regs" + Arrays.toString(w);
    }
}
