package org.viewos.core.internal.trace;

/**
 * A traced process (thread group): what its threads share and the tracer must know. Confined to the
 * tracer thread.
 */
final class TraceeGroup {
    final int tgid;
    /** How many of the view's stacked filters the process carries (seccomp filters are per process). */
    int filters;
    /** Address of a {@code syscall} instruction in its vDSO (0: not looked up since the last exec). */
    long syscallInsn;
    /** A PTRACE_INTERRUPT is on its way to one of its threads, to add the missing filters. */
    boolean interrupting;
    /**
     * Descriptor numbers its own filters trace fd calls for (virtual files): inherited with the
     * filters by fork, never shrinking, since a filter can never be removed.
     */
    final java.util.BitSet vfds = new java.util.BitSet();

    TraceeGroup(int tgid, int filters) {
        this.tgid = tgid;
        this.filters = filters;
    }
}
