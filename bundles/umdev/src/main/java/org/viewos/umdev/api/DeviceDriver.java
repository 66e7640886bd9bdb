package org.viewos.umdev.api;

import java.util.Map;

import org.viewos.core.api.Errno;

/**
 * A umdev driver, published as an OSGi service: {@code viewmount -t umdev<NAME> SOURCE /dev/x}
 * mounts a {@link Device} it makes. The umdev module serves stat, open and the device's place in
 * the tree; the driver serves the data. Other bundles add drivers (umdevtap-vde is one).
 */
public interface DeviceDriver {
    /** The driver's name: the mount type is {@code "umdev" + name()}. */
    String name();

    /** One line for um_ls_service's list of drivers. */
    default String description() {
        return name();
    }

    /**
     * Makes a device for one mount.
     *
     * @param source  the mount source (a host path for an existing file, else as given, e.g. "none")
     * @param options the driver's own options (the generic ones — char, block, major, minor, mode,
     *                uid, gid, nsubdev, ro, rw — are taken out before)
     * @throws Errno EINVAL for bad options, ENOENT / EACCES for a source it cannot use
     */
    Device create(String source, Map<String, String> options, boolean readOnly) throws Errno;
}
