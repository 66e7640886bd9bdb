package org.viewos.core.internal.trace;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** What the core reads of /proc about traced processes. */
public final class Procfs {
    private Procfs() {
    }

    /** The thread group (process) id of a thread, from /proc/TID/status; -1 when it is gone. */
    public static int tgid(int tid) {
        try {
            for (String l : Files.readAllLines(Path.of("/proc/" + tid + "/status"))) {
                if (l.startsWith("Tgid:")) {
                    return Integer.parseInt(l.substring(5).strip());
                }
            }
        } catch (IOException | RuntimeException e) {
            return -1;
        }
        return -1;
    }

    /** Whether the thread is running or runnable (state R in /proc/TID/stat); false when gone. */
    public static boolean running(int tid) {
        try {
            String stat = Files.readString(Path.of("/proc/" + tid + "/stat"));
            int i = stat.lastIndexOf(')'); // the command name may hold anything, even ')'
            return i > 0 && i + 2 < stat.length() && stat.charAt(i + 2) == 'R';
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }
}
