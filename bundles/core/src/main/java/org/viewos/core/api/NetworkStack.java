package org.viewos.core.api;

/**
 * A TCP/IP stack a module serves (umnet): processes whose default stack it is (see {@code mstack},
 * msocket semantics) get their sockets from here. A mount of the module's file system type makes
 * one ({@link FileSystem#networkStack}); the mount point names it ({@code /dev/net/lwip}).
 */
public interface NetworkStack {
    /**
     * Creates a socket (the {@code SOCK_NONBLOCK}/{@code SOCK_CLOEXEC} bits are already taken out of
     * {@code type} by the core).
     *
     * @throws Errno EAFNOSUPPORT for a family this stack does not serve, EPROTONOSUPPORT, ...
     */
    SocketFile socket(int domain, int type, int protocol) throws Errno;

    /** Whether sockets of {@code domain} come from this stack (others go to the host's stack). */
    default boolean serves(int domain) {
        return true;
    }
}
