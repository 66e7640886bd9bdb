package org.viewos.core.internal.trace;

import java.util.logging.Logger;

import org.viewos.core.internal.ffi.Native;

/**
 * Terminal job control for a daemon that shares its process group with the command it traces (as
 * strace does): the daemon ignores the terminal's SIGTSTP itself and stops only once a tracee of its
 * own job has stopped, so the user's shell sees the whole job stop and continue together.
 */
final class JobControl {
    private static final Logger LOG = Logger.getLogger(JobControl.class.getName());
    private static final int SYS_GETPGID = org.viewos.core.internal.arch.SyscallTable.x86_64().number("getpgid");
    private static volatile boolean installed;

    private JobControl() {
    }

    static synchronized void install() {
        if (installed) {
            return;
        }
        installed = true;
        try {
            sun.misc.Signal.handle(new sun.misc.Signal("TSTP"), s -> { });
        } catch (IllegalArgumentException | UnsupportedOperationException | LinkageError e) {
            LOG.fine("SIGTSTP stays default: " + e);
        }
    }

    static boolean sameJob(int pid) {
        long theirs = Native.LIBC.syscall(SYS_GETPGID, pid, 0, 0, 0, 0);
        long ours = Native.LIBC.syscall(SYS_GETPGID, 0, 0, 0, 0, 0);
        return theirs > 0 && theirs == ours;
    }

    static void stopSelf() {
        Native.LIBC.kill(Native.LIBC.getpid(), Ptrace.SIGSTOP);
    }
}
