package org.viewos.umdev;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.logging.Logger;

import org.viewos.core.api.Errno;
import org.viewos.core.api.OpenFile;
import org.viewos.umdev.api.Device;
import org.viewos.umdev.api.DeviceDriver;

/**
 * umdevmbr: a disk image as a whole disk ({@code /dev/hda}) with its partitions as subdevices
 * ({@code /dev/hda1}...): MBR primary (1-4) and logical partitions (5...) in extended ones, or the
 * GPT entries (numbered as in the table). Writes go straight to the image file; the table is read
 * again after BLKRRPART or when a writer of its first sectors closes (sfdisk does both).
 */
final class Mbr implements Device, Storage {
    private static final Logger LOG = Logger.getLogger(Mbr.class.getName());
    private static final int SECTOR = BlockFile.SECTOR;
    private static final int MAX_LOGICAL = 60;

    private final Path image;
    private final FileChannel ch;
    private final long size;
    private final boolean[] readOnly;
    /** Partition N as {start, length} in bytes at index N, null where there is none. */
    private volatile long[][] parts = new long[1][];

    private Mbr(Path image, FileChannel ch, long size, boolean ro) {
        this.image = image;
        this.ch = ch;
        this.size = size;
        this.readOnly = new boolean[] {ro};
    }

    static final class Driver implements DeviceDriver {
        @Override
        public String name() {
            return "mbr";
        }

        @Override
        public Device create(String source, Map<String, String> options, boolean readOnly) throws Errno {
            Drivers.noOptions(name(), options);
            Path p = Path.of(source);
            if (!source.startsWith("/") || !Files.exists(p)) {
                throw new Errno(Errno.ENOENT, "umdevmbr: no disk image " + source);
            }
            if (!Files.isRegularFile(p)) {
                throw new Errno(Errno.EINVAL, "umdevmbr: " + source + " is not a regular file");
            }
            boolean ro = readOnly || !Files.isWritable(p);
            try {
                FileChannel ch = ro ? FileChannel.open(p, StandardOpenOption.READ)
                        : FileChannel.open(p, StandardOpenOption.READ, StandardOpenOption.WRITE);
                long size = ch.size() / SECTOR * SECTOR;
                Mbr m = new Mbr(p, ch, size, ro);
                m.rescan();
                return m;
            } catch (IOException e) {
                throw new Errno(Errno.EACCES, "umdevmbr: cannot open " + source + ": " + e.getMessage());
            }
        }
    }

    /** Reads the partition table again (MBR with extended partitions, or GPT). */
    void rescan() {
        List<long[]> found = new ArrayList<>();
        found.add(null);
        try {
            byte[] mbr = sector(0);
            if ((mbr[510] & 0xff) != 0x55 || (mbr[511] & 0xff) != 0xaa) {
                parts = found.toArray(new long[0][]);
                return; // no table: a disk without partitions
            }
            ByteBuffer b = ByteBuffer.wrap(mbr).order(ByteOrder.LITTLE_ENDIAN);
            boolean gpt = false;
            long extended = -1;
            for (int i = 0; i < 4; i++) {
                int e = 446 + 16 * i;
                int type = mbr[e + 4] & 0xff;
                long first = Integer.toUnsignedLong(b.getInt(e + 8));
                long count = Integer.toUnsignedLong(b.getInt(e + 12));
                if (type == 0xee) {
                    gpt = true;
                }
                if (type == 0x05 || type == 0x0f || type == 0x85) {
                    extended = first;
                    // the kernel shows an extended partition as a 1 KiB stub
                    found.add(clamp(first, Math.min(count, 2)));
                } else {
                    found.add(type == 0 || count == 0 ? null : clamp(first, count));
                }
            }
            if (gpt) {
                found = gpt();
            } else if (extended >= 0) {
                logical(extended, found);
            }
        } catch (IOException | RuntimeException e) {
            LOG.warning("umdevmbr: reading the partition table of " + image + ": " + e);
        }
        while (found.size() > 1 && found.get(found.size() - 1) == null) {
            found.remove(found.size() - 1);
        }
        parts = found.toArray(new long[0][]);
    }

    /** Logical partitions: a chain of EBRs, each relative to the extended partition's start. */
    private void logical(long extStart, List<long[]> found) throws IOException {
        long ebr = extStart;
        for (int n = 0; n < MAX_LOGICAL && ebr * SECTOR < size; n++) {
            byte[] s = sector(ebr);
            if ((s[510] & 0xff) != 0x55 || (s[511] & 0xff) != 0xaa) {
                return;
            }
            ByteBuffer b = ByteBuffer.wrap(s).order(ByteOrder.LITTLE_ENDIAN);
            long first = Integer.toUnsignedLong(b.getInt(446 + 8));
            long count = Integer.toUnsignedLong(b.getInt(446 + 12));
            if ((s[446 + 4] & 0xff) != 0 && count > 0) {
                found.add(clamp(ebr + first, count));
            }
            int nextType = s[462 + 4] & 0xff;
            long next = Integer.toUnsignedLong(b.getInt(462 + 8));
            if (nextType == 0 || next == 0) {
                return;
            }
            ebr = extStart + next;
        }
    }

    private List<long[]> gpt() throws IOException {
        List<long[]> found = new ArrayList<>();
        found.add(null);
        byte[] h = sector(1);
        if (!new String(h, 0, 8, StandardCharsets.US_ASCII).equals("EFI PART")) {
            LOG.warning("umdevmbr: " + image + " has a protective MBR but no GPT header");
            return found;
        }
        ByteBuffer hb = ByteBuffer.wrap(h).order(ByteOrder.LITTLE_ENDIAN);
        long table = hb.getLong(72);
        int count = hb.getInt(80), entrySize = hb.getInt(84);
        if (count <= 0 || count > 1024 || entrySize < 128 || entrySize > 4096) {
            LOG.warning("umdevmbr: " + image + ": implausible GPT (" + count + " entries of " + entrySize + ")");
            return found;
        }
        ByteBuffer t = ByteBuffer.allocate(count * entrySize).order(ByteOrder.LITTLE_ENDIAN);
        ch.read(t, table * SECTOR);
        for (int i = 0; i < count; i++) {
            int e = i * entrySize;
            boolean used = false;
            for (int k = 0; k < 16 && e + 16 <= t.capacity(); k++) {
                used |= t.get(e + k) != 0;
            }
            long first = t.getLong(e + 32), last = t.getLong(e + 40);
            found.add(used && last >= first ? clamp(first, last - first + 1) : null);
        }
        return found;
    }

    /** A partition in bytes, cut at the end of the disk as the kernel does; null when it starts past it. */
    private long[] clamp(long firstSector, long sectors) {
        long start = firstSector * SECTOR;
        if (start >= size || firstSector < 0) {
            return null;
        }
        return new long[] {start, Math.min(sectors * SECTOR, size - start)};
    }

    private byte[] sector(long n) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(SECTOR);
        ch.read(b, n * SECTOR);
        return b.array();
    }

    @Override
    public boolean block() {
        return true;
    }

    @Override
    public int major() {
        return 3; // Linux's first IDE disk, as umview's hda
    }

    @Override
    public int minor() {
        return 0;
    }

    @Override
    public int units() {
        return parts.length - 1;
    }

    @Override
    public long size(int unit) {
        if (unit == 0) {
            return size;
        }
        long[][] p = parts;
        return unit < p.length && p[unit] != null ? p[unit][1] : 0;
    }

    @Override
    public org.viewos.core.api.VirtualFile.Backing backing(int unit) {
        if (unit == 0) {
            return new org.viewos.core.api.VirtualFile.Backing(image.toString(), 0, size);
        }
        long[][] p = parts;
        return unit < p.length && p[unit] != null
                ? new org.viewos.core.api.VirtualFile.Backing(image.toString(), p[unit][0], p[unit][1]) : null;
    }

    @Override
    public OpenFile open(int unit, int flags) throws Errno {
        if (unit == 0) {
            return new BlockFile(this, 0, size, readOnly, this::rescan);
        }
        long[][] p = parts;
        if (unit >= p.length || p[unit] == null) {
            throw new Errno(Errno.ENXIO);
        }
        return new BlockFile(this, p[unit][0], p[unit][1], readOnly, null);
    }

    @Override
    public long size() {
        return size;
    }

    @Override
    public int read(long position, ByteBuffer dst) throws Errno {
        try {
            int done = 0;
            while (dst.hasRemaining()) {
                int n = ch.read(dst, position + done);
                if (n <= 0) {
                    break;
                }
                done += n;
            }
            return done;
        } catch (IOException e) {
            throw new Errno(Errno.EIO, image + ": " + e.getMessage());
        }
    }

    @Override
    public int write(long position, ByteBuffer src) throws Errno {
        try {
            int done = 0;
            while (src.hasRemaining()) {
                done += ch.write(src, position + done);
            }
            return done;
        } catch (IOException e) {
            throw new Errno(e.getMessage() != null && e.getMessage().contains("space") ? Errno.ENOSPC : Errno.EIO,
                    image + ": " + e.getMessage());
        }
    }

    @Override
    public void sync() throws Errno {
        try {
            ch.force(false);
        } catch (IOException e) {
            throw new Errno(Errno.EIO, image + ": " + e.getMessage());
        }
    }

    @Override
    public void close() {
        try {
            ch.force(false);
            ch.close();
        } catch (IOException e) {
            LOG.warning("umdevmbr: closing " + image + ": " + e);
        }
    }
}
