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
