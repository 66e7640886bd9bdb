package org.viewos.core.api;

import java.util.Map;

/**
 * A file system kind a module can mount, chosen by the {@code -t} type of {@code mount(2)} /
 * {@code viewmount}. Mirrors Linux's {@code struct file_system_type}.
 */
public interface FileSystemType {
    /**
     * Optional service property {@code "SOURCE TARGET"}: the core mounts this type there as soon as
     * the service is bound (umview's unreal mounts {@code /unreal} this way), and the mount goes
     * with the service.
     */
    String AUTOMOUNT_PROPERTY = "viewos.automount";

    /**
     * Optional service property: {@code "true"} promises that the type's mounts answer every call
     * promptly, from memory or the host's file system (viewfs, unreal, umdev): the tracer thread then
     * calls them itself. Without it each mount gets a thread of its own and its calls run there,
     * one at a time, while the view's other processes go on being served: a module that waits for a
     * daemon, the network or a bug keeps only its own callers waiting.
     */
    String DIRECT_PROPERTY = "viewos.direct";

    /** Whether this type serves {@code fstype} (e.g. {@code "viewfs"}, any {@code "umfuse*"}). */
    boolean handles(String fstype);

    /**
     * Whether a mount of this type serves its mount point itself (a device node such as
     * {@code /dev/ram0}): the mount point then need not exist, only its directory.
     */
    default boolean servesMountPoint() {
        return false;
    }

    /**
     * Mounts {@code source} at the view path {@code target}.
     *
     * @param source  the mount source: a path of the view (absolute, or relative to the caller's cwd
     *                and existing) is given as the host path it resolves to; anything else (e.g.
     *                {@code "none"}, {@code "host:/dir"}) as given
     * @param target  canonical absolute view path of the mount point
     * @param fstype  the type asked for
     * @param options the {@code -o} options, split at commas; a bare option maps to {@code ""}; the
     *                values of a repeated option are joined with {@code ':'}; an empty option is
     *                refused with EINVAL before the module is asked
     * @throws Errno EINVAL for bad options, ENOENT for a missing source, ENODEV for an unknown type
     */
    FileSystem mount(String source, String target, String fstype, Map<String, String> options) throws Errno;
}
