package org.viewos.viewfs;

import java.util.Map;

import org.viewos.core.api.Errno;

/**
 * Merged directory listings as real directories. The core does not translate getdents64: a listing
 * comes from the directory the kernel opened. So when a program opens a directory whose listing
 * merges two layers, {@link UnionFs} syncs a <em>shadow</em> directory here, whose entries carry
 * the right types (an empty directory for a directory, an empty file for a file, a symlink with the
 * same target for a symlink, an empty file for anything else), and hands the kernel that. The shadow
 * of {@code a/b} is {@code ROOT/a/b}, so the entry for a subdirectory is its own (possibly synced)
 * shadow. Everything but the names is fake: stat of a name goes through the view's path route
 * ({@code ls -l} shows real metadata), and {@code openat(shadowfd, name)} is mapped back to the view
 * by {@link #relativeOf}. The root is private (0700) and removed on unmount.
 */
final class ShadowTree {
    private final String root;

    ShadowTree(String root) throws Errno {
        this.root = root;
        Host.mkdirs(root);
    }

    String root() {
        return root;
    }

    /** The view-relative path a shadow host path stands for, or null when it is not one of ours. */
    String relativeOf(String hostPath) {
        return Host.below(root, hostPath);
    }

    /**
     * Makes {@code ROOT/rel} hold exactly {@code entries} (name to a representative host path whose
     * type is copied) and returns its host path.
     */
    String sync(String rel, Map<String, String> entries) throws Errno {
        String dir = Host.join(root, rel);
        Host.Stat st = Host.lstat(dir);
        if (st != null && !st.isDir()) {
            Host.deleteTree(dir);
        }
        Host.mkdirs(dir);
        for (String name : Host.list(dir)) {
            String have = dir + "/" + name;
            String from = entries.get(name);
            if (from == null || !sameType(have, from)) {
                Host.deleteTree(have);
            }
        }
        for (Map.Entry<String, String> e : entries.entrySet()) {
            String at = dir + "/" + e.getKey();
            if (Host.lstat(at) != null) {
                continue;
            }
            Host.Stat real = Host.lstat(e.getValue());
            if (real == null) {
                continue; // vanished meanwhile
            }
            if (real.isDir()) {
                Host.mkdir(at, 0700);
            } else if (real.isLink()) {
                String target = Host.readlink(e.getValue());
                if (target != null && !target.isEmpty()) {
                    Host.symlink(at, target);
                } else {
                    Host.createFile(at);
                }
            } else {
                Host.createFile(at);
            }
        }
        return dir;
    }

    private static boolean sameType(String shadow, String real) {
        Host.Stat a = Host.lstat(shadow);
        Host.Stat b = Host.lstat(real);
        if (a == null || b == null) {
            return false;
        }
        if (b.isDir() || a.isDir()) {
            return a.isDir() && b.isDir();
        }
        if (b.isLink() || a.isLink()) {
            return a.isLink() && b.isLink() && java.util.Objects.equals(Host.readlink(shadow), Host.readlink(real));
        }
        return true; // a file stands for any other type
    }

    void delete() {
        Host.deleteTree(root);
    }
}
