package org.viewos.core.api;

/**
 * What {@code stat(2)} reports about a {@link VirtualFile}.
 *
 * @param mode  type and permission bits (e.g. {@code VirtualFile.S_IFBLK | 0660})
 * @param rdev  the device number of a device file ({@link #makedev}), else 0
 * @param size  the size in bytes (a block device's capacity)
 * @param mtime seconds since the epoch of the last change (0: the mount's time)
 */
public record FileStat(int mode, long rdev, long size, int uid, int gid, long mtime) {
    /** Linux's {@code makedev(major, minor)}. */
    public static long makedev(int major, int minor) {
        return ((long) (major & 0xfff) << 8) | (minor & 0xff) | ((long) (minor & ~0xff) << 12)
                | ((long) (major & ~0xfff) << 32);
    }

    public static int major(long dev) {
        return (int) (((dev >>> 8) & 0xfff) | ((dev >>> 32) & ~0xfffL));
    }

    public static int minor(long dev) {
        return (int) ((dev & 0xff) | ((dev >>> 12) & ~0xffL));
    }
}
