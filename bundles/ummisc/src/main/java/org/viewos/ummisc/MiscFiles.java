package org.viewos.ummisc;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

import org.viewos.core.api.Errno;
import org.viewos.core.api.FileSystem;

/**
 * The files of one ummisc mount (e.g. {@code nodename}, {@code offset}), kept as real files in a
 * private directory of the daemon, so reading and writing them needs no emulation: the core
 * redirects paths under the mount point there. Only the known names exist; others can't be created.
 */
final class MiscFiles implements FileSystem {
    private final Path dir;
    private final List<String> names;

    MiscFiles(String kind, Map<String, String> initial) throws Errno {
        try {
            Path base = Path.of(System.getProperty("java.io.tmpdir"));
            dir = Files.createTempDirectory(base, "viewos-ummisc-" + kind + "-",
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
            for (Map.Entry<String, String> e : initial.entrySet()) {
                Files.writeString(dir.resolve(e.getKey()), e.getValue() + "\n", StandardCharsets.UTF_8);
            }
        } catch (IOException e) {
            throw new Errno(Errno.EIO, "cannot make the files of " + kind + ": " + e.getMessage());
        }
        this.names = List.copyOf(initial.keySet());
    }

    /** The current value of a file: its first line, without the newline. */
    String get(String name) {
        try {
            String s = Files.readString(dir.resolve(name), StandardCharsets.UTF_8);
            int nl = s.indexOf('\n');
            return (nl >= 0 ? s.substring(0, nl) : s).strip();
        } catch (IOException e) {
            return "";
        }
    }

    void set(String name, String value) throws Errno {
        try {
            Files.writeString(dir.resolve(name), value + "\n", StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new Errno(Errno.EIO, e.getMessage());
        }
    }

    @Override
    public String hostPath(String relative, Access access) throws Errno {
        if (relative.isEmpty()) {
            if (access == Access.DELETE || access == Access.CREATE) {
                throw new Errno(Errno.EBUSY, "the mount point itself");
            }
            return dir.toString();
        }
        if (!names.contains(relative)) {
            if (access == Access.CREATE) {
                throw new Errno(Errno.EACCES, "only " + String.join(", ", names) + " exist here");
            }
            return dir.resolve(relative).toString(); // the kernel says ENOENT
        }
        if (access == Access.DELETE) {
            throw new Errno(Errno.EACCES, relative + " can't be removed");
        }
        return dir.resolve(relative).toString();
    }

    @Override
    public String relativeOf(String hostPath) {
        return FileSystem.below(dir.toString(), hostPath);
    }

    @Override
    public void unmount() {
        try (var s = Files.walk(dir)) {
            s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
