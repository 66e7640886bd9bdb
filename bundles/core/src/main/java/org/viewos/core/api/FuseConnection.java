package org.viewos.core.api;

/**
 * The module's end of a FUSE daemon's /dev/fuse (see {@link FuseTransport}). Requests and replies
 * are whole FUSE messages (header included, little-endian, as in linux/fuse.h). Thread-safe for one
 * sender and one receiver at a time.
 */
public interface FuseConnection extends AutoCloseable {
    /** The daemon's pid (0 for a program of the view connected through a virtual /dev/fuse). */
    int pid();

    /**
     * Sends one request: a {@code fuse_in_header} (whose len must equal {@code request.length})
     * and its body. @throws Errno ENODEV when the daemon has gone
     */
    void send(byte[] request) throws Errno;

    /**
     * Receives one reply or notification, reassembled to the length its {@code fuse_out_header}
     * gives (libfuse may split a reply into several records).
     *
     * @throws Errno ETIMEDOUT when nothing came within {@code timeoutMillis}, ENODEV when the daemon
     *               has gone (closed its end or died), EIO for a malformed reply
     */
    byte[] receive(long timeoutMillis) throws Errno;

    /** Whether the daemon process is still running. */
    boolean alive();

    /** Closes our end (the daemon sees ENODEV and exits), then ends and reaps the daemon. */
    @Override
    void close();
}
