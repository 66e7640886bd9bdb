package org.viewos.umdev;

import java.nio.ByteBuffer;
import java.util.HashMap;
import java.util.Map;

import org.viewos.core.api.Errno;
import org.viewos.core.api.OpenFile;
import org.viewos.umdev.api.Device;
import org.viewos.umdev.api.DeviceDriver;

/**
 * umdevramdisk: a RAM block device of {@code -o size=N[KMG]} (default 64M), zero at the start,
 * private to the view and gone with the mount. Memory is taken in 64 KiB pages as they are written.
 */
final class RamDisk implements Device, Storage {
    private static final int PAGE = 64 * 1024;
    private static final byte[] ZEROS = new byte[PAGE];
    private final long size;
    private final Map<Long, byte[]> pages = new HashMap<>();
    private final boolean[] readOnly;

    RamDisk(long size, boolean ro) {
        this.size = size;
        this.readOnly = new boolean[] {ro};
    }

    static final class Driver implements DeviceDriver {
        @Override
        public String name() {
            return "ramdisk";
        }

        @Override
        public Device create(String source, Map<String, String> options, boolean readOnly) throws Errno {
            long size = 64L << 20;
            for (var o : options.entrySet()) {
                if (!o.getKey().equals("size")) {
                    throw new Errno(Errno.EINVAL, "umdevramdisk: unknown option " + o.getKey());
                }
                size = parseSize(o.getValue());
            }
            return new RamDisk(size, readOnly);
        }
    }

    /** {@code 64M}, {@code 512K}, {@code 1G}, {@code 4096}: a positive multiple of 512 bytes. */
    static long parseSize(String v) throws Errno {
        try {
            long mult = 1;
            String n = v;
            char last = v.isEmpty() ? ' ' : Character.toUpperCase(v.charAt(v.length() - 1));
            if (last == 'K' || last == 'M' || last == 'G') {
                mult = last == 'K' ? 1L << 10 : last == 'M' ? 1L << 20 : 1L << 30;
                n = v.substring(0, v.length() - 1);
            }
            long s = Math.multiplyExact(Long.parseLong(n), mult);
            if (s <= 0 || s % BlockFile.SECTOR != 0 || s > (1L << 40)) {
                throw new NumberFormatException();
            }
            return s;
        } catch (NumberFormatException | ArithmeticException e) {
            throw new Errno(Errno.EINVAL, "bad size '" + v + "' (a multiple of 512 bytes, with K, M or G)");
        }
    }

    @Override
    public boolean block() {
        return true;
    }

    @Override
    public int major() {
        return 1; // Linux's ramdisk major
    }

    @Override
    public int minor() {
        return 0;
    }

    @Override
    public long size(int unit) {
        return size;
    }

    @Override
    public OpenFile open(int unit, int flags) {
        return new BlockFile(this, 0, size, readOnly, null);
    }

    @Override
    public synchronized int read(long position, ByteBuffer dst) {
        int done = 0;
        while (dst.hasRemaining()) {
            long p = position + done;
            int off = (int) (p % PAGE);
            int n = Math.min(dst.remaining(), PAGE - off);
            byte[] page = pages.get(p / PAGE);
            if (page != null) {
                dst.put(page, off, n);
            } else {
                dst.put(ZEROS, 0, n); // never written: zeros
            }
            done += n;
        }
        return done;
    }

    @Override
    public synchronized int write(long position, ByteBuffer src) {
        int done = 0;
        while (src.hasRemaining()) {
            long p = position + done;
            int off = (int) (p % PAGE);
            int n = Math.min(src.remaining(), PAGE - off);
            src.get(pages.computeIfAbsent(p / PAGE, k -> new byte[PAGE]), off, n);
            done += n;
        }
        return done;
    }

    @Override
    public long size() {
        return size;
    }

    @Override
    public void close() {
        synchronized (this) {
            pages.clear();
        }
    }
}
