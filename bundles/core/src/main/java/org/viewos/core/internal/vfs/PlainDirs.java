package org.viewos.core.internal.vfs;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Host paths the walk found to exist and not be symlinks (readlink said EINVAL), outside every
 * mount: the next walk through them needs no readlink. Each {@link MountTable} has its own, so a
 * mount or umount starts afresh. A view process can turn such a path into a symlink only by a call
 * the dispatcher sees first (symlink, rename, link: {@link #forget} at its entry and exit); a change
 * made outside the view is seen once the entries are older than {@link #MAX_AGE_NS}. Paths under
 * /proc are never kept: their links depend on who asks. A view without mounts keeps nothing: its
 * processes' calls that make symlinks do not stop.
 */
public final class PlainDirs {
    /** How long an entry is trusted without a new readlink. */
    static final long MAX_AGE_NS = 1_000_000_000L;
    private static final int MAX_ENTRIES = 16_384;

    private final Set<String> paths = ConcurrentHashMap.newKeySet();
    private final boolean enabled;
    private volatile long since = System.nanoTime();

    PlainDirs(boolean enabled) {
        this.enabled = enabled;
    }

    /** Whether {@code path} is known to be no symlink. */
    boolean contains(String path) {
        if (System.nanoTime() - since > MAX_AGE_NS) {
            forget();
            return false;
        }
        return paths.contains(path);
    }

    /** {@code path} exists and is no symlink (just checked). */
    void add(String path) {
        if (!enabled || path.startsWith("/proc/") || path.equals("/proc")) {
            return;
        }
        if (paths.size() >= MAX_ENTRIES) {
            forget();
        }
        paths.add(path);
    }

    /** Something in the view may have made a symlink where a known path was: trust none of them. */
    public void forget() {
        paths.clear();
        since = System.nanoTime();
    }
}
