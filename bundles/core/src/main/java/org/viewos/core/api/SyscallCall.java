package org.viewos.core.api;

/** One traced system call, as a {@link SyscallHook} sees it. Valid only during the hook's call. */
public interface SyscallCall {
    /** The call's name in the syscall table, e.g. {@code "uname"}. */
    String name();

    /** The calling thread's id. */
    int tid();

    /** Argument {@code i} (0..5) as the raw register value. */
    long arg(int i);

    /** Reads the caller's memory. @throws Errno EFAULT for a bad address */
    byte[] read(long address, int length) throws Errno;

    /** Writes the caller's memory. @throws Errno EFAULT for a bad address */
    void write(long address, byte[] data) throws Errno;

    /**
     * Changes argument {@code i} for the rest of the call's way: later hooks, the core's path
     * translation (a path argument set here is a path of the view), then the kernel.
     */
    void setArg(int i, long value) throws Errno;

    /**
     * Copies {@code data} into the caller's memory, below its stack and out of the way of the core's
     * own use, for {@link #setArg}; valid for this call only. Successive calls use fresh space.
     *
     * @return the address
     * @throws Errno EFAULT when the caller's stack has no room
     */
    long push(byte[] data) throws Errno;

    /**
     * Where a path of the caller's view really is: resolved from its cwd (when relative) through
     * the view's mounts, following symlinks; the host path a module should read.
     *
     * @throws Errno ENOENT, ELOOP, ... as the walk would fail
     */
    String hostPath(String path) throws Errno;

    /**
     * Lets the kernel run the call, then gives its result to {@code action} at the call's exit; what
     * the action returns is what the caller sees (a negative value is {@code -errno}). The hook must
     * still return {@link SyscallHook#PASS}.
     */
    void atExit(ExitAction action);

    /** Work done when the kernel has run the call. */
    @FunctionalInterface
    interface ExitAction {
        long exit(SyscallCall call, long result) throws Errno;
    }
}
