package org.viewos.umdev;

import java.nio.ByteBuffer;

import org.viewos.core.api.Errno;

/** The bytes behind a block device: a RAM area or an image file. */
interface Storage {
    long size();

    /** Reads at {@code position} (within the size) into {@code dst}; returns the bytes read. */
    int read(long position, ByteBuffer dst) throws Errno;

    /** Writes {@code src} at {@code position} (within the size); returns the bytes written. */
    int write(long position, ByteBuffer src) throws Errno;

    default void sync() throws Errno {
    }
}
