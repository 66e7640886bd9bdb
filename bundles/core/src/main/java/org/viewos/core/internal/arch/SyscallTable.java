package org.viewos.core.internal.arch;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** The x86_64 system call table, read from {@code x86_64.tbl}: numbers, names, classes, path specs. */
public final class SyscallTable {
    /** How the core treats a system call. */
    public enum Kind {
        /** No path argument: the seccomp filter lets it through. */
        PLAIN,
        /** Carries path arguments the core translates. */
        PATH,
        /** Refused by the seccomp filter with ENOSYS (would bypass the view; libc falls back). */
        ENOSYS,
        /** fchdir / getcwd: traced to keep the view's cwd. */
        CWD,
        /** The View-OS control call: served by the daemon, never reaches a kernel. */
        VIEWOS,
        /** Names a process (pid in {@link Entry#pidArg()}): refused when aimed at the daemon. */
        GUARD
    }

    /** How a final symlink is treated by a call. */
    public enum Follow {
        FOLLOW, NOFOLLOW,
        /** open flags decide: O_NOFOLLOW, or O_CREAT|O_EXCL, do not follow. */
        OPEN_FLAGS,
        /** AT_SYMLINK_NOFOLLOW in the flags argument means do not follow. */
        AT_NOFOLLOW_FLAG,
        /** AT_SYMLINK_FOLLOW in the flags argument means follow (linkat, name_to_handle_at). */
        AT_FOLLOW_FLAG
    }

    /** What a call does with a path. */
    public enum Access { LOOKUP, READ, WRITE, CREATE, DELETE, EXEC, OPEN_FLAGS }

    /**
     * One path argument.
     *
     * @param dirfdArg index of the dirfd argument, or -1 when the path is relative to the cwd
     * @param pathArg  index of the path argument
     * @param flagsArg index of the flags argument that {@code follow} reads, or -1
     */
    public record PathArg(int dirfdArg, int pathArg, Follow follow, int flagsArg, Access access) {
    }

    /**
     * @param pidArg      for {@link Kind#GUARD}: the argument holding the pid, else -1
     * @param pidZeroSelf pid 0 means the caller: the filter lets such calls through untraced
     * @param condArg     the filter traces the call only when this argument is one of
     *                    {@code condValues} (-1: always)
     * @param condIsMask  {@code condValues} holds one bit mask: traced when the argument has any of its bits
     */
    public record Entry(int number, String name, Kind kind, List<PathArg> paths, int pidArg,
            boolean pidZeroSelf, int condArg, List<Long> condValues, boolean condIsMask) {
        /** Whether the seccomp filter must look at arguments before tracing it. */
        public boolean conditional() {
            return pidZeroSelf || condArg >= 0;
        }
    }

    private static final SyscallTable X86_64 = load("x86_64.tbl");

    private final Entry[] byNumber;
    private final Map<String, Entry> byName;

    private SyscallTable(Entry[] byNumber, Map<String, Entry> byName) {
        this.byNumber = byNumber;
        this.byName = byName;
    }

    public static SyscallTable x86_64() {
        return X86_64;
    }

    /** The entry for a number, or null for a number the table does not know. */
    public Entry get(long number) {
        return number >= 0 && number < byNumber.length ? byNumber[(int) number] : null;
    }

    public Entry byName(String name) {
        return byName.get(name);
    }

    public int number(String name) {
        Entry e = byName.get(name);
        if (e == null) {
            throw new IllegalArgumentException("no syscall " + name);
        }
        return e.number();
    }

    public List<Entry> entries() {
        List<Entry> l = new ArrayList<>();
        for (Entry e : byNumber) {
            if (e != null) {
                l.add(e);
            }
        }
        return Collections.unmodifiableList(l);
    }

    static SyscallTable load(String resource) {
        Map<String, Entry> byName = new HashMap<>();
        List<Entry> list = new ArrayList<>();
        int max = 0;
        try (InputStream in = SyscallTable.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException("missing syscall table " + resource);
            }
            BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.US_ASCII));
            for (String line; (line = r.readLine()) != null; ) {
                line = line.strip();
                if (line.isEmpty() || line.startsWith("#")) {
                    continue;
                }
                String[] f = line.split("\\s+");
                int nr = Integer.parseInt(f[0]);
                Kind kind = switch (f[2]) {
                    case "-" -> Kind.PLAIN;
                    case "path" -> Kind.PATH;
                    case "enosys" -> Kind.ENOSYS;
                    case "cwd" -> Kind.CWD;
                    case "viewos" -> Kind.VIEWOS;
                    case "guard" -> Kind.GUARD;
                    default -> throw new IllegalStateException("bad class in " + line);
                };
                List<PathArg> paths = new ArrayList<>();
                int pidArg = -1;
                boolean zeroSelf = false;
                int condArg = -1;
                boolean mask = false;
                List<Long> condValues = new ArrayList<>();
                for (int i = 3; i < f.length; i++) {
                    if (kind == Kind.GUARD && f[i].startsWith("g")) {
                        zeroSelf = f[i].endsWith("z");
                        pidArg = Integer.parseInt(f[i].substring(1, zeroSelf ? f[i].length() - 1 : f[i].length()));
                    } else if (kind == Kind.GUARD && (f[i].startsWith("c") || f[i].startsWith("b"))) {
                        mask = f[i].startsWith("b");
                        String[] cv = f[i].substring(1).split("=");
                        condArg = Integer.parseInt(cv[0]);
                        for (String v : cv[1].split("\\|")) {
                            condValues.add(Long.parseLong(v));
                        }
                    } else {
                        paths.add(parseSpec(f[i]));
                    }
                }
                Entry e = new Entry(nr, f[1], kind, List.copyOf(paths), pidArg, zeroSelf, condArg,
                        List.copyOf(condValues), mask);
                list.add(e);
                byName.put(e.name(), e);
                max = Math.max(max, nr);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Entry[] byNumber = new Entry[max + 1];
        for (Entry e : list) {
            byNumber[e.number()] = e;
        }
        return new SyscallTable(byNumber, byName);
    }

    /** Parses {@code pN:f:L} or {@code aD.N:xK:W} (see the table file's header). */
    static PathArg parseSpec(String spec) {
        String[] p = spec.split(":");
        int dirfd = -1;
        int path;
        if (p[0].startsWith("a")) {
            String[] dn = p[0].substring(1).split("\\.");
            dirfd = Integer.parseInt(dn[0]);
            path = Integer.parseInt(dn[1]);
        } else {
            path = Integer.parseInt(p[0].substring(1));
        }
        Follow follow;
        int flags = -1;
        char c = p[1].charAt(0);
        switch (c) {
            case 'f' -> follow = Follow.FOLLOW;
            case 'n' -> follow = Follow.NOFOLLOW;
            case 'o' -> follow = Follow.OPEN_FLAGS;
            case 'x' -> follow = Follow.AT_NOFOLLOW_FLAG;
            case 'y' -> follow = Follow.AT_FOLLOW_FLAG;
            default -> throw new IllegalStateException("bad follow in " + spec);
        }
        if (p[1].length() > 1) {
            flags = Integer.parseInt(p[1].substring(1));
        }
        Access access = switch (p[2]) {
            case "L" -> Access.LOOKUP;
            case "R" -> Access.READ;
            case "W" -> Access.WRITE;
            case "C" -> Access.CREATE;
            case "D" -> Access.DELETE;
            case "X" -> Access.EXEC;
            case "O" -> Access.OPEN_FLAGS;
            default -> throw new IllegalStateException("bad access in " + spec);
        };
        return new PathArg(dirfd, path, follow, flags, access);
    }
}
