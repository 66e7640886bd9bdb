package org.viewos.core.internal.dispatch;

import java.util.List;

import org.viewos.core.api.Errno;
import org.viewos.core.internal.vfs.MountTable;

/** What the dispatcher needs of the view on a stop. Implementations are thread-safe. */
public interface ViewState {
    /** The current mount table: a cheap snapshot. */
    MountTable mounts();

    /** Whether a loaded module (or an alias) claims this mount type: then mount(2) is virtual. */
    boolean claimsFsType(String fstype);

    /** Whether the module claiming this type serves its mount point itself (no file needed there). */
    default boolean servesMountPoint(String fstype) {
        return false;
    }

    /** Mounts for a traced mount(2); {@code target} is a canonical view path. */
    void userMount(String source, String target, String fstype, String options) throws Errno;

    void umount(String target) throws Errno;

    /** Keeps the message of a failed mount(2) for the process, for {@code viewmount} to print. */
    void noteError(int pid, String message);

    /** The hooks serving a call, in service order (empty, never null). */
    List<org.viewos.core.api.SyscallHook> hooksFor(String syscall);

    /** Whether a hook wants programs to make real system calls for the clock. */
    boolean needsSyscallsForTime();

    /**
     * Serves one request of an in-view command (the {@code viewos_ctl} call).
     *
     * @param pid  the calling process
     * @param argv the request: an operation name and its arguments
     * @return the text the command prints
     */
    String control(int pid, List<String> argv) throws Errno;
}
