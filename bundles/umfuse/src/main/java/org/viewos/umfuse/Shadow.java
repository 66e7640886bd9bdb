package org.viewos.umfuse;

import java.io.IOException;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributeView;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermission;
import java.util.EnumSet;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import org.viewos.core.api.Errno;

/** Host file helpers for the shadow tree; paths are ISO-8859-1 strings (one char per byte). */
final class Shadow {
    static final LinkOption NOFOLLOW = LinkOption.NOFOLLOW_LINKS;
    private static final Charset JNU = jnu();

    private Shadow() {
    }

    private static Charset jnu() {
        try {
            return Charset.forName(System.getProperty("sun.jnu.encoding", "UTF-8"));
        } catch (RuntimeException e) {
            return StandardCharsets.UTF_8;
        }
    }

    static Path path(String iso) {
        return Path.of(new String(iso.getBytes(StandardCharsets.ISO_8859_1), JNU));
    }

    static String iso(Path p) {
        return new String(p.toString().getBytes(JNU), StandardCharsets.ISO_8859_1);
    }

    static Set<PosixFilePermission> perms(int mode) {
        Set<PosixFilePermission> s = EnumSet.noneOf(PosixFilePermission.class);
        PosixFilePermission[] all = {PosixFilePermission.OTHERS_EXECUTE, PosixFilePermission.OTHERS_WRITE,
            PosixFilePermission.OTHERS_READ, PosixFilePermission.GROUP_EXECUTE, PosixFilePermission.GROUP_WRITE,
            PosixFilePermission.GROUP_READ, PosixFilePermission.OWNER_EXECUTE, PosixFilePermission.OWNER_WRITE,
            PosixFilePermission.OWNER_READ};
        for (int i = 0; i < 9; i++) {
            if ((mode & (1 << i)) != 0) {
                s.add(all[i]);
            }
        }
        return s;
    }

    static void chmod(Path p, int mode) throws IOException {
        Files.setPosixFilePermissions(p, perms(mode));
    }

    /** Mode, times and (as root) owner of the image's attr on the shadow entry. */
    static void apply(Path p, Fuse.Attr a, boolean asRoot) throws IOException {
        if (asRoot) {
            try {
                Files.setAttribute(p, "unix:uid", a.uid(), NOFOLLOW);
                Files.setAttribute(p, "unix:gid", a.gid(), NOFOLLOW);
            } catch (IOException | RuntimeException e) {
                // leave the owner
            }
        }
        if (!a.isLink()) {
            chmod(p, a.mode());
        }
        times(p, a);
    }

    static void times(Path p, Fuse.Attr a) {
        try {
            Files.getFileAttributeView(p, BasicFileAttributeView.class, NOFOLLOW).setTimes(
                    time(a.mtime(), a.mtimensec()), time(a.atime(), a.atimensec()), null);
        } catch (IOException | RuntimeException e) {
            // e.g. symlink times unsupported: cosmetic
        }
    }

    /** mtime and atime of p (null when unreadable). */
    static FileTime[] timesOf(Path p) {
        try {
            BasicFileAttributes a = Files.readAttributes(p, BasicFileAttributes.class, NOFOLLOW);
            return new FileTime[] {a.lastModifiedTime(), a.lastAccessTime()};
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    static void setTimes(Path p, FileTime[] t) {
        if (t == null) {
            return;
        }
        try {
            Files.getFileAttributeView(p, BasicFileAttributeView.class, NOFOLLOW).setTimes(t[0], t[1], null);
        } catch (IOException | RuntimeException e) {
            // cosmetic
        }
    }

    private static FileTime time(long s, int ns) {
        return FileTime.from(s * 1_000_000_000L + ns, TimeUnit.NANOSECONDS);
    }

    static boolean exists(Path p) {
        return Files.exists(p, NOFOLLOW);
    }

    /** Removes a tree we made (making directories writable first). */
    static void deleteTree(Path p) {
        if (!exists(p)) {
            return;
        }
        try {
            Files.walkFileTree(p, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult preVisitDirectory(Path d, BasicFileAttributes attrs) throws IOException {
                    chmod(d, 0700);
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult visitFile(Path f, BasicFileAttributes attrs) throws IOException {
                    Files.deleteIfExists(f);
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult visitFileFailed(Path f, IOException e) throws IOException {
                    if (!(e instanceof NoSuchFileException)) {
                        try {
                            chmod(f, 0700);
                        } catch (IOException x) {
                            // fall through to delete
                        }
                    }
                    Files.deleteIfExists(f);
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult postVisitDirectory(Path d, IOException e) throws IOException {
                    Files.deleteIfExists(d);
                    return FileVisitResult.CONTINUE;
                }
            });
        } catch (IOException e) {
            // best effort
        }
    }

    static Errno errno(IOException e, String what) {
        return new Errno(Errno.EIO, "umfuse: " + what + ": " + e.getMessage());
    }
}
