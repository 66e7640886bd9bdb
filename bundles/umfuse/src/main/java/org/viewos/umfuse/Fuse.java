package org.viewos.umfuse;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * The kernel's side of the FUSE wire format (linux/fuse.h, protocol 7.38): opcodes, INIT flags and
 * the encoders/decoders of the messages umfuse sends and receives. All little-endian. Names are
 * bytes; they cross the SPI as ISO-8859-1 strings (one char per byte).
 */
final class Fuse {
    static final int MAJOR = 7, MINOR = 38;

    static final int LOOKUP = 1, FORGET = 2, GETATTR = 3, SETATTR = 4, READLINK = 5, SYMLINK = 6, MKNOD = 8,
            MKDIR = 9, UNLINK = 10, RMDIR = 11, RENAME = 12, LINK = 13, OPEN = 14, READ = 15, WRITE = 16,
            STATFS = 17, RELEASE = 18, FSYNC = 20, FLUSH = 25, INIT = 26, OPENDIR = 27, READDIR = 28,
            RELEASEDIR = 29, CREATE = 35, DESTROY = 38;

    /** fuse_setattr_in.valid bits. */
    static final int FATTR_MODE = 1, FATTR_UID = 2, FATTR_GID = 4, FATTR_SIZE = 8, FATTR_ATIME = 16,
            FATTR_MTIME = 32, FATTR_FH = 64;

    static final int IN_HEADER = 40, OUT_HEADER = 16;

    // INIT flags (fuse.h)
    static final long ASYNC_READ = 1L, POSIX_LOCKS = 1L << 1, ATOMIC_O_TRUNC = 1L << 3, EXPORT_SUPPORT = 1L << 4,
            BIG_WRITES = 1L << 5, DONT_MASK = 1L << 6, FLOCK_LOCKS = 1L << 10, HAS_IOCTL_DIR = 1L << 11,
            AUTO_INVAL_DATA = 1L << 12, ASYNC_DIO = 1L << 15, PARALLEL_DIROPS = 1L << 18,
            HANDLE_KILLPRIV = 1L << 19, MAX_PAGES = 1L << 22, CACHE_SYMLINKS = 1L << 23, INIT_EXT = 1L << 30;

    /** What a Linux kernel offers (the set fuse-overlayfs needs to see; DESIGN part 5). */
    static final long KERNEL_FLAGS = ASYNC_READ | POSIX_LOCKS | ATOMIC_O_TRUNC | EXPORT_SUPPORT | BIG_WRITES
            | DONT_MASK | FLOCK_LOCKS | HAS_IOCTL_DIR | AUTO_INVAL_DATA | ASYNC_DIO | PARALLEL_DIROPS
            | HANDLE_KILLPRIV | MAX_PAGES | CACHE_SYMLINKS | INIT_EXT;

    /** READ/READDIR size cap: a reply must fit the socket's send buffer (~212 KB). */
    static final int MAX_READ = 128 * 1024;

    static final int S_IFMT = 0170000, S_IFDIR = 0040000, S_IFREG = 0100000, S_IFLNK = 0120000;

    static final int O_WRONLY = 1, O_CREAT = 0100, O_EXCL = 0200;

    private Fuse() {
    }

    static ByteBuffer le(int size) {
        return ByteBuffer.allocate(size).order(ByteOrder.LITTLE_ENDIAN);
    }

    static ByteBuffer le(byte[] b) {
        return ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
    }

    /** A whole request: fuse_in_header then {@code body}. */
    static byte[] request(int opcode, long unique, long nodeid, int uid, int gid, int pid, byte[] body) {
        ByteBuffer b = le(IN_HEADER + body.length);
        b.putInt(IN_HEADER + body.length).putInt(opcode).putLong(unique).putLong(nodeid)
                .putInt(uid).putInt(gid).putInt(pid).putShort((short) 0).putShort((short) 0);
        b.put(body);
        return b.array();
    }

    /** fuse_init_in (64 bytes since 7.36): major, minor, max_readahead, flags, flags2, unused[11]. */
    static byte[] initIn(long flags, int maxReadahead) {
        ByteBuffer b = le(64);
        b.putInt(MAJOR).putInt(MINOR).putInt(maxReadahead).putInt((int) flags).putInt((int) (flags >>> 32));
        return b.array();
    }

    record InitOut(int major, int minor, int maxReadahead, long flags, int maxBackground, int maxWrite,
            int timeGran, int maxPages) {
    }

    /** fuse_init_out: 24 bytes (minor < 23, libfuse2) or 64 bytes (libfuse3). */
    static InitOut initOut(byte[] body) throws ProtocolException {
        if (body.length < 8) {
            throw new ProtocolException("INIT reply of " + body.length + " bytes");
        }
        ByteBuffer b = le(body);
        int major = b.getInt(), minor = b.getInt();
        if (body.length < 24) {
            return new InitOut(major, minor, 0, 0, 0, 0, 0, 0);
        }
        int ra = b.getInt();
        long flags = b.getInt() & 0xffffffffL;
        int maxBg = b.getShort() & 0xffff;
        b.getShort();
        int maxWrite = b.getInt();
        int timeGran = 0, maxPages = 0;
        if (body.length >= 64) {
            timeGran = b.getInt();
            maxPages = b.getShort() & 0xffff;
            b.getShort();
            flags |= (b.getInt() & 0xffffffffL) << 32;
        }
        return new InitOut(major, minor, ra, flags, maxBg, maxWrite, timeGran, maxPages);
    }

    /** A name with its NUL (LOOKUP). */
    static byte[] name(String iso) {
        byte[] n = iso.getBytes(StandardCharsets.ISO_8859_1);
        byte[] b = new byte[n.length + 1];
        System.arraycopy(n, 0, b, 0, n.length);
        return b;
    }

    /** fuse_attr (88 bytes). */
    record Attr(long ino, long size, long blocks, long atime, long mtime, long ctime, int atimensec, int mtimensec,
            int ctimensec, int mode, int nlink, int uid, int gid, int rdev, int blksize) {
        int type() {
            return mode & S_IFMT;
        }

        boolean isDir() {
            return type() == S_IFDIR;
        }

        boolean isLink() {
            return type() == S_IFLNK;
        }

        boolean isReg() {
            return type() == S_IFREG;
        }

        long mtimeNs() {
            return mtime * 1_000_000_000L + mtimensec;
        }
    }

    static final int ATTR_SIZE = 88;

    static Attr attr(ByteBuffer b) {
        long ino = b.getLong(), size = b.getLong(), blocks = b.getLong(), atime = b.getLong(), mtime = b.getLong(),
                ctime = b.getLong();
        int an = b.getInt(), mn = b.getInt(), cn = b.getInt(), mode = b.getInt(), nlink = b.getInt(), uid = b.getInt(),
                gid = b.getInt(), rdev = b.getInt(), blksize = b.getInt();
        b.getInt(); // flags
        return new Attr(ino, size, blocks, atime, mtime, ctime, an, mn, cn, mode, nlink, uid, gid, rdev, blksize);
    }

    /** fuse_entry_out: nodeid, generation, entry_valid, attr_valid, 2 nsecs, attr (128 bytes). */
    record Entry(long nodeid, long generation, Attr attr) {
    }

    static Entry entryOut(byte[] body) throws ProtocolException {
        if (body.length < 40 + ATTR_SIZE) {
            throw new ProtocolException("LOOKUP reply of " + body.length + " bytes");
        }
        ByteBuffer b = le(body);
        long nodeid = b.getLong(), gen = b.getLong();
        b.position(40);
        return new Entry(nodeid, gen, attr(b));
    }

    /** fuse_getattr_in: getattr_flags, dummy, fh. */
    static byte[] getattrIn() {
        return new byte[16];
    }

    /** fuse_attr_out: attr_valid, attr_valid_nsec, dummy, attr (104 bytes). */
    static Attr attrOut(byte[] body) throws ProtocolException {
        if (body.length < 16 + ATTR_SIZE) {
            throw new ProtocolException("GETATTR reply of " + body.length + " bytes");
        }
        ByteBuffer b = le(body);
        b.position(16);
        return attr(b);
    }

    /** fuse_open_in: flags, open_flags. */
    static byte[] openIn(int flags) {
        return le(8).putInt(flags).putInt(0).array();
    }

    /** fuse_open_out: fh, open_flags, padding; returns fh. */
    static long openOut(byte[] body) throws ProtocolException {
        if (body.length < 16) {
            throw new ProtocolException("OPEN reply of " + body.length + " bytes");
        }
        return le(body).getLong();
    }

    /** fuse_read_in (40 bytes): fh, offset, size, read_flags, lock_owner, flags, padding. */
    static byte[] readIn(long fh, long offset, int size, int flags) {
        return le(40).putLong(fh).putLong(offset).putInt(size).putInt(0).putLong(0).putInt(flags).putInt(0).array();
    }

    /** fuse_release_in (24 bytes): fh, flags, release_flags, lock_owner. */
    static byte[] releaseIn(long fh, int flags) {
        return le(24).putLong(fh).putInt(flags).putInt(0).putLong(0).array();
    }

    /** Two names, each with its NUL (SYMLINK: name then target; RENAME's names follow newdir). */
    static byte[] names(String a, String b) {
        byte[] x = name(a), y = name(b);
        byte[] r = new byte[x.length + y.length];
        System.arraycopy(x, 0, r, 0, x.length);
        System.arraycopy(y, 0, r, x.length, y.length);
        return r;
    }

    private static byte[] withName(ByteBuffer head, String name) {
        byte[] h = head.array(), n = name(name);
        byte[] r = new byte[h.length + n.length];
        System.arraycopy(h, 0, r, 0, h.length);
        System.arraycopy(n, 0, r, h.length, n.length);
        return r;
    }

    /** fuse_mkdir_in (mode, umask) and the name. */
    static byte[] mkdirIn(int mode, String name) {
        return withName(le(8).putInt(mode).putInt(0), name);
    }

    /** fuse_mknod_in (mode, rdev, umask, padding) and the name. */
    static byte[] mknodIn(int mode, int rdev, String name) {
        return withName(le(16).putInt(mode).putInt(rdev).putInt(0).putInt(0), name);
    }

    /** fuse_create_in (flags, mode, umask, open_flags) and the name. */
    static byte[] createIn(int flags, int mode, String name) {
        return withName(le(16).putInt(flags).putInt(mode).putInt(0).putInt(0), name);
    }

    /** fuse_rename_in (newdir) and the old and new names. */
    static byte[] renameIn(long newdir, String from, String to) {
        ByteBuffer b = le(8).putLong(newdir);
        byte[] h = b.array(), n = names(from, to);
        byte[] r = new byte[h.length + n.length];
        System.arraycopy(h, 0, r, 0, h.length);
        System.arraycopy(n, 0, r, h.length, n.length);
        return r;
    }

    /** fuse_link_in (oldnodeid) and the new name. */
    static byte[] linkIn(long oldNode, String name) {
        return withName(le(8).putLong(oldNode), name);
    }

    /** fuse_write_in (40 bytes: fh, offset, size, write_flags, lock_owner, flags, padding) and the data. */
    static byte[] writeIn(long fh, long offset, byte[] data, int off, int len) {
        ByteBuffer b = le(40 + len);
        b.putLong(fh).putLong(offset).putInt(len).putInt(0).putLong(0).putInt(0).putInt(0);
        b.put(data, off, len);
        return b.array();
    }

    /** fuse_write_out: size. */
    static int writeOut(byte[] body) throws ProtocolException {
        if (body.length < 8) {
            throw new ProtocolException("WRITE reply of " + body.length + " bytes");
        }
        return le(body).getInt();
    }

    /** fuse_flush_in (24 bytes): fh, unused, padding, lock_owner. */
    static byte[] flushIn(long fh) {
        return le(24).putLong(fh).array();
    }

    /**
     * fuse_setattr_in (88 bytes): valid, padding, fh, size, lock_owner, atime, mtime, ctime, atimensec,
     * mtimensec, ctimensec, mode, unused4, uid, gid, unused5. Times in nanoseconds since the epoch.
     */
    static byte[] setattrIn(int valid, long fh, long size, long atimeNs, long mtimeNs, int mode, int uid, int gid) {
        ByteBuffer b = le(88);
        b.putInt(valid).putInt(0).putLong(fh).putLong(size).putLong(0)
                .putLong(Math.floorDiv(atimeNs, 1_000_000_000L)).putLong(Math.floorDiv(mtimeNs, 1_000_000_000L)).putLong(0)
                .putInt((int) Math.floorMod(atimeNs, 1_000_000_000L)).putInt((int) Math.floorMod(mtimeNs, 1_000_000_000L))
                .putInt(0).putInt(mode).putInt(0).putInt(uid).putInt(gid).putInt(0);
        return b.array();
    }

    /** fuse_entry_out then fuse_open_out (CREATE's reply): the entry and the file handle. */
    record Created(Entry entry, long fh) {
    }

    static Created createOut(byte[] body) throws ProtocolException {
        if (body.length < 40 + ATTR_SIZE + 16) {
            throw new ProtocolException("CREATE reply of " + body.length + " bytes");
        }
        Entry e = entryOut(body);
        return new Created(e, le(body).getLong(40 + ATTR_SIZE));
    }

    /** fuse_forget_in: nlookup. */
    static byte[] forgetIn(long nlookup) {
        return le(8).putLong(nlookup).array();
    }

    /** One fuse_dirent: ino, off, namelen, type, name padded to 8. */
    record Dirent(long ino, long off, int type, String name) {
    }

    static List<Dirent> dirents(byte[] body) throws ProtocolException {
        List<Dirent> out = new ArrayList<>();
        ByteBuffer b = le(body);
        while (b.remaining() >= 24) {
            int start = b.position();
            long ino = b.getLong(), off = b.getLong();
            int namelen = b.getInt(), type = b.getInt();
            if (namelen <= 0 || namelen > 4096 || b.remaining() < namelen) {
                throw new ProtocolException("bad dirent (namelen " + namelen + ")");
            }
            byte[] n = new byte[namelen];
            b.get(n);
            out.add(new Dirent(ino, off, type, new String(n, StandardCharsets.ISO_8859_1)));
            int next = start + ((24 + namelen + 7) & ~7);
            b.position(Math.min(next, body.length));
        }
        return out;
    }

    /** fuse_kstatfs (statfs reply). */
    record StatFs(long blocks, long bfree, long bavail, long files, long ffree, int bsize, int namelen, int frsize) {
    }

    static StatFs statfsOut(byte[] body) throws ProtocolException {
        if (body.length < 56) {
            throw new ProtocolException("STATFS reply of " + body.length + " bytes");
        }
        ByteBuffer b = le(body);
        return new StatFs(b.getLong(), b.getLong(), b.getLong(), b.getLong(), b.getLong(), b.getInt(), b.getInt(), b.getInt());
    }

    /** A malformed message from the daemon (the caller then sees EIO). */
    static final class ProtocolException extends Exception {
        private static final long serialVersionUID = 1L;

        ProtocolException(String m) {
            super(m, null, false, false);
        }
    }
}
