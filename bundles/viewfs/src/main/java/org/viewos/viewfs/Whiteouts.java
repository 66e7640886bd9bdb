package org.viewos.viewfs;

import org.viewos.core.api.Errno;

/**
 * The deletions of a cow/mincow mount, kept in {@code SRC/.-/} as a tree that mirrors the view:
 * <ul>
 * <li>{@code SRC/.-/a/b} a <b>regular file</b> (empty): {@code a/b} of TARGET and everything below
 *     it is deleted (hidden). If {@code SRC/a/b} exists it still shows (upper wins), as an opaque
 *     directory or file: so a name deleted and made again hides TARGET's old contents.</li>
 * <li>{@code SRC/.-/a} a <b>directory</b>: holds the whiteouts of names inside {@code a}.</li>
 * </ul>
 * Lookup rule of a relative path {@code p}: SRC's {@code p} if it exists; else hidden if some prefix
 * of {@code p} (or {@code p}) has a whiteout file; else TARGET's {@code p}. The name {@code .-} at the
 * top of SRC is never shown. Not thread-safe by itself: {@link UnionFs} serializes changes.
 */
final class Whiteouts {
    static final String DIR = ".-";

    private final String root;

    /** @param upper the SRC directory (host path) */
    Whiteouts(String upper) {
        this.root = upper.equals("/") ? "/" + DIR : upper + "/" + DIR;
    }

    String root() {
        return root;
    }

    /** Whether {@code rel} or one of its ancestors has a whiteout file. */
    boolean hidden(String rel) {
        if (rel.isEmpty()) {
            return false;
        }
        String at = root;
        int i = 0;
        while (true) {
            int j = rel.indexOf('/', i);
            at = at + "/" + (j < 0 ? rel.substring(i) : rel.substring(i, j));
            Host.Stat st = Host.lstat(at);
            if (st == null) {
                return false;
            }
            if (!st.isDir()) {
                return true;
            }
            if (j < 0) {
                return false;
            }
            i = j + 1;
        }
    }

    /** Whether the direct child {@code name} of directory {@code dirRel} has a whiteout file. */
    boolean hiddenChild(String dirRel, String name) {
        Host.Stat st = Host.lstat(Host.join(root, dirRel) + "/" + name);
        return st != null && !st.isDir();
    }

    /** Marks {@code rel} (and all below it) deleted; replaces the whiteouts kept below it. */
    void add(String rel) throws Errno {
        String f = Host.join(root, rel);
        Host.Stat st = Host.lstat(f);
        if (st != null && !st.isDir()) {
            return;
        }
        Host.mkdirs(Host.join(root, Host.parent(rel)));
        if (st != null) {
            Host.deleteTree(f);
        }
        Host.createFile(f);
    }
}
