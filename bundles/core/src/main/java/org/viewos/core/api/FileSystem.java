package org.viewos.core.api;

/**
 * One mounted file system inside a view (Linux's {@code struct super_block}, much reduced).
 *
 * <p>The core canonicalizes every path a traced call names; when the canonical path lies under this
 * mount's target, it asks {@link #hostPath} where the file really is. Mounts stack like Unix mounts:
 * the most recent mount covering a path wins; returning {@code null} passes the path on to the next
 * older mount (umview's confirm predicate, e.g. {@code except=}).
 */
public interface FileSystem {
    /**
     * Maps a path inside this mount to the host path the kernel should use instead.
     *
     * @param relative the path below the mount point, without a leading slash ({@code ""} is the
     *                 mount point itself); already canonical: no {@code .}, {@code ..} or empty names
     * @param access   what the traced call is about to do with it
     * @return the absolute host path, or {@code null} when this mount does not claim the path
     * @throws Errno to fail the traced call with that error
     */
    String hostPath(String relative, Access access) throws Errno;

    /**
     * What {@link #hostPath} returns when the module has carried out the call itself (e.g. cow's
     * unlink leaves a whiteout): the traced call then succeeds with 0 and never reaches the kernel.
     * Compared with {@code ==}.
     */
    String DONE = new String("<viewos: done by module>");

    /**
     * What {@link #hostPath} returns for a file the module serves itself (a device, a control file):
     * the core then asks {@link #virtualFile} and carries out stat, open, read, write, ioctl... on it
     * through the module. Compared with {@code ==}.
     */
    String VIRTUAL = new String("<viewos: virtual file>");

    /**
     * The file behind a path for which {@link #hostPath} returned {@link #VIRTUAL}.
     *
     * @param relative as for {@link #hostPath}; numbered siblings (see {@link #subdevices}) come as
     *                 {@code "#N"}
     */
    default VirtualFile virtualFile(String relative) throws Errno {
        throw new Errno(Errno.ENOENT);
    }

    /**
     * The network stack this mount is (umnet: {@code viewmount -t umnetlwipv6 ... /dev/net/lwip}),
     * or null. Processes choose it with {@code mstack PATH COMMAND}.
     */
    default NetworkStack networkStack() {
        return null;
    }

    /**
     * How many numbered siblings of the mount point this mount serves too: with 4, a mount at
     * {@code /dev/hda} also covers {@code /dev/hda1} to {@code /dev/hda4} (umview's subdevices, e.g.
     * partitions), asked for as {@code "#1"} .. {@code "#4"}.
     */
    default int subdevices() {
        return 0;
    }

    /**
     * The reverse of {@link #hostPath}: which path below this mount a host path shows, so that a
     * directory fd or cwd the kernel knows by its host path is known by its view path again (for
     * {@code openat(dirfd, ...)}, {@code getcwd}, {@code fchdir}). Asked of every mount for many
     * calls, also while another call of the same mount is waiting: it must answer at once, from
     * memory, on any thread (like {@link #subdevices}).
     *
     * @param hostPath an absolute host path (canonical)
     * @return the relative path below the mount (as {@link #hostPath} takes it), or null if none
     */
    default String relativeOf(String hostPath) {
        return null;
    }

    /**
     * A {@link #relativeOf} for file systems kept in one host directory: the path of
     * {@code hostPath} below {@code dir} ({@code ""} for {@code dir} itself), or null.
     */
    static String below(String dir, String hostPath) {
        if (hostPath.equals(dir)) {
            return "";
        }
        return hostPath.startsWith(dir + "/") ? hostPath.substring(dir.length() + 1) : null;
    }

    /** Called when the mount is removed. Throw {@code EBUSY} to refuse while files are in use. */
    default void unmount() throws Errno {
    }

    /** The kind of access a path is looked up for. */
    enum Access {
        /** stat, readlink, access, getxattr, chdir and other calls that only look. */
        LOOKUP,
        /** open for reading. */
        READ,
        /** open for writing, truncate, chmod, chown, utimes, setxattr. */
        WRITE,
        /** create, mkdir, mknod, symlink, link or rename target. */
        CREATE,
        /** unlink, rmdir, rename source. */
        DELETE,
        /** execve, execveat: the file is about to be run (its content must be there). */
        EXEC
    }
}
