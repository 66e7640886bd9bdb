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
}
