package org.viewos.core.internal.ffi;

/** A failed libc call: which one, and its errno. */
public final class NativeException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final int errno;

    public NativeException(String what, int errno) {
        super(what + " failed: errno " + errno, null, false, false);
        this.errno = errno;
    }

    public int errno() {
        return errno;
    }
}
