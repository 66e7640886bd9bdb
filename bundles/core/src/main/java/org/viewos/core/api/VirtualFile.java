package org.viewos.core.api;

/**
 * A file whose content a module serves itself: a device, a control file such as binfmt_misc's
 * {@code register}. The core gives the traced process a real placeholder descriptor (so dup, fork,
 * close-on-exec, flock and poll work as for any file) and routes the calls that touch its data
 * (read, write, their p/v variants, lseek, ioctl, fstat, fsync) to the {@link OpenFile} it opened.
 */
public interface VirtualFile {
    /** What stat shows; the core fills in the device and inode numbers when they are 0. */
    FileStat stat() throws Errno;

    /**
     * Opens the file: one open file description (shared by dup and fork, as in the kernel).
     *
     * @param flags the open flags of the call ({@code O_RDONLY/O_WRONLY/O_RDWR}, {@code O_NONBLOCK},
     *              {@code O_TRUNC}, ...)
     * @throws Errno e.g. EROFS for writing a read-only device, EACCES, EBUSY
     */
    OpenFile open(int flags) throws Errno;

    /**
     * Where the bytes of this file really are, when a host file holds them (a partition of a disk
     * image: the image at the partition's offset): mounting the file then mounts that part of the
     * host file (e.g. umfuse's fuse2fs with {@code offset=}). Null: no host file does.
     */
    default Backing backing() {
        return null;
    }

    /**
     * A file whose open gives the caller a socket instead of an ordinary descriptor, as opening
     * {@code /dev/fuse} gives a channel to the kernel: the host path of a listening AF_UNIX
     * {@code SOCK_SEQPACKET} socket; the core connects the caller's new descriptor there (so reads
     * and writes on it never stop at the tracer). Null (the default): an ordinary virtual file.
     * A mount option {@code fd=N} naming such a descriptor of the mounting process reaches the
     * module with {@code viewos.socket=PATH} added (the listening socket's path).
     */
    default String connectTo() throws Errno {
        return null;
    }

    /** A window of a host file. */
    record Backing(String hostPath, long offset, long length) {
    }

    /** File type bits of {@link FileStat#mode()}. */
    int S_IFMT = 0170000, S_IFREG = 0100000, S_IFCHR = 0020000, S_IFBLK = 0060000, S_IFDIR = 0040000;
    /** Open flags a module may look at. */
    int O_ACCMODE = 3, O_RDONLY = 0, O_WRONLY = 1, O_RDWR = 2, O_TRUNC = 01000, O_APPEND = 02000,
            O_NONBLOCK = 04000;
}
