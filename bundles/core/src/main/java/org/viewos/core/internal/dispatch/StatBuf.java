package org.viewos.core.internal.dispatch;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

import org.viewos.core.api.Errno;
import org.viewos.core.api.FileStat;

/** x86_64 {@code struct stat} and {@code struct statx} of a virtual file, written into the caller. */
final class StatBuf {
    /** The device number virtual files show as st_dev (an anonymous block device number). */
    static final long VIRTUAL_DEV = FileStat.makedev(0, 0xfe);
    private static final int STATX_BASIC_STATS = 0x7ff;
    private static final int BLKSIZE = 4096;

    private StatBuf() {
    }

    static void stat(Call c, long addr, FileStat s, String viewPath) throws Errno {
        ByteBuffer b = ByteBuffer.allocate(144).order(ByteOrder.LITTLE_ENDIAN);
        long time = time(s);
        b.putLong(0, VIRTUAL_DEV);
        b.putLong(8, VirtualFiles.inode(viewPath));
        b.putLong(16, 1);
        b.putInt(24, s.mode());
        b.putInt(28, s.uid());
        b.putInt(32, s.gid());
        b.putLong(40, s.rdev());
        b.putLong(48, s.size());
        b.putLong(56, BLKSIZE);
        b.putLong(64, (s.size() + 511) / 512);
        b.putLong(72, time);
        b.putLong(88, time);
        b.putLong(104, time);
        put(c, addr, b.array());
    }

    static void statx(Call c, long addr, FileStat s, String viewPath) throws Errno {
        ByteBuffer b = ByteBuffer.allocate(256).order(ByteOrder.LITTLE_ENDIAN);
        long time = time(s);
        b.putInt(0, STATX_BASIC_STATS);
        b.putInt(4, BLKSIZE);
        b.putInt(16, 1);
        b.putInt(20, s.uid());
        b.putInt(24, s.gid());
        b.putShort(28, (short) s.mode());
        b.putLong(32, VirtualFiles.inode(viewPath));
        b.putLong(40, s.size());
        b.putLong(48, (s.size() + 511) / 512);
        for (int ts : new int[] {64, 96, 112}) { // atime, ctime, mtime (btime not given)
            b.putLong(ts, time);
        }
        b.putInt(128, FileStat.major(s.rdev()));
        b.putInt(132, FileStat.minor(s.rdev()));
        b.putInt(136, FileStat.major(VIRTUAL_DEV));
        b.putInt(140, FileStat.minor(VIRTUAL_DEV));
        put(c, addr, b.array());
    }

    private static long time(FileStat s) {
        return s.mtime() != 0 ? s.mtime() : START;
    }

    private static final long START = System.currentTimeMillis() / 1000;

    private static void put(Call c, long addr, byte[] b) throws Errno {
        if (c.scratch().write(c.tid(), addr, b, b.length) != b.length) {
            throw new Errno(Errno.EFAULT);
        }
    }
}
