package org.viewos.umdev;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

import org.viewos.core.api.Errno;
import org.viewos.core.api.OpenFile;

/**
 * An open block device: a window {@code [start, start + length)} of a {@link Storage}, with the
 * block ioctls Linux gives (sizes, sector sizes, read-only flag, geometry). Reads at the end give 0,
 * writes there ENOSPC, as for a real disk.
 */
class BlockFile implements OpenFile {
    static final int SECTOR = 512;
    static final int BLKROSET = 0x125d, BLKROGET = 0x125e, BLKRRPART = 0x125f, BLKGETSIZE = 0x1260,
            BLKFLSBUF = 0x1261, BLKSSZGET = 0x1268, BLKIOMIN = 0x1278, BLKIOOPT = 0x1279, BLKALIGNOFF = 0x127a,
            BLKPBSZGET = 0x127b, BLKDISCARDZEROES = 0x127c, BLKROTATIONAL = 0x127e, BLKSECTGET = 0x1267,
            BLKGETSIZE64 = 0x80081272, HDIO_GETGEO = 0x0301;

    private final Storage storage;
    private final long start, length;
    private final boolean[] readOnly;
    private final Runnable rescan;
    private boolean wroteTable;

    /**
     * @param readOnly the device's read-only flag (shared by its opens, BLKROSET changes it)
     * @param rescan   what BLKRRPART does (null: EINVAL, as for a partition)
     */
    BlockFile(Storage storage, long start, long length, boolean[] readOnly, Runnable rescan) {
        this.storage = storage;
        this.start = start;
        this.length = length;
        this.readOnly = readOnly;
        this.rescan = rescan;
    }

    @Override
    public long size() {
        return length;
    }

    @Override
    public int read(long position, ByteBuffer dst) throws Errno {
        if (position >= length) {
            return 0;
        }
        int n = (int) Math.min(dst.remaining(), length - position);
        ByteBuffer slice = dst.duplicate();
        slice.limit(slice.position() + n);
        int r = storage.read(start + position, slice);
        dst.position(dst.position() + r);
        return r;
    }

    @Override
    public int write(long position, ByteBuffer src) throws Errno {
        if (readOnly[0]) {
            throw new Errno(Errno.EPERM, "device is read-only");
        }
        if (position >= length) {
            throw new Errno(Errno.ENOSPC);
        }
        int n = (int) Math.min(src.remaining(), length - position);
        ByteBuffer slice = src.duplicate();
        slice.limit(slice.position() + n);
        int w = storage.write(start + position, slice);
        src.position(src.position() + w);
        if (rescan != null && position < 34 * SECTOR) {
            wroteTable = true;
        }
        return w;
    }

    @Override
    public void sync() throws Errno {
        storage.sync();
    }

    @Override
    public void close() {
        if (wroteTable) {
            rescan.run(); // the partition table may have changed
        }
    }

    @Override
    public long ioctl(int request, long arg, Memory memory) throws Errno {
        switch (request) {
            case BLKGETSIZE64 -> memory.write(arg, le8(length));
            case BLKGETSIZE -> memory.write(arg, le8(length / SECTOR));
            case BLKSSZGET, BLKPBSZGET, BLKIOMIN -> memory.write(arg, le4(SECTOR));
            case BLKIOOPT, BLKALIGNOFF, BLKDISCARDZEROES -> memory.write(arg, le4(0));
            case BLKROTATIONAL -> memory.write(arg, new byte[2]);
            case BLKSECTGET -> memory.write(arg, new byte[] {(byte) 0xff, (byte) 0x00});
            case BLKROGET -> memory.write(arg, le4(readOnly[0] ? 1 : 0));
            case BLKROSET -> readOnly[0] = ByteBuffer.wrap(memory.read(arg, 4)).order(ByteOrder.LITTLE_ENDIAN).getInt() != 0;
            case BLKFLSBUF -> storage.sync();
            case BLKRRPART -> {
                if (rescan == null) {
                    throw new Errno(Errno.EINVAL);
                }
                rescan.run();
                wroteTable = false;
            }
            case HDIO_GETGEO -> {
                // struct hd_geometry: heads, sectors (bytes), cylinders (short), start (long)
                long sectors = length / SECTOR;
                int heads = 255, track = 63;
                long cyl = Math.min(sectors / (heads * track), 0xffff);
                ByteBuffer g = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN);
                g.put((byte) heads).put((byte) track).putShort((short) cyl).putLong(start / SECTOR);
                memory.write(arg, g.array());
            }
            default -> throw new Errno(Errno.ENOTTY);
        }
        return 0;
    }

    private static byte[] le8(long v) {
        return ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(v).array();
    }

    private static byte[] le4(int v) {
        return ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(v).array();
    }
}
