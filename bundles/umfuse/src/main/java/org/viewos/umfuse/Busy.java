package org.viewos.umfuse;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Whether a process still uses a shadow tree (an open file, its cwd or root, a mapped file), as
 * Linux's umount answers EBUSY: the processes of a view hold real descriptors of shadow files, so
 * /proc shows them.
 */
final class Busy {
    private Busy() {
    }

    /** "PID (COMM)" of one process using {@code root} (an ISO-8859-1 host path), or null. */
    static String user(String root) {
        String self = String.valueOf(ProcessHandle.current().pid());
        try (DirectoryStream<Path> procs = Files.newDirectoryStream(Path.of("/proc"), p -> isPid(p) && !p.getFileName().toString().equals(self))) {
            for (Path proc : procs) {
                if (uses(proc, root)) {
                    return proc.getFileName() + " (" + comm(proc) + ")";
                }
            }
        } catch (IOException | RuntimeException e) {
            return null;
        }
        return null;
    }

    private static boolean isPid(Path p) {
        String n = p.getFileName().toString();
        return !n.isEmpty() && n.chars().allMatch(Character::isDigit);
    }

    private static boolean under(Path link, String root) {
        try {
            String t = Shadow.iso(Files.readSymbolicLink(link));
            return t.equals(root) || t.startsWith(root + "/");
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    private static boolean uses(Path proc, String root) {
        if (under(proc.resolve("cwd"), root) || under(proc.resolve("root"), root)) {
            return true;
        }
        try (DirectoryStream<Path> fds = Files.newDirectoryStream(proc.resolve("fd"))) {
            for (Path fd : fds) {
                if (under(fd, root)) {
                    return true;
                }
            }
        } catch (IOException | RuntimeException e) {
            // gone, or not ours to see
        }
        try (DirectoryStream<Path> maps = Files.newDirectoryStream(proc.resolve("map_files"))) {
            for (Path m : maps) {
                if (under(m, root)) {
                    return true;
                }
            }
        } catch (IOException | RuntimeException e) {
            // not ours to see
        }
        return false;
    }

    private static String comm(Path proc) {
        try {
            return Files.readString(proc.resolve("comm")).strip();
        } catch (IOException | RuntimeException e) {
            return "?";
        }
    }
}
