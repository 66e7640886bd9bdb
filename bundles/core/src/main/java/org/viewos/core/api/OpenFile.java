package org.viewos.core.api;

import java.nio.ByteBuffer;

/**
 * One open file description of a {@link VirtualFile}. The core keeps the file position and calls
 * these on the tracer thread: they must not block (a stream file with nothing to read throws
 * {@code EAGAIN} and reports readiness through {@link #watch}; the core then waits for it).
 */
public interface OpenFile {
    /**
     * Reads from {@code position} (ignored by a stream) into {@code dst}.
     *
     * @return the number of bytes read, 0 at the end of the file
     * @throws Errno EAGAIN when a stream has nothing yet, EINVAL when not readable
     */
    default int read(long position, ByteBuffer dst) throws Errno {
        throw new Errno(Errno.EINVAL);
    }

    /**
     * Writes {@code src} at {@code position} (ignored by a stream).
     *
     * @return the number of bytes written (may be short)
     * @throws Errno ENOSPC past the end of a device, EROFS, EAGAIN for a stream that is full
     */
    default int write(long position, ByteBuffer src) throws Errno {
        throw new Errno(Errno.EINVAL);
    }

    /**
     * The size {@code SEEK_END} counts from; a negative value: the file is a stream (lseek, pread
     * and pwrite give ESPIPE, reads and writes take no position).
     */
    default long size() {
        return 0;
    }

    /**
     * A device's own ioctl (the core handles FIONBIO, FIOCLEX, FIONCLEX, FIOASYNC itself).
     *
     * @param request the request number as the caller passed it
     * @param arg     the argument: a value or an address in the caller's memory
     * @param memory  the caller's memory, for requests that pass a pointer
     * @return the call's result
     * @throws Errno ENOTTY for a request the device does not know
     */
    default long ioctl(int request, long arg, Memory memory) throws Errno {
        throw new Errno(Errno.ENOTTY);
    }

    /** fsync/fdatasync: what was written is stored. */
    default void sync() throws Errno {
    }

    /** The last descriptor of this open file is closed (or its processes are gone). */
    default void close() {
    }

    /**
     * For a stream: the core gives a callback the module calls, from any thread, whenever the file
     * becomes readable or stops being so (poll, select, epoll and blocking reads follow it). A file
     * with {@link #size()} {@code >= 0} is always ready and never asked.
     */
    default void watch(Readiness readiness) {
    }

    /** Readiness of a stream file, set by the module. */
    @FunctionalInterface
    interface Readiness {
        void readable(boolean readable);
    }

    /** The calling process's memory, for ioctl arguments passed by pointer. */
    interface Memory {
        byte[] read(long address, int length) throws Errno;

        void write(long address, byte[] data) throws Errno;
    }
}
