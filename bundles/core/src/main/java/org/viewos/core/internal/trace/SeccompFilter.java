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
    private static final short LD_W_ABS = 0x20, JEQ_K = 0x15, JGE_K = 0x35, JSET_K = 0x45, RET_K = 0x06;
    private static final int OFF_NR = 0, OFF_ARCH = 4, OFF_ARGS = 16;

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
    static byte[] paths(SyscallTable table, List<Integer> always) {
        List<Integer> traced = new ArrayList<>();
        for (Entry e : table.entries()) {
            // calls the base filter always traces keep its data: for equal actions seccomp reports
            // the newest filter's data, which would hide them from the dispatcher's fast path
            if ((e.kind() == Kind.PATH || e.kind() == Kind.CWD) && !always.contains(e.number())) {
                traced.add(e.number());
            }
        }
        return tracing(traced, RET_TRACE);
    }

    /** A program stacked for a hook: TRACE (with {@link #DATA_ALWAYS}) for {@code numbers}, else ALLOW. */
    public static byte[] traced(List<Integer> numbers) {
        return tracing(numbers, RET_TRACE | DATA_ALWAYS);
    }

    /** The interface ioctls a virtual network stack answers for any socket (iproute2, ifconfig). */
    public static final int[] IF_IOCTLS = {0x8910 /* SIOCGIFNAME */, 0x8913 /* SIOCGIFFLAGS */,
        0x8921 /* SIOCGIFMTU */, 0x8927 /* SIOCGIFHWADDR */, 0x8933 /* SIOCGIFINDEX */};

    /**
     * The program stacked once a view has a network stack: TRACE (with {@link #DATA_ALWAYS}) for
     * socket(2), and for ioctl(2) with one of the {@link #IF_IOCTLS} (glibc asks them on an AF_UNIX
     * socket, which stays the host's); ALLOW for everything else.
     */
    public static byte[] sockets(SyscallTable table) {
        List<Insn> p = new ArrayList<>();
        int n = IF_IOCTLS.length;
        // 0 ld arch, 1 jeq, 2 ld nr, 3 jge x32, 4 jeq socket, 5 jeq ioctl, 6 ret allow,
        // 7 ld arg1, 8.. jeq cmd, then ret allow, ret trace
        int allow = 6, trace = 7 + 1 + n + 1;
        p.add(new Insn(LD_W_ABS, 0, 0, OFF_ARCH));
        p.add(new Insn(JEQ_K, 0, allow - 2, AUDIT_ARCH_X86_64));
        p.add(new Insn(LD_W_ABS, 0, 0, OFF_NR));
        p.add(new Insn(JGE_K, allow - 4, 0, X32_SYSCALL_BIT));
        p.add(new Insn(JEQ_K, trace - 5, 0, table.number("socket")));
        p.add(new Insn(JEQ_K, 1, 0, table.number("ioctl")));
        p.add(new Insn(RET_K, 0, 0, RET_ALLOW));
        p.add(new Insn(LD_W_ABS, 0, 0, OFF_ARGS + 8));
        for (int cmd : IF_IOCTLS) {
            p.add(new Insn(JEQ_K, trace - p.size() - 1, 0, cmd));
        }
        p.add(new Insn(RET_K, 0, 0, RET_ALLOW));
        p.add(new Insn(RET_K, 0, 0, RET_TRACE | DATA_ALWAYS));
        return encode(p);
    }

    /** SECCOMP_RET_DATA of the fd calls a virtual-file filter traces. */
    public static final int DATA_VFD = 2;
    private static final short JA = 0x05;

    /**
     * The calls that act on a descriptor's file, with the arguments that hold descriptors: a
     * virtual file's descriptor must never reach the kernel in them.
     */
    public static final String[][] FD_CALLS = {
            {"read", "0"}, {"write", "0"}, {"close", "0"}, {"fstat", "0"}, {"lseek", "0"}, {"mmap", "4"},
            {"ioctl", "0"}, {"pread64", "0"}, {"pwrite64", "0"}, {"readv", "0"}, {"writev", "0"},
            {"dup", "0"}, {"dup2", "0"}, {"sendfile", "01"}, {"fcntl", "0"}, {"fsync", "0"},
            {"fdatasync", "0"}, {"ftruncate", "0"}, {"getdents", "0"}, {"readahead", "0"},
            {"getdents64", "0"}, {"fadvise64", "0"}, {"newfstatat", "0"}, {"splice", "02"}, {"tee", "01"},
            {"sync_file_range", "0"}, {"fallocate", "0"}, {"dup3", "0"}, {"preadv", "0"}, {"pwritev", "0"},
            {"copy_file_range", "02"}, {"preadv2", "0"}, {"pwritev2", "0"}, {"statx", "0"},
            {"connect", "0"}, {"accept", "0"}, {"sendto", "0"}, {"recvfrom", "0"}, {"sendmsg", "0"},
            {"recvmsg", "0"}, {"shutdown", "0"}, {"bind", "0"}, {"listen", "0"}, {"getsockname", "0"},
            {"getpeername", "0"}, {"setsockopt", "0"}, {"getsockopt", "0"}, {"accept4", "0"},
            {"recvmmsg", "0"}, {"sendmmsg", "0"}};

    /**
     * A program stacked on one process that holds virtual files: TRACE (with {@link #DATA_VFD}) for
     * the {@link #FD_CALLS} naming one of the descriptors {@code fds}, ALLOW for everything else.
     */
    public static byte[] fds(SyscallTable table, java.util.BitSet fds) {
        java.util.Map<String, List<Insn>> blocks = new java.util.LinkedHashMap<>();
        for (String[] c : FD_CALLS) {
            blocks.computeIfAbsent(c[1], k -> {
                List<Insn> b = new ArrayList<>();
                int total = k.length() * (1 + fds.cardinality()) + 2;
                for (char a : k.toCharArray()) {
                    b.add(new Insn(LD_W_ABS, 0, 0, OFF_ARGS + 8 * (a - '0')));
                    for (int fd = fds.nextSetBit(0); fd >= 0; fd = fds.nextSetBit(fd + 1)) {
                        b.add(new Insn(JEQ_K, total - b.size() - 2, 0, fd)); // to the block's RET TRACE
                    }
                }
                b.add(new Insn(RET_K, 0, 0, RET_ALLOW));
                b.add(new Insn(RET_K, 0, 0, RET_TRACE | DATA_VFD));
                return b;
            });
        }
        List<Insn> p = new ArrayList<>();
        int head = 4 + 2 * FD_CALLS.length + 1;
        int allow = head - 1;
        p.add(new Insn(LD_W_ABS, 0, 0, OFF_ARCH));
        p.add(new Insn(JEQ_K, 0, allow - 2, AUDIT_ARCH_X86_64));
        p.add(new Insn(LD_W_ABS, 0, 0, OFF_NR));
        p.add(new Insn(JGE_K, allow - 4, 0, X32_SYSCALL_BIT));
        java.util.Map<String, Integer> at = new java.util.HashMap<>();
        int off = head;
        for (var b : blocks.entrySet()) {
            at.put(b.getKey(), off);
            off += b.getValue().size();
        }
        for (String[] c : FD_CALLS) {
            p.add(new Insn(JEQ_K, 0, 1, table.number(c[0])));
            p.add(new Insn(JA, 0, 0, at.get(c[1]) - p.size() - 1));
        }
        p.add(new Insn(RET_K, 0, 0, RET_ALLOW));
        blocks.values().forEach(p::addAll);
        return encode(p);
    }

    /** A stacked program: {@code ret} for {@code numbers} of this ABI, ALLOW for everything else. */
    private static byte[] tracing(List<Integer> numbers, int ret) {
        List<Insn> p = new ArrayList<>();
        int allow = 4 + numbers.size(), trace = allow + 1;
        p.add(new Insn(LD_W_ABS, 0, 0, OFF_ARCH));
        p.add(new Insn(JEQ_K, 0, allow - 2, AUDIT_ARCH_X86_64));
        p.add(new Insn(LD_W_ABS, 0, 0, OFF_NR));
        p.add(new Insn(JGE_K, allow - 4, 0, X32_SYSCALL_BIT));
        for (int nr : numbers) {
            p.add(new Insn(JEQ_K, trace - p.size() - 1, 0, nr));
        }
        p.add(new Insn(RET_K, 0, 0, RET_ALLOW));
        p.add(new Insn(RET_K, 0, 0, ret));
        return encode(p);
    }

    private static byte[] build(SyscallTable table, List<Integer> always, boolean withPaths) {
        List<Integer> traced = new ArrayList<>();
        List<Integer> refused = new ArrayList<>();
        List<Entry> conditional = new ArrayList<>();
        for (Entry e : table.entries()) {
            if (e.kind() == Kind.GUARD && e.conditional()) {
                conditional.add(e);
            } else if (always.contains(e.number())) {
                continue;
            } else if (withPaths && (e.kind() == Kind.PATH || e.kind() == Kind.CWD)) {
                traced.add(e.number());
            } else if (e.kind() == Kind.ENOSYS) {
                refused.add(e.number());
            }
        }
        // layout: header (4), one test per number, "ret ALLOW", then one self-contained block per
        // conditional call (classic BPF jumps only forward), then the shared returns
        List<List<Insn>> blocks = new ArrayList<>();
        for (Entry e : conditional) {
            blocks.add(conditionBlock(e));
        }
        int tests = always.size() + traced.size() + refused.size() + conditional.size();
        int blocksStart = 4 + tests + 1;
        int blocksLen = 0;
        for (List<Insn> b : blocks) {
            blocksLen += b.size();
        }
        int trace = blocksStart + blocksLen, enosys = trace + 1, traceAlways = trace + 2;
        List<Insn> p = new ArrayList<>();
        p.add(new Insn(LD_W_ABS, 0, 0, OFF_ARCH));
        p.add(new Insn(JEQ_K, 0, enosys - 2, AUDIT_ARCH_X86_64));
        p.add(new Insn(LD_W_ABS, 0, 0, OFF_NR));
        p.add(new Insn(JGE_K, enosys - 4, 0, X32_SYSCALL_BIT));
        for (int nr : always) {
            p.add(new Insn(JEQ_K, traceAlways - p.size() - 1, 0, nr));
        }
        for (int nr : traced) {
            p.add(new Insn(JEQ_K, trace - p.size() - 1, 0, nr));
        }
        for (int nr : refused) {
            p.add(new Insn(JEQ_K, enosys - p.size() - 1, 0, nr));
        }
        int blockAt = blocksStart;
        for (int i = 0; i < conditional.size(); i++) {
            p.add(new Insn(JEQ_K, blockAt - p.size() - 1, 0, conditional.get(i).number()));
            blockAt += blocks.get(i).size();
        }
        p.add(new Insn(RET_K, 0, 0, RET_ALLOW));
        for (List<Insn> b : blocks) {
            p.addAll(b);
        }
        p.add(new Insn(RET_K, 0, 0, RET_TRACE));
        p.add(new Insn(RET_K, 0, 0, RET_ERRNO | ENOSYS));
        p.add(new Insn(RET_K, 0, 0, RET_TRACE | DATA_ALWAYS));
        return encode(p);
    }

    /**
     * A block that traces a guarded call only when its arguments may aim at another process: not
     * for pid 0 (the caller itself), and for fcntl/ioctl only for the commands that set an owner.
     */
    private static List<Insn> conditionBlock(Entry e) {
        List<Insn> b = new ArrayList<>();
        if (e.condArg() >= 0 && e.condIsMask()) {
            b.add(new Insn(LD_W_ABS, 0, 0, OFF_ARGS + 8 * e.condArg()));
            b.add(new Insn(JSET_K, 1, 0, (int) (long) e.condValues().get(0))); // a bit set: trace
        } else if (e.condArg() >= 0) {
            b.add(new Insn(LD_W_ABS, 0, 0, OFF_ARGS + 8 * e.condArg()));
            List<Long> v = e.condValues();
            for (int i = 0; i < v.size(); i++) {
                // to the block's "ret TRACE|1", which follows "ret ALLOW"
                int toTrace = (v.size() - i - 1) + 1;
                b.add(new Insn(JEQ_K, toTrace, 0, (int) (long) v.get(i)));
            }
        } else {
            b.add(new Insn(LD_W_ABS, 0, 0, OFF_ARGS + 8 * e.pidArg()));
            b.add(new Insn(JEQ_K, 0, 1, 0)); // pid 0: the caller itself
        }
        b.add(new Insn(RET_K, 0, 0, RET_ALLOW));
        b.add(new Insn(RET_K, 0, 0, RET_TRACE | DATA_ALWAYS));
        return b;
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
