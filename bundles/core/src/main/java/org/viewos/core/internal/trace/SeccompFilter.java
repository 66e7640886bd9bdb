package org.viewos.core.internal.trace;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

import org.viewos.core.internal.arch.SyscallTable;
import org.viewos.core.internal.arch.SyscallTable.Entry;
import org.viewos.core.internal.arch.SyscallTable.Kind;

/**
 * The classic-BPF seccomp program every traced process carries (it is inherited and can never be
 * removed). It returns ENOSYS for calls of another ABI (i386 {@code int 0x80}, x32) and for the
 * table's {@code enosys} class, SECCOMP_RET_TRACE for the calls the core translates, and ALLOW for
 * everything else.
 */
public final class SeccompFilter {
    static final int AUDIT_ARCH_X86_64 = 0xC000003E;
    static final int X32_SYSCALL_BIT = 0x40000000;
    static final int RET_ALLOW = 0x7fff0000, RET_TRACE = 0x7ff00000, RET_ERRNO = 0x00050000;
    static final int ENOSYS = 38;
    /** SECCOMP_RET_DATA of calls the dispatcher must always see (PTRACE_GETEVENTMSG returns it). */
    public static final int DATA_ALWAYS = 1;
    // BPF opcodes
    private static final short LD_W_ABS = 0x20, JEQ_K = 0x15, JGE_K = 0x35, RET_K = 0x06;
    private static final int OFF_NR = 0, OFF_ARCH = 4;

    private record Insn(short code, int jt, int jf, int k) {
    }

    private SeccompFilter() {
    }

    /** The program as {@code struct sock_filter[]} bytes (8 bytes an instruction). */
    /**
     * @param always calls traced with {@link #DATA_ALWAYS} in the filter's data: the dispatcher must look
     *               at them even when the view has no mount (control channel, mount, umount2)
     */
    static byte[] build(SyscallTable table, List<Integer> always) {
        return build(table, always, true);
    }

    /**
     * The base program every view starts with: ENOSYS for other ABIs and the {@code enosys} class,
     * TRACE for {@code always}; path calls run untraced until {@link #paths} is added.
     */
    static byte[] base(SyscallTable table, List<Integer> always) {
        return build(table, always, false);
    }

    /**
     * The program added (stacked) once the view has a mount: TRACE for the path and cwd classes,
     * ALLOW for the rest (the base filter still refuses what it refuses: ERRNO outranks TRACE).
     */
    static byte[] paths(SyscallTable table) {
        List<Integer> traced = new ArrayList<>();
        for (Entry e : table.entries()) {
            if (e.kind() == Kind.PATH || e.kind() == Kind.CWD) {
                traced.add(e.number());
            }
        }
        List<Insn> p = new ArrayList<>();
        int allow = 4 + traced.size(), trace = allow + 1;
        p.add(new Insn(LD_W_ABS, 0, 0, OFF_ARCH));
        p.add(new Insn(JEQ_K, 0, allow - 2, AUDIT_ARCH_X86_64));
        p.add(new Insn(LD_W_ABS, 0, 0, OFF_NR));
        p.add(new Insn(JGE_K, allow - 4, 0, X32_SYSCALL_BIT));
        for (int nr : traced) {
            int here = p.size();
            p.add(new Insn(JEQ_K, trace - here - 1, 0, nr));
        }
        p.add(new Insn(RET_K, 0, 0, RET_ALLOW));
        p.add(new Insn(RET_K, 0, 0, RET_TRACE));
        return encode(p);
    }

    /** A program stacked for a hook: TRACE (with {@link #DATA_ALWAYS}) for {@code numbers}, else ALLOW. */
    public static byte[] traced(List<Integer> numbers) {
        List<Insn> p = new ArrayList<>();
        int allow = 4 + numbers.size(), trace = allow + 1;
        p.add(new Insn(LD_W_ABS, 0, 0, OFF_ARCH));
        p.add(new Insn(JEQ_K, 0, allow - 2, AUDIT_ARCH_X86_64));
        p.add(new Insn(LD_W_ABS, 0, 0, OFF_NR));
        p.add(new Insn(JGE_K, allow - 4, 0, X32_SYSCALL_BIT));
        for (int nr : numbers) {
            int here = p.size();
            p.add(new Insn(JEQ_K, trace - here - 1, 0, nr));
        }
        p.add(new Insn(RET_K, 0, 0, RET_ALLOW));
        p.add(new Insn(RET_K, 0, 0, RET_TRACE | DATA_ALWAYS));
        return encode(p);
    }

    private static byte[] build(SyscallTable table, List<Integer> always, boolean withPaths) {
        List<Integer> traced = new ArrayList<>();
        List<Integer> refused = new ArrayList<>();
        for (Entry e : table.entries()) {
            if (always.contains(e.number())) {
                continue;
            }
            if (withPaths && (e.kind() == Kind.PATH || e.kind() == Kind.CWD)) {
                traced.add(e.number());
            } else if (e.kind() == Kind.ENOSYS) {
                refused.add(e.number());
            }
        }
        List<Insn> p = new ArrayList<>();
        // layout: [0] ld arch, [1] jeq x86_64, [2] ld nr, [3] jge x32, [4..] tests, allow, trace, enosys
        int tests = always.size() + traced.size() + refused.size();
        int allow = 4 + tests, trace = allow + 1, enosys = allow + 2, traceAlways = allow + 3;
        p.add(new Insn(LD_W_ABS, 0, 0, OFF_ARCH));
        p.add(new Insn(JEQ_K, 0, enosys - 2, AUDIT_ARCH_X86_64));
        p.add(new Insn(LD_W_ABS, 0, 0, OFF_NR));
        p.add(new Insn(JGE_K, enosys - 4, 0, X32_SYSCALL_BIT));
        for (int nr : always) {
            int here = p.size();
            p.add(new Insn(JEQ_K, traceAlways - here - 1, 0, nr));
        }
        for (int nr : traced) {
            int here = p.size();
            p.add(new Insn(JEQ_K, trace - here - 1, 0, nr));
        }
        for (int nr : refused) {
            int here = p.size();
            p.add(new Insn(JEQ_K, enosys - here - 1, 0, nr));
        }
        p.add(new Insn(RET_K, 0, 0, RET_ALLOW));
        p.add(new Insn(RET_K, 0, 0, RET_TRACE));
        p.add(new Insn(RET_K, 0, 0, RET_ERRNO | ENOSYS));
        p.add(new Insn(RET_K, 0, 0, RET_TRACE | DATA_ALWAYS));
        return encode(p);
    }

    private static byte[] encode(List<Insn> p) {
        ByteBuffer b = ByteBuffer.allocate(p.size() * 8).order(ByteOrder.nativeOrder());
        for (Insn i : p) {
            if (i.jt() > 255 || i.jf() > 255) {
                throw new IllegalStateException("seccomp program too long for classic BPF jumps");
            }
            b.putShort(i.code()).put((byte) i.jt()).put((byte) i.jf()).putInt(i.k());
        }
        return b.array();
    }
}
