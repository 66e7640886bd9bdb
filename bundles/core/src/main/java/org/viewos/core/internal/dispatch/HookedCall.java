package org.viewos.core.internal.dispatch;

import java.util.List;
import java.util.logging.Level;
import java.util.logging.Logger;

import org.viewos.core.api.Errno;
import org.viewos.core.api.SyscallCall;
import org.viewos.core.api.SyscallHook;
import org.viewos.core.internal.arch.Regs;
import org.viewos.core.internal.ffi.Scratch;
import org.viewos.core.internal.trace.Ptrace;
import org.viewos.core.internal.trace.Tracee;

/** A traced call handed to {@link SyscallHook}s: their view of the registers and the caller's memory. */
final class HookedCall implements SyscallCall {
    private static final Logger LOG = Logger.getLogger(HookedCall.class.getName());
    private final Tracee t;
    private final Ptrace p;
    private Regs regs;
    private final String name;
    private final java.util.function.Function<String, String> resolver;
    private ExitAction exit;
    private boolean changed;
    /** How far below the stack pointer {@link #push} has written (below the core's own area). */
    private long pushed = PUSH_BASE;
    /** The core's path translation writes within 16 KiB below the stack pointer: hooks go below. */
    private static final long PUSH_BASE = 16 * 1024;
    private static final long PUSH_LIMIT = 4L << 20;

    HookedCall(Tracee t, Ptrace p, Regs regs, String name, ResolverFn resolver) {
        this.t = t;
        this.p = p;
        this.regs = regs;
        this.name = name;
        this.resolver = path -> {
            try {
                return resolver.hostPath(path);
            } catch (Errno e) {
                throw new ResolveFailure(e);
            }
        };
    }

    /** Resolves a view path of the caller to its host path. */
    @FunctionalInterface
    interface ResolverFn {
        String hostPath(String path) throws Errno;
    }

    private static final class ResolveFailure extends RuntimeException {
        private static final long serialVersionUID = 1L;
        final Errno errno;

        ResolveFailure(Errno e) {
            super(null, null, false, false);
            this.errno = e;
        }
    }

    /** The registers after the hooks (changed by {@link #setArg}); already pushed when changed. */
    Regs regs() {
        return regs;
    }

    /**
     * Asks the hooks in order. Returns true when one of them decided the call (it then has its result
     * or runs with an exit action); false when all passed without an exit action.
     */
    boolean run(List<SyscallHook> hooks) throws Errno {
        for (SyscallHook h : hooks) {
            long r;
            try {
                r = h.enter(this);
            } catch (Errno e) {
                throw e;
            } catch (RuntimeException e) {
                LOG.log(Level.WARNING, "viewos: hook for " + name + " failed", e);
                throw new Errno(Errno.EIO, "hook for " + name + ": " + e);
            }
            if (r != SyscallHook.PASS) {
                p.setRegs(t.tid(), regs.skipped(r));
                return true;
            }
            if (changed) {
                p.setRegs(t.tid(), regs);
                changed = false;
            }
            if (exit != null) {
                ExitAction a = exit;
                t.atExit(result -> {
                    try {
                        return a.exit(this, result);
                    } catch (Errno e) {
                        return -e.code();
                    } catch (RuntimeException e) {
                        LOG.log(Level.WARNING, "viewos: exit hook for " + name + " failed", e);
                        return -Errno.EIO;
                    }
                });
                return true;
            }
        }
        return false;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public int tid() {
        return t.tid();
    }

    @Override
    public long arg(int i) {
        return regs.arg(i);
    }

    @Override
    public byte[] read(long address, int length) throws Errno {
        if (length < 0 || length > Scratch.DATA_SIZE) {
            throw new Errno(Errno.EINVAL, "read of " + length + " bytes");
        }
        long n = p.scratch().read(t.tid(), address, length);
        if (n != length) {
            throw new Errno(Errno.EFAULT);
        }
        return java.util.Arrays.copyOf(p.scratch().bytes(length), length);
    }

    @Override
    public void write(long address, byte[] data) throws Errno {
        if (data.length > Scratch.DATA_SIZE || p.scratch().write(t.tid(), address, data, data.length) != data.length) {
            throw new Errno(Errno.EFAULT);
        }
    }

    @Override
    public void setArg(int i, long value) throws Errno {
        if (i < 0 || i > 5) {
            throw new Errno(Errno.EINVAL, "no argument " + i);
        }
        regs = regs.withArg(i, value);
        changed = true;
    }

    @Override
    public long push(byte[] data) throws Errno {
        long at = (regs.sp() - pushed - data.length) & ~15L;
        if (regs.sp() - at > PUSH_LIMIT) {
            throw new Errno(Errno.E2BIG, "more than " + PUSH_LIMIT + " bytes pushed for one call");
        }
        for (int off = 0; off < data.length; off += Scratch.DATA_SIZE) {
            int n = Math.min(Scratch.DATA_SIZE, data.length - off);
            byte[] part = off == 0 && n == data.length ? data : java.util.Arrays.copyOfRange(data, off, off + n);
            if (p.scratch().write(t.tid(), at + off, part, n) != n) {
                throw new Errno(Errno.EFAULT);
            }
        }
        pushed = regs.sp() - at;
        return at;
    }

    @Override
    public String hostPath(String path) throws Errno {
        try {
            return resolver.apply(path);
        } catch (ResolveFailure f) {
            throw f.errno;
        }
    }

    @Override
    public void atExit(ExitAction action) {
        this.exit = action;
    }
}
