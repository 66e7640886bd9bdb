package org.viewos.core.api;

import java.util.List;

/**
 * Native help for FUSE modules (modules have no native code of their own): starts a real FUSE
 * daemon whose /dev/fuse is one end of a {@code SOCK_SEQPACKET} socketpair, so the module plays the
 * kernel's side of the FUSE protocol on the other end. No /dev/fuse, no kernel mount, no root.
 * Published by the core as a service.
 */
public interface FuseTransport {
    /**
     * Starts {@code argv} (argv[0] looked up in PATH) outside any view, with the daemon's end of the
     * socketpair as file descriptor {@code fd} (a libfuse3 daemon takes {@code /dev/fd/FD} as its
     * mountpoint), stdin from /dev/null and stdout/stderr appended to {@code log} (null: /dev/null).
     *
     * @throws Errno ENOENT when the program is not found, EIO when it cannot be started
     */
    FuseConnection start(List<String> argv, int fd, String log) throws Errno;

    /**
     * A new listening AF_UNIX {@code SOCK_SEQPACKET} socket in the core's private directory, for a
     * virtual {@code /dev/fuse} ({@link VirtualFile#connectTo}): a FUSE program in the view that
     * opens it gets a socket connected there. Returns its path.
     */
    String listen() throws Errno;

    /**
     * The connection a traced process made to {@code path} (from {@link #listen}), taken once: the
     * listening socket is closed and removed. The connection has no daemon process of its own
     * ({@link FuseConnection#pid} is 0): it ends when the program closes its end.
     *
     * @throws Errno EINVAL when {@code path} is not a listening socket of ours or nobody connected
     */
    FuseConnection accept(String path) throws Errno;
}
