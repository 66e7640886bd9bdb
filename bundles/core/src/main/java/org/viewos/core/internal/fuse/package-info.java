/**
 * FUSE without /dev/fuse: {@link org.viewos.core.internal.fuse.FuseTransportImpl} starts a real FUSE
 * daemon with one end of a SOCK_SEQPACKET socketpair as its /dev/fuse, for modules that play the
 * kernel's side of the protocol. Daemons are spawned from one dedicated thread, never from a
 * tracer thread: a tracer waits for its own children only and must not count a daemon as one.
 */
package org.viewos.core.internal.fuse;
