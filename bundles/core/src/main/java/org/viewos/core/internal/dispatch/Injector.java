package org.viewos.core.internal.dispatch;

import org.viewos.core.internal.trace.Tracee;

/**
 * Runs system calls in a tracee stopped at a seccomp stop: {@link #begin}, then calls in order, then
 * {@link Session#end}, which puts the pending call's registers back so that the caller can finish
 * the call with the result it wants.
 */
@FunctionalInterface
public interface Injector {
    Session begin(Tracee t);

    /** One series of injected calls in one stopped tracee. */
    interface Session {
        /** Runs one call; its result (-errno; -ESRCH when the tracee went away). */
        long call(long nr, long... args);

        void end();
    }
}
