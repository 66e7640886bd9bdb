package org.viewos.umnet;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.logging.Logger;

import org.viewos.core.api.NativeAccess;

/**
 * Defers liblwipv6's {@code sys_sem_free} by a few seconds, which removes a use-after-free inside
 * lwip 1.5a that corrupted the daemon's heap under TCP load.
 *
 * <p>The defect (api_lib.c, netconn_write): every TCP send creates {@code conn->sem}, and when the
 * write is done the calling thread destroys and frees it; meanwhile the stack's tcpip thread, on
 * each ACK ({@code sent_tcp}), on its poll timer ({@code poll_tcp}) and on errors ({@code err_tcp}),
 * reads {@code conn->sem} and signals it. When the two overlap, the tcpip thread locks a freed mutex
 * and writes into memory malloc has already handed out again: later crashes in malloc, in
 * pthread_mutex_lock or wherever the damaged block is used. A C program using the library alone
 * (two stacks, a serialized caller, 20 MB each way) crashed in most runs; with sys_sem_free made a
 * no-op it did not.
 *
 * <p>The library calls its own sys_sem_free through its PLT, so its GOT slot is an indirection we
 * can take over without native code: the slot is found from the library's ELF relocations
 * ({@code R_X86_64_JUMP_SLOT} of {@code sys_sem_free}), checked (it must hold the function or a
 * PLT stub of the same library), and pointed at a callback that only queues the semaphore. A
 * reaper thread frees what has waited {@link #DELAY_NS}, through the real function. Anything
 * unexpected (another architecture, a different build, a stripped relocation table) leaves the
 * library as it is and says so in the log.
 */
final class SemQuarantine {
    private static final Logger LOG = Logger.getLogger(SemQuarantine.class.getName());
    static final long DELAY_NS = TimeUnit.SECONDS.toNanos(2);
    private static final int SHT_RELA = 4, SHT_DYNSYM = 11, R_X86_64_GLOB_DAT = 6, R_X86_64_JUMP_SLOT = 7,
            EM_X86_64 = 62;

    private final NativeAccess na;
    private final long real;
    private final long slot;
    private final long original;
    private final NativeAccess.Callback callback;
    private final ConcurrentLinkedQueue<long[]> queue = new ConcurrentLinkedQueue<>();
    private final Thread reaper;
    private volatile boolean running = true;

    private SemQuarantine(NativeAccess na, long real, long slot, long original) {
        this.na = na;
        this.real = real;
        this.slot = slot;
        this.original = original;
        this.callback = na.callback(sem -> queue.add(new long[] {sem, System.nanoTime()}));
        this.reaper = new Thread(this::reap, "umnet-lwip-sem-reaper");
        reaper.setDaemon(true);
        reaper.start();
        writeLong(slot, callback.address());
    }

    /** Installs the quarantine for the library that defines {@code sysSemFree}; null when it cannot. */
    static SemQuarantine install(NativeAccess na, long sysSemFree) {
        try {
            long slot = findSlot(sysSemFree);
            long current = readLong(na, slot);
            Mapping m = mapping(sysSemFree);
            if (current != sysSemFree && (current < m.start || current >= m.end)) {
                LOG.warning("umnet: liblwipv6's sys_sem_free slot holds an unexpected address; lwip's"
                        + " semaphore use-after-free stays unguarded");
                return null;
            }
            return new SemQuarantine(na, sysSemFree, slot, current);
        } catch (IOException | RuntimeException e) {
            LOG.warning("umnet: cannot guard liblwipv6's semaphore use-after-free (" + e.getMessage()
                    + "); TCP under load may crash the daemon");
            return null;
        }
    }

    private void reap() {
        while (running) {
            try {
                Thread.sleep(500);
            } catch (InterruptedException e) {
                return;
            }
            long now = System.nanoTime();
            for (long[] e = queue.peek(); e != null && now - e[1] >= DELAY_NS; e = queue.peek()) {
                queue.poll();
                na.call(real, e[0]);
            }
        }
    }

    /** Semaphores waiting to be freed (for the tests). */
    int pending() {
        return queue.size();
    }

    /**
     * Gives the library its own function back and frees what waits. Only when no stack can still
     * signal a semaphore: the module has ended all its stacks' traffic (interfaces down).
     */
    void release() {
        running = false;
        LwipStack.stop(reaper, 2000);
        writeLong(slot, original);
        for (long[] e = queue.poll(); e != null; e = queue.poll()) {
            na.call(real, e[0]);
        }
        callback.release();
    }

    private void writeLong(long address, long v) {
        na.write(address, ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(v).array());
    }

    private static long readLong(NativeAccess na, long address) {
        return ByteBuffer.wrap(na.read(address, 8)).order(ByteOrder.LITTLE_ENDIAN).getLong();
    }

    private record Mapping(Path file, long start, long end) {
    }

    /** The file that holds {@code address} and the span of all its mappings (/proc/self/maps). */
    private static Mapping mapping(long address) throws IOException {
        Path file = null;
        for (String line : Files.readAllLines(Path.of("/proc/self/maps"))) {
            String[] f = line.trim().split("\\s+", 6);
            String[] range = f[0].split("-");
            if (f.length == 6 && Long.compareUnsigned(Long.parseUnsignedLong(range[0], 16), address) <= 0
                    && Long.compareUnsigned(address, Long.parseUnsignedLong(range[1], 16)) < 0) {
                file = Path.of(f[5]);
            }
        }
        if (file == null) {
            throw new IOException("no mapping holds sys_sem_free");
        }
        long start = Long.MAX_VALUE;
        long end = 0;
        for (String line : Files.readAllLines(Path.of("/proc/self/maps"))) {
            String[] f = line.trim().split("\\s+", 6);
            if (f.length == 6 && Path.of(f[5]).equals(file)) {
                String[] range = f[0].split("-");
                start = Math.min(start, Long.parseUnsignedLong(range[0], 16));
                end = Math.max(end, Long.parseUnsignedLong(range[1], 16));
            }
        }
        return new Mapping(file, start, end);
    }

    /** The address of the GOT slot through which the library calls sys_sem_free. */
    private static long findSlot(long sysSemFree) throws IOException {
        Mapping m = mapping(sysSemFree);
        ByteBuffer elf = ByteBuffer.wrap(Files.readAllBytes(m.file())).order(ByteOrder.LITTLE_ENDIAN);
        if (elf.getInt(0) != 0x464c457f || elf.get(4) != 2 || elf.get(5) != 1 || elf.getShort(18) != EM_X86_64) {
            throw new IOException(m.file() + " is not a little-endian x86_64 ELF64 file");
        }
        long shoff = elf.getLong(0x28);
        int shentsize = elf.getShort(0x3a) & 0xffff;
        int shnum = elf.getShort(0x3c) & 0xffff;
        int dynsym = -1;
        for (int i = 0; i < shnum; i++) {
            if (elf.getInt((int) (shoff + (long) i * shentsize) + 4) == SHT_DYNSYM) {
                dynsym = i;
            }
        }
        if (dynsym < 0) {
            throw new IOException("no dynamic symbol table");
        }
        int symHdr = (int) (shoff + (long) dynsym * shentsize);
        int symOff = (int) elf.getLong(symHdr + 0x18);
        int symCount = (int) (elf.getLong(symHdr + 0x20) / 24);
        int strOff = (int) elf.getLong((int) (shoff + (long) elf.getInt(symHdr + 0x28) * shentsize) + 0x18);
        int index = -1;
        long value = 0;
        for (int i = 0; i < symCount && index < 0; i++) {
            int s = symOff + i * 24;
            if ("sys_sem_free".equals(cstring(elf, strOff + elf.getInt(s))) && elf.getLong(s + 8) != 0) {
                index = i;
                value = elf.getLong(s + 8);
            }
        }
        if (index < 0) {
            throw new IOException("sys_sem_free is not a dynamic symbol");
        }
        long base = sysSemFree - value;
        if (base != m.start()) {
            throw new IOException("the library is not mapped as its file says");
        }
        for (int i = 0; i < shnum; i++) {
            int h = (int) (shoff + (long) i * shentsize);
            if (elf.getInt(h + 4) != SHT_RELA || elf.getInt(h + 0x28) != dynsym) {
                continue;
            }
            int off = (int) elf.getLong(h + 0x18);
            long n = elf.getLong(h + 0x20) / 24;
            for (int k = 0; k < n; k++) {
                long info = elf.getLong(off + k * 24 + 8);
                int type = (int) info;
                if ((info >>> 32) == index && (type == R_X86_64_JUMP_SLOT || type == R_X86_64_GLOB_DAT)) {
                    return base + elf.getLong(off + k * 24);
                }
            }
        }
        throw new IOException("the library does not call sys_sem_free through its GOT");
    }

    private static String cstring(ByteBuffer b, int at) {
        int end = at;
        while (b.get(end) != 0) {
            end++;
        }
        byte[] s = new byte[end - at];
        b.get(at, s);
        return new String(s, java.nio.charset.StandardCharsets.US_ASCII);
    }
}
