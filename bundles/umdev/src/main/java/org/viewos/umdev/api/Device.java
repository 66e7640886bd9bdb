package org.viewos.umdev.api;

import org.viewos.core.api.Errno;
import org.viewos.core.api.OpenFile;

/**
 * A mounted device: unit 0 is the mount point itself, units 1..{@link #units()} its numbered
 * subdevices (partitions: {@code /dev/hda1}...).
 */
public interface Device {
    /** Whether it is a block device (else a character device), unless the mount says otherwise. */
    boolean block();

    /** Default major and minor numbers of unit 0 (unit N gets minor + N). */
    int major();

    int minor();

    /** How many numbered subdevices there are now (partitions may change after BLKRRPART). */
    default int units() {
        return 0;
    }

    /** The size of a unit in bytes (0 for a character device). */
    long size(int unit);

    /**
     * Opens a unit.
     *
     * @param flags open(2) flags
     * @throws Errno ENXIO for a unit that is gone, EROFS for writing a read-only device
     */
    OpenFile open(int unit, int flags) throws Errno;

    /** The host file window holding a unit's bytes (see {@code VirtualFile.backing}), or null. */
    default org.viewos.core.api.VirtualFile.Backing backing(int unit) {
        return null;
    }

    /** The mount is removed: nothing of it is open any more; store what is pending. */
    default void close() {
    }
}
