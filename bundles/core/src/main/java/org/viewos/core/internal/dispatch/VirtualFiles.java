package org.viewos.core.internal.dispatch;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;
import java.util.logging.Logger;

import org.viewos.core.api.Errno;
import org.viewos.core.api.FileStat;
import org.viewos.core.api.OpenFile;
import org.viewos.core.api.VirtualFile;
import org.viewos.core.internal.ffi.Native;
import org.viewos.core.internal.shell.ShellServer;
import org.viewos.core.internal.vfs.Mount;

/**
 * The open virtual files of a view. Each open gets a placeholder in a private directory
 * ({@code PID.vfd/N}): an empty regular file, or a FIFO for a stream (the daemon keeps one byte in
 * it while the stream is readable, so poll/select/epoll on the traced process's descriptor follow
 * the module's readiness). The traced process really opens the placeholder; its descriptor is
 * known again by the link {@code /proc/TID/fd/FD}, so dup, fork, close-on-exec and flock need
 * nothing from us. Confined to the tracer thread except {@link Entry#readable}.
 */
final class VirtualFiles {
    private static final Logger LOG = Logger.getLogger(VirtualFiles.class.getName());
    private static final int O_RDWR = 2, O_NONBLOCK = 04000, O_CLOEXEC = 02000000;

    /** One open file description of a virtual file. */
    static final class Entry {
        final int id;
        final VirtualFile file;
        final OpenFile open;
        final Mount mount;
        final String viewPath;
        final int flags;
        final boolean stream;
        final String placeholder;
        long position;
        /**
         * The thread whose open of the placeholder is under way (0 when none): until that open
         * returns, no descriptor refers to the entry and yet it is in use.
         */
        private volatile int openingBy;
        /** The daemon's own descriptor of a stream's FIFO (the readiness token), else -1. */
        private int fifo = -1;
        private boolean token;

        Entry(int id, VirtualFile file, OpenFile open, Mount mount, String viewPath, int flags, boolean stream,
                String placeholder) {
            this.id = id;
            this.file = file;
            this.open = open;
            this.mount = mount;
            this.viewPath = viewPath;
            this.flags = flags;
            this.stream = stream;
            this.placeholder = placeholder;
        }

        /** Keeps one byte in the FIFO exactly while the stream is readable (any thread). */
        synchronized void readable(boolean yes) {
            if (fifo < 0 || yes == token) {
                return;
            }
            byte[] b = new byte[1];
            long r = yes ? Native.LIBC.write(fifo, b, 1) : Native.LIBC.read(fifo, b, 1);
            if (r == 1) {
                token = yes;
            }
        }

        synchronized boolean isReadable() {
            return token;
        }

        synchronized void closeFifo() {
            if (fifo >= 0) {
                Native.LIBC.close(fifo);
                fifo = -1;
            }
        }
    }

    private final Map<Integer, Entry> entries = new HashMap<>();
    private final Supplier<Set<Integer>> viewTids;
    private Path dir;
    private String prefix;
    private int next = 1;

    VirtualFiles(Supplier<Set<Integer>> viewTids) {
        this.viewTids = viewTids;
    }

    boolean isEmpty() {
        return entries.isEmpty();
    }

    /** Opens {@code file} for a traced open: returns the entry whose placeholder the process opens. */
    Entry open(VirtualFile file, Mount mount, String viewPath, int flags) throws Errno {
        OpenFile of = file.open(flags);
        if (of == null) {
            throw new Errno(Errno.EIO, "module " + mount.module() + " opened nothing");
        }
        return adopt(file, of, mount, viewPath, flags);
    }

    /** An open file a module made otherwise (a socket, an accepted connection): gets a placeholder. */
    Entry adopt(VirtualFile file, OpenFile of, Mount mount, String viewPath, int flags) throws Errno {
        boolean stream = of.size() < 0;
        String ph;
        int id = next++;
        try {
            Path d = directory();
            ph = d.resolve(Integer.toString(id)).toString();
            if (stream) {
                if (Native.LIBC.mkfifo(ph, 0600) != 0) {
                    throw new IOException("mkfifo " + ph + ": errno " + Native.errno());
                }
            } else {
                Files.createFile(Path.of(ph));
            }
        } catch (IOException e) {
            of.close();
            throw new Errno(Errno.EIO, "cannot make a placeholder for " + viewPath + ": " + e.getMessage());
        }
        Entry en = new Entry(id, file, of, mount, viewPath, flags, stream, ph);
        if (stream) {
            en.fifo = Native.LIBC.open(ph, O_RDWR | O_NONBLOCK | O_CLOEXEC, 0);
            if (en.fifo < 0) {
                of.close();
                throw new Errno(Errno.EIO, "cannot open the placeholder FIFO of " + viewPath);
            }
            try {
                of.watch(en::readable);
            } catch (RuntimeException e) {
                LOG.warning("viewos: module " + mount.module() + " failed to watch " + viewPath + ": " + e);
            }
        }
        entries.put(id, en);
        if (viewPath.startsWith("/")) {
            org.viewos.core.internal.vfs.Placeholders.add(ph, viewPath);
        }
        return en;
    }

    /** The entry behind descriptor {@code fd} of thread {@code tid}, or null when not virtual. */
    Entry byFd(int tid, int fd) {
        if (entries.isEmpty() || fd < 0) {
            return null;
        }
        String link = Native.readlink("/proc/" + tid + "/fd/" + fd);
        return link == null ? null : byPath(link);
    }

    private Entry byPath(String link) {
        if (prefix == null || !link.startsWith(prefix)) {
            return null;
        }
        try {
            return entries.get(Integer.parseInt(link.substring(prefix.length())));
        } catch (NumberFormatException e) {
            return null;
        }
    }

    /**
     * Thread {@code tid} is about to open the placeholder of {@code e} (its pending call was turned
     * into that open): {@link #collect} keeps the entry until {@link #opened} (or the thread's end).
     */
    void opening(Entry e, int tid) {
        e.openingBy = tid;
    }

    /** The open of {@code e}'s placeholder returned {@code res}: when it failed the entry goes. */
    void opened(Entry e, long res) {
        e.openingBy = 0;
        if (res < 0) {
            collect();
        }
    }

    /** Whether an open file of {@code m} is still in use (after dropping those nobody holds). */
    boolean busy(Mount m) {
        collect();
        return entries.values().stream().anyMatch(e -> e.mount == m);
    }

    /**
     * Closes the entries no descriptor of the view refers to any more and no thread is opening:
     * walks /proc/TID/fd of the view's processes (only while virtual files are open).
     */
    void collect() {
        if (entries.isEmpty()) {
            return;
        }
        Set<Integer> held = new HashSet<>();
        Set<Integer> seen = new HashSet<>();
        Set<Integer> tids = viewTids.get();
        for (Entry e : entries.values()) {
            // a placeholder being opened is in no descriptor table yet (another thread's close
            // collects while the open runs): it stays while the opening thread lives
            if (e.openingBy != 0 && tids.contains(e.openingBy)) {
                held.add(e.id);
            }
        }
        for (int tid : tids) {
            int tgid = org.viewos.core.internal.trace.Procfs.tgid(tid);
            if (tgid < 0) {
                continue;
            }
            if (!seen.add(tgid)) {
                continue;
            }
            String[] fds = new File("/proc/" + tgid + "/fd").list();
            if (fds == null) {
                continue;
            }
            for (String fd : fds) {
                String link = Native.readlink("/proc/" + tgid + "/fd/" + fd);
                Entry e = link == null ? null : byPath(link);
                if (e != null) {
                    held.add(e.id);
                }
            }
        }
        entries.values().removeIf(e -> {
            if (held.contains(e.id)) {
                return false;
            }
            release(e);
            return true;
        });
    }

    /** Closes every entry (the view ended). */
    void closeAll() {
        entries.values().forEach(this::release);
        entries.clear();
        if (dir != null) {
            try {
                Files.deleteIfExists(dir);
            } catch (IOException e) {
                LOG.fine("removing " + dir + ": " + e);
            }
        }
    }

    private void release(Entry e) {
        e.closeFifo();
        try {
            e.open.close();
        } catch (RuntimeException ex) {
            LOG.warning("viewos: module " + e.mount.module() + " failed to close " + e.viewPath + ": " + ex);
        }
        org.viewos.core.internal.vfs.Placeholders.remove(e.placeholder);
        try {
            Files.deleteIfExists(Path.of(e.placeholder));
        } catch (IOException ex) {
            LOG.fine("removing " + e.placeholder + ": " + ex);
        }
    }

    /** The module's stat of a virtual file (the device and inode numbers are StatBuf's). */
    static FileStat stat(VirtualFile f, Mount m) throws Errno {
        FileStat s = f.stat();
        if (s == null) {
            throw new Errno(Errno.EIO, "module " + m.module() + " gave no stat");
        }
        return s;
    }

    /** A stable inode number for a virtual file (its view path). */
    static long inode(String viewPath) {
        long h = 1125899906842597L;
        for (int i = 0; i < viewPath.length(); i++) {
            h = 31 * h + viewPath.charAt(i);
        }
        return h & 0x7fffffffffffL | 1;
    }

    private Path directory() throws IOException {
        if (dir == null) {
            Path d = ShellServer.directory().resolve(Native.LIBC.getpid() + ".vfd");
            Files.createDirectories(d);
            dir = d;
            prefix = d.toString() + "/";
        }
        return dir;
    }
}
