package org.viewos.umbinfmt;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Logger;
import java.util.stream.Stream;

import org.viewos.core.api.Errno;
import org.viewos.core.api.FileStat;
import org.viewos.core.api.FileSystem;
import org.viewos.core.api.OpenFile;
import org.viewos.core.api.VirtualFile;

/**
 * One umbinfmt mount: a binfmt_misc directory of the view's own, with {@code register},
 * {@code status} and one file per rule, as Linux's binfmt_misc file system. The directory itself
 * is a private host directory holding empty files of those names, so listings show them; reading
 * and writing them is served here.
 */
class BinfmtFs implements FileSystem {
    private static final Logger LOG = Logger.getLogger(BinfmtFs.class.getName());

    /** Rules, the most recent first (Linux tries them in that order). */
    final List<Entry> entries = new CopyOnWriteArrayList<>();
    /** Host path prefix the rules apply to (null: every program). */
    final String prefix;
    volatile boolean enabled = true;
    private final Path dir;
    private final long created = System.currentTimeMillis() / 1000;

    BinfmtFs(String prefix) throws Errno {
        this.prefix = prefix;
        try {
            removeStale();
            dir = Files.createTempDirectory("viewos-binfmt-" + ProcessHandle.current().pid() + "-");
            Files.createFile(dir.resolve("register"));
            Files.createFile(dir.resolve("status"));
        } catch (IOException e) {
            throw new Errno(Errno.EIO, "umbinfmt: cannot make its directory: " + e.getMessage());
        }
    }

    /** Directories left by daemons that were killed (named viewos-binfmt-PID-...). */
    private static void removeStale() {
        Path tmp = Path.of(System.getProperty("java.io.tmpdir"));
        try (Stream<Path> s = Files.list(tmp)) {
            for (Path p : (Iterable<Path>) s::iterator) {
                String n = p.getFileName().toString();
                if (!n.startsWith("viewos-binfmt-")) {
                    continue;
                }
                String[] parts = n.split("-");
                if (parts.length >= 4 && parts[2].matches("[0-9]+")
                        && ProcessHandle.of(Long.parseLong(parts[2])).isEmpty()) {
                    try (Stream<Path> w = Files.walk(p)) {
                        w.sorted(Comparator.reverseOrder()).forEach(q -> q.toFile().delete());
                    }
                }
            }
        } catch (IOException | RuntimeException e) {
            LOG.fine("umbinfmt: cleaning " + tmp + ": " + e);
        }
    }

    /** Registers a rule from one register line. */
    void register(byte[] line) throws Errno {
        Entry e = Entry.parse(line);
        synchronized (entries) {
            for (Entry x : entries) {
                if (x.name.equals(e.name)) {
                    throw new Errno(Errno.EEXIST, "register: " + e.name + " exists");
                }
            }
            if (e.fixBinary() && !Files.isRegularFile(Path.of(e.interpreter))) {
                throw new Errno(Errno.ENOENT, "register: no interpreter " + e.interpreter);
            }
            try {
                Files.createFile(dir.resolve(e.name));
            } catch (IOException ex) {
                throw new Errno(Errno.EIO, ex.getMessage());
            }
            entries.add(0, e);
        }
    }

    /** Loads a directory of register lines (Debian's /usr/lib/binfmt.d); returns how many took. */
    int load(Path table) throws Errno {
        int n = 0;
        if (!Files.isDirectory(table)) {
            throw new Errno(Errno.ENOENT, "umbinfmt: no table directory " + table);
        }
        try (Stream<Path> s = Files.list(table)) {
            List<Path> files = new ArrayList<>(s.filter(p -> p.toString().endsWith(".conf")).sorted().toList());
            for (Path p : files) {
                for (String l : Files.readAllLines(p, StandardCharsets.ISO_8859_1)) {
                    if (l.isBlank() || l.startsWith("#") || l.startsWith(";")) {
                        continue;
                    }
                    try {
                        register(l.getBytes(StandardCharsets.ISO_8859_1));
                        n++;
                    } catch (Errno e) {
                        LOG.warning("umbinfmt: " + p + ": " + e.getMessage());
                    }
                }
            }
        } catch (IOException e) {
            throw new Errno(Errno.EIO, "umbinfmt: reading " + table + ": " + e.getMessage());
        }
        return n;
    }

    private void remove(Entry e) {
        synchronized (entries) {
            entries.remove(e);
            try {
                Files.deleteIfExists(dir.resolve(e.name));
            } catch (IOException ex) {
                LOG.fine("umbinfmt: " + ex);
            }
        }
    }

    private Entry entry(String name) {
        for (Entry e : entries) {
            if (e.name.equals(name)) {
                return e;
            }
        }
        return null;
    }

    @Override
    public String hostPath(String relative, Access access) throws Errno {
        if (relative.isEmpty()) {
            if (access != Access.LOOKUP && access != Access.READ) {
                throw new Errno(Errno.EACCES);
            }
            return dir.toString();
        }
        if (relative.equals("register") || relative.equals("status") || entry(relative) != null) {
            return VIRTUAL;
        }
        if (access == Access.CREATE || access == Access.DELETE) {
            throw new Errno(Errno.EACCES, "binfmt_misc files come from register");
        }
        return dir.resolve(relative).toString(); // not there: ENOENT from the kernel
    }

    @Override
    public String relativeOf(String hostPath) {
        return FileSystem.below(dir.toString(), hostPath);
    }

    @Override
    public VirtualFile virtualFile(String relative) throws Errno {
        if (relative.equals("register")) {
            return file(0200, () -> null, line -> register(line));
        }
        if (relative.equals("status")) {
            return file(0644, () -> enabled ? "enabled\n" : "disabled\n", this::status);
        }
        Entry e = entry(relative);
        if (e == null) {
            throw new Errno(Errno.ENOENT);
        }
        return file(0644, e::describe, cmd -> {
            switch (command(cmd)) {
                case 1 -> e.enabled = true;
                case 0 -> e.enabled = false;
                default -> remove(e);
            }
        });
    }

    private void status(byte[] cmd) throws Errno {
        switch (command(cmd)) {
            case 1 -> enabled = true;
            case 0 -> enabled = false;
            default -> entries.forEach(this::remove);
        }
    }

    /** "1", "0" or "-1" (with an optional newline): anything else is EINVAL, as in Linux. */
    private static int command(byte[] b) throws Errno {
        String s = new String(b, StandardCharsets.ISO_8859_1);
        if (s.endsWith("\n")) {
            s = s.substring(0, s.length() - 1);
        }
        return switch (s) {
            case "1" -> 1;
            case "0" -> 0;
            case "-1" -> -1;
            default -> throw new Errno(Errno.EINVAL, "write 1, 0 or -1");
        };
    }

    private interface Writer {
        void write(byte[] data) throws Errno;
    }

    /** A binfmt_misc file: reads show {@code text} (null: not readable), each write is one command. */
    private VirtualFile file(int mode, java.util.function.Supplier<String> text, Writer writer) {
        return new VirtualFile() {
            @Override
            public FileStat stat() {
                return new FileStat(S_IFREG | mode, 0, 0, 0, 0, created);
            }

            @Override
            public OpenFile open(int flags) {
                return new OpenFile() {
                    private byte[] shown;

                    @Override
                    public int read(long position, ByteBuffer dst) throws Errno {
                        if (shown == null) {
                            String t = text.get();
                            if (t == null) {
                                throw new Errno(Errno.EINVAL);
                            }
                            shown = t.getBytes(StandardCharsets.ISO_8859_1);
                        }
                        if (position >= shown.length) {
                            return 0;
                        }
                        int n = (int) Math.min(dst.remaining(), shown.length - position);
                        dst.put(shown, (int) position, n);
                        return n;
                    }

                    @Override
                    public int write(long position, ByteBuffer src) throws Errno {
                        byte[] b = new byte[src.remaining()];
                        src.get(b);
                        writer.write(b);
                        return b.length;
                    }

                    @Override
                    public long size() {
                        return shown == null ? 0 : shown.length;
                    }
                };
            }
        };
    }

    @Override
    public void unmount() {
        try (Stream<Path> s = Files.walk(dir)) {
            s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            LOG.fine("umbinfmt: " + e);
        }
    }
}
