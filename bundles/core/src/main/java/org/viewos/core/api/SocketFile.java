package org.viewos.core.api;

import java.nio.ByteBuffer;

/**
 * A socket of a module's {@link NetworkStack}. Addresses are the raw {@code struct sockaddr} bytes
 * the program passes and gets. As every {@link OpenFile}, it is called on the tracer thread and
 * must not block: when it cannot go on it throws {@code EAGAIN} and the core waits — for {@link
 * Readiness readability} on receiving calls and accept, by polling again shortly on sending calls
 * and connect — unless the caller asked not to block. {@link #size()} must be negative (a stream).
 */
public interface SocketFile extends OpenFile {
    void bind(byte[] address) throws Errno;

    void listen(int backlog) throws Errno;

    /**
     * Connects. Throws EAGAIN while a connection is being set up (the core calls again, for a
     * blocking socket and also for a non-blocking one: connect returns when it is done), then
     * returns when connected or throws the failure (ECONNREFUSED, ETIMEDOUT, ...).
     */
    void connect(byte[] address) throws Errno;

    /** Accepts a connection (EAGAIN when none is pending); {@code peer[0]} gets its address. */
    SocketFile accept(byte[][] peer) throws Errno;

    /** Sends {@code data} (to {@code address}, or the connected peer when null); returns bytes taken. */
    int send(ByteBuffer data, int flags, byte[] address) throws Errno;

    /** Receives into {@code dst}; {@code from[0]} gets the sender's address (datagram sockets). */
    int receive(ByteBuffer dst, int flags, byte[][] from) throws Errno;

    byte[] localAddress() throws Errno;

    byte[] peerAddress() throws Errno;

    void shutdown(int how) throws Errno;

    void setOption(int level, int name, byte[] value) throws Errno;

    /** The option's value, at most {@code maxLength} bytes. */
    byte[] getOption(int level, int name, int maxLength) throws Errno;

    @Override
    default int read(long position, ByteBuffer dst) throws Errno {
        return receive(dst, 0, new byte[1][]);
    }

    @Override
    default int write(long position, ByteBuffer src) throws Errno {
        return send(src, 0, null);
    }

    @Override
    default long size() {
        return -1;
    }
}
