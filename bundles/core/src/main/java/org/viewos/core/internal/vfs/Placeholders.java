package org.viewos.core.internal.vfs;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Placeholder files of open virtual files and the view paths they stand for, so that the magic
 * links /proc/PID/fd/N (and /dev/fd/N) lead back to the virtual file, never to the placeholder.
 */
public final class Placeholders {
    private static final Map<String, String> VIEW_PATHS = new ConcurrentHashMap<>();

    private Placeholders() {
    }

    public static void add(String placeholder, String viewPath) {
        VIEW_PATHS.put(placeholder, viewPath);
    }

    public static void remove(String placeholder) {
        VIEW_PATHS.remove(placeholder);
    }

    /** The view path a placeholder stands for, or null. */
    public static String viewPathOf(String hostPath) {
        return VIEW_PATHS.get(hostPath);
    }
}
