package org.viewos.core.internal.ffi;

import java.nio.charset.StandardCharsets;
import java.util.List;

import jnr.ffi.LibraryLoader;
import jnr.ffi.Memory;
import jnr.ffi.Pointer;
import jnr.ffi.Runtime;

/**
 * The native edge: loads libc once, and converts {@code -1} + errno into {@link NativeException}.
 *
 * <p>Thread model: {@link Scratch} buffers are confined to one thread (each tracer thread owns one).
 */
public final class Native {
    static {
        // jnr-ffi 2.2.17 corrupts the 6th argument of 6-argument calls through its x86 asm stubs.
        System.setProperty("jnr.ffi.x86asm.enabled", "false");
    }

    public static final LibC LIBC = LibraryLoader.create(LibC.class).load("c");
    public static final Runtime RUNTIME = Runtime.getRuntime(LIBC);

    private Native() {
    }

    public static int errno() {
        return RUNTIME.getLastError();
    }

    /** posix_spawn-style functions return the error number instead of setting errno. */
    public static void checkZero(int r, String what) {
        if (r != 0) {
            throw new NativeException(what, r);
        }
    }

    public static Pointer allocate(int size) {
        return Memory.allocateDirect(RUNTIME, size, true);
    }

    /** Native copies of strings and a NULL-terminated pointer array to them (argv / envp). */
    public static Pointer stringArray(List<String> strings, List<Pointer> keepAlive) {
        Pointer array = allocate((strings.size() + 1) * 8);
        for (int i = 0; i < strings.size(); i++) {
            // argv and environment come from the JVM, decoded with the platform charset: encode them back alike.
            byte[] b = strings.get(i).getBytes(java.nio.charset.Charset.defaultCharset());
            Pointer s = allocate(b.length + 1);
            s.put(0, b, 0, b.length);
            s.putByte(b.length, (byte) 0);
            keepAlive.add(s);
            array.putLong(i * 8L, s.address());
        }
        array.putLong(strings.size() * 8L, 0);
        keepAlive.add(array);
        return array;
    }

    private static final ThreadLocal<Pointer> LINK_BUF = ThreadLocal.withInitial(() -> allocate(4097));

    /**
     * readlink(2). Paths are kept as ISO-8859-1 strings throughout the core, so every byte of a
     * Linux path survives the trip through Java unchanged.
     *
     * @return the link's target, or null when {@code path} is not a readable symlink; errno tells why
     */
    public static String readlink(String path) {
        Pointer buf = LINK_BUF.get();
        long n = LIBC.readlink(cpath(path), buf, 4096);
        if (n < 0) {
            return null;
        }
        byte[] b = new byte[(int) n];
        buf.get(0, b, 0, b.length);
        return new String(b, StandardCharsets.ISO_8859_1);
    }

    /** A {@code struct sockaddr_un} for {@code path} (AF_UNIX, NUL-terminated); null when too long. */
    public static byte[] sockaddrUn(String path) {
        byte[] p = path.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        if (p.length > 107) {
            return null;
        }
        byte[] addr = new byte[2 + p.length + 1];
        addr[0] = 1; // AF_UNIX, little-endian
        System.arraycopy(p, 0, addr, 2, p.length);
        return addr;
    }

    /** A path string as a NUL-terminated C string, byte for byte. */
    public static byte[] cpath(String path) {
        byte[] b = new byte[path.length() + 1];
        for (int i = 0; i < path.length(); i++) {
            b[i] = (byte) path.charAt(i);
        }
        return b;
    }
}
