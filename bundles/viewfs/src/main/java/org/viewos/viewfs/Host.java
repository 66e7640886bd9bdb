package org.viewos.viewfs;

import java.io.IOException;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermission;
import java.util.EnumSet;
import java.util.Map;
import java.util.Set;

import org.viewos.core.api.Errno;

/**
 * Host file operations the module carries out itself (lstat, copy-up, whiteouts, shadow entries), on
 * the core's ISO-8859-1 path strings. Errors become {@link Errno} here, in one place.
 */
final class Host {
    private static final Charset JNU = jnuCharset();
    private static final LinkOption[] NOFOLLOW = {LinkOption.NOFOLLOW_LINKS};
    static final int S_IFMT = 0170000, S_IFDIR = 0040000, S_IFREG = 0100000, S_IFLNK = 0120000;

    private Host() {
    }

    /** lstat(2), reduced to what viewfs needs. */
    record Stat(int mode, int uid, int gid, int nlink, long dev, long ino, FileTime mtime, FileTime atime) {
        boolean isDir() {
            return (mode & S_IFMT) == S_IFDIR;
        }

        boolean isReg() {
            return (mode & S_IFMT) == S_IFREG;
        }

        boolean isLink() {
            return (mode & S_IFMT) == S_IFLNK;
        }

        int perms() {
            return mode & 07777;
        }
    }

    static Path path(String iso) {
        return Path.of(new String(iso.getBytes(StandardCharsets.ISO_8859_1), JNU));
    }

    static String iso(Path p) {
        return new String(p.toString().getBytes(JNU), StandardCharsets.ISO_8859_1);
    }

    /** lstat, or null when nothing is there (or it can't be seen). */
    static Stat lstat(String iso) {
        try {
            Map<String, Object> a = Files.readAttributes(path(iso), "unix:mode,uid,gid,nlink,dev,ino,lastModifiedTime,lastAccessTime", NOFOLLOW);
            return new Stat((Integer) a.get("mode"), (Integer) a.get("uid"), (Integer) a.get("gid"),
                    (Integer) a.get("nlink"), (Long) a.get("dev"), (Long) a.get("ino"),
                    (FileTime) a.get("lastModifiedTime"), (FileTime) a.get("lastAccessTime"));
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    /** stat (following symlinks), or null. */
    static Stat stat(String iso) {
        try {
            Map<String, Object> a = Files.readAttributes(path(iso), "unix:mode,uid,gid,nlink,dev,ino,lastModifiedTime,lastAccessTime");
            return new Stat((Integer) a.get("mode"), (Integer) a.get("uid"), (Integer) a.get("gid"),
                    (Integer) a.get("nlink"), (Long) a.get("dev"), (Long) a.get("ino"),
                    (FileTime) a.get("lastModifiedTime"), (FileTime) a.get("lastAccessTime"));
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    static boolean exists(String iso) {
        return lstat(iso) != null;
    }

    /** access(path, W_OK) for the daemon, which runs as the view's user. */
    static boolean writable(String iso) {
        return Files.isWritable(path(iso));
    }

    /** The names in a directory (no . and ..); empty when it can't be read. */
    static java.util.List<String> list(String dirIso) {
        java.util.List<String> l = new java.util.ArrayList<>();
        try (var s = Files.newDirectoryStream(path(dirIso))) {
            for (Path p : s) {
                l.add(iso(p.getFileName()));
            }
        } catch (IOException | RuntimeException e) {
            // unreadable: an empty listing
        }
        return l;
    }

    static String readlink(String iso) {
        try {
            return iso(Files.readSymbolicLink(path(iso)));
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    static void mkdir(String iso, int perms) throws Errno {
        try {
            Files.createDirectory(path(iso));
            Files.setPosixFilePermissions(path(iso), perms(perms));
        } catch (FileAlreadyExistsException e) {
            // raced with another tracer thread, or created since: fine
        } catch (IOException | RuntimeException e) {
            throw errno(e, "mkdir " + iso);
        }
    }

    /** mkdir -p with mode 0700 (private trees: shadows, whiteouts). */
    static void mkdirs(String iso) throws Errno {
        try {
            Files.createDirectories(path(iso));
        } catch (IOException | RuntimeException e) {
            throw errno(e, "mkdir -p " + iso);
        }
    }

    static void createFile(String iso) throws Errno {
        try {
            Files.createFile(path(iso));
        } catch (FileAlreadyExistsException e) {
            // already there
        } catch (IOException | RuntimeException e) {
            throw errno(e, "create " + iso);
        }
    }

    static void symlink(String iso, String target) throws Errno {
        try {
            Files.createSymbolicLink(path(iso), path(target));
        } catch (IOException | RuntimeException e) {
            throw errno(e, "symlink " + iso);
        }
    }

    /** rm -rf (never follows symlinks). */
    static void deleteTree(String iso) {
        Stat st = lstat(iso);
        if (st == null) {
            return;
        }
        if (st.isDir()) {
            for (String n : list(iso)) {
                deleteTree(iso + "/" + n);
            }
        }
        try {
            Files.deleteIfExists(path(iso));
        } catch (IOException | RuntimeException e) {
            // best effort
        }
    }

    /**
     * Copies one object (not a directory's contents) from {@code from} to {@code to}, keeping type,
     * permissions, owner (when allowed) and times: a regular file with its data, a directory empty,
     * a symlink with the same target. Other types (fifos, devices, sockets) can't be copied from Java:
     * EOPNOTSUPP.
     */
    static void copyObject(String from, String to) throws Errno {
        Stat st = lstat(from);
        if (st == null) {
            throw new Errno(Errno.ENOENT, "copy-up: " + from + " vanished");
        }
        try {
            if (st.isDir()) {
                mkdir(to, st.perms());
            } else if (st.isLink()) {
                Files.createSymbolicLink(path(to), Files.readSymbolicLink(path(from)));
            } else if (st.isReg()) {
                // copy to a temporary sibling, then rename: a half-copied file is never visible
                Path tmp = path(to).resolveSibling(".viewfs-copyup." + Long.toHexString(System.nanoTime()));
                Files.copy(path(from), tmp, StandardCopyOption.COPY_ATTRIBUTES, LinkOption.NOFOLLOW_LINKS);
                Files.move(tmp, path(to), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } else {
                throw new Errno(Errno.EOPNOTSUPP, "copy-up of a special file: " + from);
            }
            copyMeta(st, to);
        } catch (FileAlreadyExistsException e) {
            // created meanwhile: theirs wins
        } catch (IOException | RuntimeException e) {
            throw errno(e, "copy-up " + from);
        }
    }

    private static void copyMeta(Stat st, String to) {
        Path p = path(to);
        try {
            if (!st.isLink()) {
                Files.setPosixFilePermissions(p, perms(st.perms()));
            }
        } catch (IOException | RuntimeException e) {
            // keep the default mode
        }
        try {
            Files.setAttribute(p, "unix:uid", st.uid(), LinkOption.NOFOLLOW_LINKS);
            Files.setAttribute(p, "unix:gid", st.gid(), LinkOption.NOFOLLOW_LINKS);
        } catch (IOException | RuntimeException e) {
            // not root: the copy belongs to the view's user
        }
        try {
            if (!st.isLink()) {
                Files.getFileAttributeView(p, java.nio.file.attribute.BasicFileAttributeView.class)
                        .setTimes(st.mtime(), st.atime(), null);
            }
        } catch (IOException | RuntimeException e) {
            // times are cosmetic
        }
    }

    static Set<PosixFilePermission> perms(int mode) {
        Set<PosixFilePermission> s = EnumSet.noneOf(PosixFilePermission.class);
        PosixFilePermission[] order = {PosixFilePermission.OTHERS_EXECUTE, PosixFilePermission.OTHERS_WRITE,
            PosixFilePermission.OTHERS_READ, PosixFilePermission.GROUP_EXECUTE, PosixFilePermission.GROUP_WRITE,
            PosixFilePermission.GROUP_READ, PosixFilePermission.OWNER_EXECUTE, PosixFilePermission.OWNER_WRITE,
            PosixFilePermission.OWNER_READ};
        for (int i = 0; i < order.length; i++) {
            if ((mode & (1 << i)) != 0) {
                s.add(order[i]);
            }
        }
        return s;
    }

    static Errno errno(Exception e, String what) {
        int code = e instanceof NoSuchFileException ? Errno.ENOENT
                : e instanceof FileAlreadyExistsException ? Errno.EEXIST
                : e instanceof java.nio.file.AccessDeniedException ? Errno.EACCES
                : e instanceof java.nio.file.DirectoryNotEmptyException ? Errno.ENOTEMPTY
                : e instanceof java.nio.file.NotDirectoryException ? Errno.ENOTDIR
                : e instanceof java.nio.file.FileSystemException fse && fse.getReason() != null
                        && fse.getReason().contains("space") ? Errno.ENOSPC
                : Errno.EIO;
        return new Errno(code, "viewfs: " + what + ": " + e.getMessage());
    }

    private static Charset jnuCharset() {
        try {
            return Charset.forName(System.getProperty("sun.jnu.encoding", "UTF-8"));
        } catch (RuntimeException e) {
            return StandardCharsets.UTF_8;
        }
    }

    /** Parent of a relative path ("" for a top-level name). */
    static String parent(String rel) {
        int i = rel.lastIndexOf('/');
        return i < 0 ? "" : rel.substring(0, i);
    }

    /** {@code base/rel}, or base itself for the empty rel. */
    static String join(String base, String rel) {
        return rel.isEmpty() ? base : base.equals("/") ? "/" + rel : base + "/" + rel;
    }

    /** The part of {@code path} below {@code base}, or null when it is not at or below it. */
    static String below(String base, String path) {
        if (path.equals(base)) {
            return "";
        }
        if (base.equals("/")) {
            return path.startsWith("/") ? path.substring(1) : null;
        }
        return path.startsWith(base) && path.length() > base.length() && path.charAt(base.length()) == '/'
                ? path.substring(base.length() + 1) : null;
    }
}
