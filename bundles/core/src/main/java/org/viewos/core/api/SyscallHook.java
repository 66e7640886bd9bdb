package org.viewos.core.api;

/**
 * The low-level escape hatch: a module serving whole system calls by name ({@code uname},
 * {@code clock_gettime}, ...), for claims that are not paths. Published as a DS service with the
 * {@link #SYSCALLS_PROPERTY} listing the calls; the core starts stopping those calls in every
 * process of the view once such a service exists. Among hooks for one call the service order of
 * their modules decides (um_mov_service); a hook that returns {@link #PASS} passes the call on.
 * Called on the tracer thread: be quick, never block.
 */
public interface SyscallHook {
    /** Service property: the names of the calls served (String or String[]), as in the syscall table. */
    String SYSCALLS_PROPERTY = "viewos.syscalls";

    /** Returned by {@link #enter} to let the call go on (to the next hook, then the kernel). */
    long PASS = Long.MIN_VALUE;

    /**
     * At the entry of a call this hook serves.
     *
     * @return {@link #PASS}, or the call's result ({@code >= 0}) without running it in the kernel
     * @throws Errno to fail the call with that error
     */
    long enter(SyscallCall call) throws Errno;

    /**
     * Whether programs started from now on must not use the vDSO (so that clock_gettime,
     * gettimeofday and time really are system calls this hook can see). Asked at every execve.
     */
    default boolean needsSyscallsForTime() {
        return false;
    }
}
