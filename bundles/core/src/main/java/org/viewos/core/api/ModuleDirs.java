package org.viewos.core.api;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

/**
 * Private working directories of modules (shadow trees, caches): under
 * {@code $XDG_RUNTIME_DIR/viewos-UID/} when it is a writable directory, else {@code /dev/shm}
 * (tmpfs: creating files on a disk-backed /tmp cost ~0.6 ms each here), else {@code java.io.tmpdir};
 * the per-user directory and the module's own are 0700 and must belong to the daemon's user.
 */
public final class ModuleDirs {
    private ModuleDirs() {
    }

    /**
     * A new directory {@code NAME-PID-*} for this daemon's module {@code name}, by its real path.
     *
     * @throws Errno EACCES when the per-user directory belongs to someone else
     * @throws IOException when it cannot be made
     */
    public static Path create(String name) throws Errno, IOException {
        String base = System.getenv("XDG_RUNTIME_DIR");
        if (base == null || base.isEmpty() || !Files.isDirectory(Path.of(base)) || !Files.isWritable(Path.of(base))) {
            base = Files.isDirectory(Path.of("/dev/shm")) && Files.isWritable(Path.of("/dev/shm"))
                    ? "/dev/shm" : System.getProperty("java.io.tmpdir", "/tmp");
        }
        Object uid;
        try {
            uid = Files.getAttribute(Path.of("/proc/self"), "unix:uid");
        } catch (IOException | RuntimeException e) {
            uid = "x";
        }
        Path user = Path.of(base, "viewos-" + uid);
        if (!Files.isDirectory(user)) {
            Files.createDirectories(user, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        }
        if (!Files.getOwner(user).equals(Files.getOwner(Path.of("/proc/self")))) {
            throw new Errno(Errno.EACCES, name + ": " + user + " belongs to someone else");
        }
        return Files.createTempDirectory(user, name + "-" + ProcessHandle.current().pid() + "-",
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------"))).toRealPath();
    }
}
