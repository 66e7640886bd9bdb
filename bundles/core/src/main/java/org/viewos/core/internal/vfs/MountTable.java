package org.viewos.core.internal.vfs;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

import org.viewos.core.api.Errno;
import org.viewos.core.api.FileSystem;

/** An immutable snapshot of a view's mounts, oldest first. Changes make a new table. */
public final class MountTable {
    public static final MountTable EMPTY = new MountTable(List.of());

    private final List<Mount> mounts;
    private final PlainDirs plain;

    private MountTable(List<Mount> mounts) {
        this.mounts = mounts;
        this.plain = new PlainDirs(!mounts.isEmpty());
    }

    /** Host paths outside the mounts known to be no symlinks (a cache of the walk; see {@link PlainDirs}). */
    public PlainDirs plainDirs() {
        return plain;
    }

    public boolean isEmpty() {
        return mounts.isEmpty();
    }

    public List<Mount> mounts() {
        return mounts;
    }

    public MountTable plus(Mount m) {
        List<Mount> l = new ArrayList<>(mounts);
        l.add(m);
        return new MountTable(List.copyOf(l));
    }

    public MountTable minus(Mount m) {
        List<Mount> l = new ArrayList<>(mounts);
        l.remove(m);
        return new MountTable(List.copyOf(l));
    }

    public MountTable without(Predicate<Mount> p) {
        List<Mount> l = new ArrayList<>(mounts);
        l.removeIf(p);
        return new MountTable(List.copyOf(l));
    }

    /** The most recent mount exactly at {@code target}, or null. */
    public Mount at(String target) {
        for (int i = mounts.size() - 1; i >= 0; i--) {
            if (mounts.get(i).target().equals(target)) {
                return mounts.get(i);
            }
        }
        return null;
    }

    /**
     * The view path a host path shows, when a mount maps it back ({@link FileSystem#relativeOf});
     * null when none does (the host path is then its own view path).
     */
    public String viewOf(String hostPath) {
        for (int i = mounts.size() - 1; i >= 0; i--) {
            Mount m = mounts.get(i);
            String rel;
            try {
                rel = m.fs().relativeOf(hostPath);
            } catch (RuntimeException e) {
                continue; // a module bug must not break the caller's lookup
            }
            if (rel != null) {
                return rel.isEmpty() ? m.target() : m.target().equals("/") ? "/" + rel : m.target() + "/" + rel;
            }
        }
        return null;
    }

    /** Whether {@code path} is a mount point of the view or lies above one (renaming it would move mounts). */
    public boolean isMountAncestor(String path) {
        for (Mount m : mounts) {
            String t = m.target();
            if (t.equals(path) || path.equals("/") || t.startsWith(path + "/")) {
                return true;
            }
        }
        return false;
    }

    /** Where a canonical view path really is. */
    public record Lookup(Mount mount, String hostPath) {
    }

    /**
     * The most recent mount that covers {@code path} and claims it, with the host path it maps to;
     * null when no mount claims it (the path is the host's own).
     */
    public Lookup find(String path, FileSystem.Access access) throws Errno {
        for (int i = mounts.size() - 1; i >= 0; i--) {
            Mount m = mounts.get(i);
            if (m.covers(path)) {
                String host;
                try {
                    host = m.fs().hostPath(m.relative(path), access);
                } catch (Errno e) {
                    throw e;
                } catch (RuntimeException e) {
                    // a module bug fails this call with EIO, never the view
                    throw new Errno(Errno.EIO, "module " + m.module() + ": " + e);
                }
                if (host != null) {
                    return new Lookup(m, host);
                }
            }
        }
        return null;
    }
}
