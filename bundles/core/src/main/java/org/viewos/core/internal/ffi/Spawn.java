package org.viewos.core.internal.ffi;

import java.io.File;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import jnr.ffi.Pointer;

/** posix_spawn of a helper program (e.g. a FUSE daemon) with chosen descriptors and nothing else. */
public final class Spawn {
    private static final int O_RDONLY = 0, O_WRONLY = 1, O_CREAT = 0x40, O_APPEND = 0x400;
    private static final int POSIX_SPAWN_SETSIGMASK = 0x08;

    private Spawn() {
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

    /**
     * Spawns {@code program}: stdin /dev/null, stdout and stderr appended to {@code log}, the daemon's
     * descriptors {@code from} → {@code to} as given in {@code fds}, every other descriptor of the
     * daemon closed; an empty signal mask.
     *
     * @return the pid
     * @throws NativeException when posix_spawn fails
     */
    public static int spawn(String program, List<String> argv, List<String> env, Map<Integer, Integer> fds, String log) {
        List<Pointer> keep = new ArrayList<>();
        Pointer argvP = Native.stringArray(argv, keep);
        Pointer envP = Native.stringArray(env, keep);
        Pointer actions = Native.allocate(256);
        Pointer attr = Native.allocate(512);
        Pointer sigset = Native.allocate(128);
        Native.checkZero(Native.LIBC.posix_spawn_file_actions_init(actions.address()), "posix_spawn_file_actions_init");
        Native.checkZero(Native.LIBC.posix_spawnattr_init(attr.address()), "posix_spawnattr_init");
        try {
            Native.LIBC.sigemptyset(sigset.address());
            Native.LIBC.posix_spawnattr_setsigmask(attr.address(), sigset.address());
            Native.LIBC.posix_spawnattr_setflags(attr.address(), (short) POSIX_SPAWN_SETSIGMASK);
            String[] open = new File("/proc/self/fd").list();
            for (String n : open == null ? new String[0] : open) {
                int fd = Integer.parseInt(n);
                if (fd > 2 && !fds.containsKey(fd)) {
                    Native.LIBC.posix_spawn_file_actions_addclose(actions.address(), fd);
                }
            }
            long a = actions.address();
            Native.checkZero(Native.LIBC.posix_spawn_file_actions_addopen(a, 0, "/dev/null", O_RDONLY, 0), "addopen");
            Native.checkZero(Native.LIBC.posix_spawn_file_actions_addopen(a, 1, log, O_WRONLY | O_CREAT | O_APPEND, 0600), "addopen");
            Native.checkZero(Native.LIBC.posix_spawn_file_actions_adddup2(a, 1, 2), "adddup2");
            for (Map.Entry<Integer, Integer> m : fds.entrySet()) {
                // dup2 clears close-on-exec on the copy; the original goes
                Native.checkZero(Native.LIBC.posix_spawn_file_actions_adddup2(a, m.getKey(), m.getValue()), "adddup2");
                if (!m.getKey().equals(m.getValue())) {
                    Native.LIBC.posix_spawn_file_actions_addclose(a, m.getKey());
                }
            }
            int[] pid = new int[1];
            Native.checkZero(Native.LIBC.posix_spawn(pid, program, a, attr.address(), argvP.address(), envP.address()),
                    "posix_spawn " + program);
            return pid[0];
        } finally {
            Native.LIBC.posix_spawn_file_actions_destroy(actions.address());
            Native.LIBC.posix_spawnattr_destroy(attr.address());
        }
    }
}
