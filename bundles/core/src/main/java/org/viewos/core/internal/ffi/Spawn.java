package org.viewos.core.internal.ffi;

import java.io.File;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import jnr.ffi.Pointer;

/**
 * posix_spawn of a program with chosen descriptors and nothing else of the daemon: every daemon fd
 * above 2 is closed in the child unless kept, opened or mapped here; the signal mask is empty.
 */
public final class Spawn {
    public static final int O_RDONLY = 0, O_WRONLY = 1, O_CREAT = 0x40, O_TRUNC = 0x200, O_APPEND = 0x400;
    private static final int POSIX_SPAWN_SETSIGMASK = 0x08;

    private record Open(String path, int flags) {
    }

    private final String program;
    private final List<String> argv;
    private final List<String> env;
    private final Set<Integer> keep = new java.util.HashSet<>();
    private final Map<Integer, Open> opens = new LinkedHashMap<>();
    private final Map<Integer, Integer> dups = new LinkedHashMap<>();

    public Spawn(String program, List<String> argv, List<String> env) {
        this.program = program;
        this.argv = argv;
        this.env = env;
    }

    /** Leaves these daemon descriptors open in the child (as they are). */
    public Spawn keep(Set<Integer> fds) {
        keep.addAll(fds);
        return this;
    }

    /** Opens {@code path} as descriptor {@code fd} in the child (mode 0644 when created). */
    public Spawn open(int fd, String path, int flags) {
        opens.put(fd, new Open(path, flags));
        return this;
    }

    /** Makes the daemon's descriptor {@code from} the child's {@code to} (after the opens). */
    public Spawn dup(int from, int to) {
        dups.put(from, to);
        return this;
    }

    /** @return the pid @throws NativeException when posix_spawn fails */
    public int start() {
        List<Pointer> hold = new ArrayList<>();
        Pointer argvP = Native.stringArray(argv, hold);
        Pointer envP = Native.stringArray(env, hold);
        Pointer actions = Native.allocate(256);
        Pointer attr = Native.allocate(512);
        Pointer sigset = Native.allocate(128);
        long a = actions.address();
        Native.checkZero(Native.LIBC.posix_spawn_file_actions_init(a), "posix_spawn_file_actions_init");
        Native.checkZero(Native.LIBC.posix_spawnattr_init(attr.address()), "posix_spawnattr_init");
        try {
            Native.LIBC.sigemptyset(sigset.address());
            Native.LIBC.posix_spawnattr_setsigmask(attr.address(), sigset.address());
            Native.LIBC.posix_spawnattr_setflags(attr.address(), (short) POSIX_SPAWN_SETSIGMASK);
            String[] open = new File("/proc/self/fd").list();
            for (String n : open == null ? new String[0] : open) {
                int fd = Integer.parseInt(n);
                if (fd > 2 && !keep.contains(fd) && !dups.containsKey(fd)) {
                    Native.LIBC.posix_spawn_file_actions_addclose(a, fd);
                }
            }
            for (Map.Entry<Integer, Open> o : opens.entrySet()) {
                Native.checkZero(Native.LIBC.posix_spawn_file_actions_addopen(a, o.getKey(), o.getValue().path(),
                        o.getValue().flags(), 0644), "posix_spawn_file_actions_addopen " + o.getValue().path());
            }
            for (Map.Entry<Integer, Integer> m : dups.entrySet()) {
                // dup2 clears close-on-exec on the copy; the original goes, unless the child opened it
                // itself (dup(1, 2) after open(1, log): stdout must stay)
                Native.checkZero(Native.LIBC.posix_spawn_file_actions_adddup2(a, m.getKey(), m.getValue()), "adddup2");
                if (!m.getKey().equals(m.getValue()) && !dups.containsValue(m.getKey())
                        && !opens.containsKey(m.getKey())) {
                    Native.LIBC.posix_spawn_file_actions_addclose(a, m.getKey());
                }
            }
            int[] pid = new int[1];
            Native.checkZero(Native.LIBC.posix_spawn(pid, program, a, attr.address(), argvP.address(), envP.address()),
                    "posix_spawn " + program);
            return pid[0];
        } finally {
            Native.LIBC.posix_spawn_file_actions_destroy(a);
            Native.LIBC.posix_spawnattr_destroy(attr.address());
        }
    }

    /** The file PATH would run for {@code name} (as given when it has a slash), or null. */
    public static String which(String name, String path) {
        if (name.contains("/")) {
            return new File(name).canExecute() ? name : null;
        }
        for (String d : (path == null ? "/usr/local/bin:/usr/bin:/bin" : path).split(":")) {
            File f = new File(d.isEmpty() ? "." : d, name);
            if (f.isFile() && f.canExecute()) {
                return f.getPath();
            }
        }
        return null;
    }
}
