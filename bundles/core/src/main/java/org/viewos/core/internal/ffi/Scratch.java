package org.viewos.core.internal.ffi;

import java.nio.charset.StandardCharsets;

import jnr.ffi.Pointer;

/**
 * Native buffers of one tracer thread: a register area, an iovec pair, and a data buffer for
 * process_vm_readv/writev. Confined to the thread that created it.
 */
public final class Scratch {
    public static final int DATA_SIZE = 64 * 1024;
    private static final int FIRST_READ = 256;

    private static final ThreadLocal<Scratch> LOCAL = ThreadLocal.withInitial(Scratch::new);

    /** This thread's own buffers (a module's thread reading a caller's memory, say). */
    public static Scratch local() {
        return LOCAL.get();
    }

    private final Pointer regs = Native.allocate(512);
    private final Pointer iov = Native.allocate(32);
    private final Pointer data = Native.allocate(DATA_SIZE);
    private final int[] status = new int[1];
    private final byte[] bytes = new byte[DATA_SIZE];

    public Pointer regs() {
        return regs;
    }

    public int[] status() {
        return status;
    }

    /** Reads up to {@code len} bytes of the tracee's memory at {@code addr}; returns bytes read or -errno. */
    public long read(int pid, long addr, int len) {
        iov.putLong(0, data.address());
        iov.putLong(8, len);
        iov.putLong(16, addr);
        iov.putLong(24, len);
        long r = Native.LIBC.process_vm_readv(pid, iov.address(), 1, iov.address() + 16, 1, 0);
        return r < 0 ? -Native.errno() : r;
    }

    /** Writes {@code b} into the tracee's memory at {@code addr}; returns bytes written or -errno. */
    public long write(int pid, long addr, byte[] b, int len) {
        data.put(0, b, 0, len);
        iov.putLong(0, data.address());
        iov.putLong(8, len);
        iov.putLong(16, addr);
        iov.putLong(24, len);
        long r = Native.LIBC.process_vm_writev(pid, iov.address(), 1, iov.address() + 16, 1, 0);
        return r < 0 ? -Native.errno() : r;
    }

    /** The bytes last read, as a Java array (valid until the next call). */
    public byte[] bytes(int len) {
        data.get(0, bytes, 0, len);
        return bytes;
    }

    /**
     * Reads a NUL-terminated string of at most {@code max} bytes. Reads page by page so a string that
     * ends just before an unmapped page is still found.
     *
     * @return the string, or null on EFAULT / when no NUL comes within {@code max} bytes
     */
    public String readString(int pid, long addr, int max) {
        tooLong = false;
        StringBuilder sb = null;
        int total = 0;
        while (total < max) {
            long a = addr + total;
            // a first short read: most paths are short, and the copy is most of the call's cost
            int chunk = (int) Math.min(Math.min(max - total, 4096 - (a & 4095)), total == 0 ? FIRST_READ : 4096);
            long r = read(pid, a, chunk);
            if (r <= 0) {
                return null;
            }
            byte[] b = bytes((int) r);
            for (int i = 0; i < r; i++) {
                if (b[i] == 0) {
                    String s = new String(b, 0, i, StandardCharsets.ISO_8859_1);
                    return sb == null ? s : sb.append(s).toString();
                }
            }
            if (sb == null) {
                sb = new StringBuilder();
            }
            sb.append(new String(b, 0, (int) r, StandardCharsets.ISO_8859_1));
            total += r;
        }
        tooLong = true;
        return null;
    }

    /** After {@link #readString} returned null: true when it was readable but had no NUL in time. */
    public boolean tooLong() {
        return tooLong;
    }

    private boolean tooLong;
}
