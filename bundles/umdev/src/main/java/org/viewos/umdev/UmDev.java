package org.viewos.umdev;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.viewos.core.api.Errno;
import org.viewos.core.api.FileStat;
import org.viewos.core.api.FileSystem;
import org.viewos.core.api.FileSystemType;
import org.viewos.core.api.OpenFile;
import org.viewos.core.api.ViewModule;
import org.viewos.core.api.VirtualFile;
import org.viewos.umdev.api.Device;
import org.viewos.umdev.api.DeviceDriver;

/**
 * umview's umdev: virtual character and block devices, private to the view.
 * {@code viewmount -t umdev<driver> [-o char|block,major=,minor=,mode=,uid=,gid=,nsubdev=,ro] SOURCE
 * /dev/x}: the path (it need not exist) becomes a device node with those numbers; with subdevices
 * (partitions) {@code /dev/x1}... too. Drivers are services ({@link DeviceDriver}): this bundle
 * brings null, zero, ramdisk and mbr; other bundles add more.
 */
@Component(service = {ViewModule.class, FileSystemType.class},
        property = {ViewModule.NAME_PROPERTY + "=umdev", FileSystemType.DIRECT_PROPERTY + "=true"})
public final class UmDev implements ViewModule, FileSystemType {
    private static final List<String> GENERIC = List.of("char", "block", "major", "minor", "mode", "uid", "gid",
            "nsubdev", "ro", "rw");

    private final List<DeviceDriver> drivers = new CopyOnWriteArrayList<>(List.of(
            Drivers.Char.nullDevice(), Drivers.Char.zero(), new RamDisk.Driver(), new Mbr.Driver()));

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC)
    void addDriver(DeviceDriver d) {
        drivers.add(d);
    }

    void removeDriver(DeviceDriver d) {
        drivers.remove(d);
    }

    @Override
    public String name() {
        return "umdev";
    }

    @Override
    public String description() {
        StringBuilder sb = new StringBuilder("virtual devices (");
        for (DeviceDriver d : drivers) {
            sb.append(sb.charAt(sb.length() - 1) == '(' ? "" : ", ").append("umdev").append(d.name());
        }
        return sb.append(")").toString();
    }

    @Override
    public boolean handles(String fstype) {
        return driver(fstype) != null;
    }

    @Override
    public boolean servesMountPoint() {
        return true;
    }

    private DeviceDriver driver(String fstype) {
        if (!fstype.startsWith("umdev")) {
            return null;
        }
        for (DeviceDriver d : drivers) {
            if (fstype.equals("umdev" + d.name())) {
                return d;
            }
        }
        return null;
    }

    @Override
    public FileSystem mount(String source, String target, String fstype, Map<String, String> options) throws Errno {
        DeviceDriver d = driver(fstype);
        if (d == null) {
            throw new Errno(Errno.ENODEV, "no umdev driver for " + fstype);
        }
        Map<String, String> own = new LinkedHashMap<>(options);
        own.keySet().removeAll(GENERIC);
        boolean ro = options.containsKey("ro");
        if (options.containsKey("char") && options.containsKey("block")) {
            throw new Errno(Errno.EINVAL, fstype + ": char and block both given");
        }
        Device dev = d.create(source, own, ro);
        if (dev == null) {
            throw new Errno(Errno.EIO, "driver " + d.name() + " made no device");
        }
        boolean block = options.containsKey("block") || (!options.containsKey("char") && dev.block());
        int major = number(options, "major", dev.major(), 0xfff);
        int minor = number(options, "minor", dev.minor(), 0xfffff);
        int mode = number(options, "mode", 0660, 07777, 8);
        int uid = number(options, "uid", 0, Integer.MAX_VALUE);
        int gid = number(options, "gid", 0, Integer.MAX_VALUE);
        int nsub = number(options, "nsubdev", -1, 256);
        if (!options.containsKey("uid")) {
            uid = -1; // the mounting user's, filled in below
        }
        return new DevFs(dev, block, major, minor, mode, uid, gid, nsub, ro);
    }

    private static int number(Map<String, String> o, String key, int dflt, int max) throws Errno {
        return number(o, key, dflt, max, 10);
    }

    private static int number(Map<String, String> o, String key, int dflt, int max, int radix) throws Errno {
        String v = o.get(key);
        if (v == null) {
            return dflt;
        }
        try {
            int n = Integer.parseInt(v, v.startsWith("0") && radix == 10 && v.length() > 1 ? 8 : radix);
            if (n < 0 || n > max) {
                throw new NumberFormatException();
            }
            return n;
        } catch (NumberFormatException e) {
            throw new Errno(Errno.EINVAL, "bad value for " + key + ": '" + v + "'");
        }
    }

    /** One umdev mount: the device node at the mount point and its numbered subdevices. */
    static final class DevFs implements FileSystem {
        private final Device dev;
        private final boolean block;
        private final int major, minor, mode, uid, gid, nsub;
        private final boolean ro;
        private final long created = System.currentTimeMillis() / 1000;

        DevFs(Device dev, boolean block, int major, int minor, int mode, int uid, int gid, int nsub, boolean ro) {
            this.dev = dev;
            this.block = block;
            this.major = major;
            this.minor = minor;
            this.mode = mode;
            this.uid = uid < 0 ? currentUid() : uid;
            this.gid = uid < 0 ? currentGid() : gid;
            this.nsub = nsub;
            this.ro = ro;
        }

        @Override
        public String hostPath(String relative, Access access) {
            return unit(relative) >= 0 ? VIRTUAL : null;
        }

        @Override
        public int subdevices() {
            return nsub >= 0 ? nsub : dev.units();
        }

        private int unit(String relative) {
            if (relative.isEmpty()) {
                return 0;
            }
            if (relative.startsWith("#")) {
                int n = Integer.parseInt(relative.substring(1));
                return n <= subdevices() ? n : -1;
            }
            return -1;
        }

        @Override
        public VirtualFile virtualFile(String relative) throws Errno {
            int u = unit(relative);
            if (u < 0) {
                throw new Errno(Errno.ENOENT);
            }
            return new VirtualFile() {
                @Override
                public FileStat stat() {
                    return new FileStat((block ? S_IFBLK : S_IFCHR) | (mode & 07777),
                            FileStat.makedev(major, minor + u), block ? dev.size(u) : 0, uid, gid, created);
                }

                @Override
                public Backing backing() {
                    return dev.backing(u);
                }

                @Override
                public OpenFile open(int flags) throws Errno {
                    if (ro && (flags & O_ACCMODE) != O_RDONLY) {
                        throw new Errno(Errno.EROFS);
                    }
                    if (u > dev.units() && u > 0) {
                        throw new Errno(Errno.ENXIO);
                    }
                    return dev.open(u, ro ? flags & ~O_ACCMODE : flags);
                }
            };
        }

        @Override
        public void unmount() {
            dev.close();
        }
    }

    private static int currentUid() {
        return id("Uid:");
    }

    private static int currentGid() {
        return id("Gid:");
    }

    private static int id(String key) {
        try {
            for (String l : java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/self/status"))) {
                if (l.startsWith(key)) {
                    return Integer.parseInt(l.substring(key.length()).trim().split("\\s+")[1]);
                }
            }
        } catch (java.io.IOException | RuntimeException e) {
            // fall through
        }
        return 0;
    }
}
