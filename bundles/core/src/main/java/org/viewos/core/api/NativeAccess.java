package org.viewos.core.api;

import java.util.function.LongConsumer;

/**
 * C calls for modules that drive a native library (umnet's liblwipv6), without jnr types in the
 * module: open a library, call its functions with up to six integer or pointer arguments, move
 * bytes in and out of native memory, and make C callbacks. A DS service of the core.
 */
public interface NativeAccess {
    /** dlopen(path): @throws Errno ENOENT with dlerror's message */
    NativeLibrary open(String path) throws Errno;

    /** Calls {@code function} with integer/pointer {@code args} (at most 6); returns its 64-bit result. */
    long call(long function, long... args);

    /** The errno the calling thread's last {@link #call} left. */
    int errno();

    long malloc(long size);

    void free(long address);

    byte[] read(long address, int length);

    void write(long address, byte[] data);

    /**
     * A C function pointer of type {@code void (*)(void *arg)} running {@code cb.accept(arg)} on
     * whatever thread calls it; valid until {@link Callback#release}.
     */
    Callback callback(LongConsumer cb);

    /** An open shared library. */
    interface NativeLibrary {
        /** dlsym: @throws Errno ENOENT when the library lacks it */
        long symbol(String name) throws Errno;
    }

    /** A callback's native address and life. */
    interface Callback {
        long address();

        void release();
    }
}
