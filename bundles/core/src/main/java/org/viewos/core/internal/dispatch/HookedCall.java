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
    private final Regs regs;
    private final String name;
    private ExitAction exit;

    HookedCall(Tracee t, Ptrace p, Regs regs, String name) {
        this.t = t;
        this.p = p;
        this.regs = regs;
        this.name = name;
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
    public void atExit(ExitAction action) {
        this.exit = action;
    }
}
