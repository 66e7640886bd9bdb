package org.viewos.viewfs;

import java.util.LinkedHashMap;
import java.util.Map;

import org.viewos.core.api.Errno;
import org.viewos.core.api.FileSystem;

/**
 * {@code merge}, {@code cow} and {@code mincow}: SRC ("upper") laid over TARGET ("lower").
 *
 * <p>Lookup (all modes): SRC's name if it exists; in cow/mincow a whiteout hides TARGET's
 * ({@link Whiteouts}); else TARGET's. A name under an upper non-directory does not exist. Directory
 * listings that combine both layers (or hide whiteouts, or the {@code .-} directory) are served from
 * a {@link ShadowTree}.
 *
 * <p>Where changes go:
 * <ul>
 * <li>merge: writes and deletions act on the layer the name is in (a deleted SRC name lets TARGET's
 *     show again); new names go to SRC when their parent directory exists in SRC, else to TARGET.</li>
 * <li>cow: everything lands in SRC. Opening for write, truncate, chmod, chown, utimes, setxattr and
 *     O_CREAT on an existing TARGET name copy it up first (a directory without its contents; parents
 *     are made in SRC with TARGET's modes). A deletion (unlink, rmdir, rename source) of a name TARGET
 *     has copies it up (directories with their whole visible tree, so rename moves it all and rmdir
 *     still says ENOTEMPTY), writes its whiteout, and lets the kernel remove the copy: if the call
 *     fails the copy keeps showing, if it succeeds the whiteout hides TARGET's. An SRC file that is a
 *     hard link to a TARGET inode (link(2) of a TARGET file) is unshared before a write.</li>
 * <li>mincow: like merge where the view's user may write the TARGET name (access(2) W_OK, for a new
 *     or deleted name its parent directory), like cow otherwise.</li>
 * </ul>
 * Changes are serialized per mount; plain lookups are not.
 */
final class UnionFs implements FileSystem {
    private final Mode mode;
    private final String upper;
    private final String lower;
    private final Excepts excepts;
    private final boolean readOnly;
    private final ShadowTree shadow;
    private final Whiteouts whiteouts;
    private final long lowerDev;

    UnionFs(Mode mode, String upper, String lower, Excepts excepts, boolean readOnly, ShadowTree shadow) {
        this.mode = mode;
        this.upper = upper;
        this.lower = lower;
        this.excepts = excepts;
        this.readOnly = readOnly;
        this.shadow = shadow;
        this.whiteouts = mode == Mode.MERGE ? null : new Whiteouts(upper);
        Host.Stat st = Host.lstat(lower);
        this.lowerDev = st == null ? -1 : st.dev();
    }

    /** Which layer shows a name. */
    private enum Layer { UPPER, LOWER, NONE }

    @Override
    public String hostPath(String rel, Access access) throws Errno {
        if (excepts.covers(rel)) {
            return null;
        }
        if (whiteouts != null && (rel.equals(Whiteouts.DIR) || rel.startsWith(Whiteouts.DIR + "/"))) {
            throw new Errno(access == Access.CREATE ? Errno.EACCES : Errno.ENOENT,
                    "viewfs keeps its whiteouts in " + Whiteouts.DIR);
        }
        if (readOnly && (access == Access.WRITE || access == Access.CREATE || access == Access.DELETE)) {
            throw new Errno(Errno.EROFS, "viewfs mount is read-only");
        }
        if (access == Access.LOOKUP || access == Access.EXEC) { // running a file only reads it
            return where(rel) == Layer.LOWER ? Host.join(lower, rel) : Host.join(upper, rel);
        }
        synchronized (this) {
            return switch (access) {
                case READ -> read(rel);
                case WRITE -> write(rel);
                case CREATE -> create(rel);
                case DELETE -> delete(rel);
                default -> throw new IllegalStateException(access.toString());
            };
        }
    }

    @Override
    public String relativeOf(String hostPath) {
        String rel = shadow.relativeOf(hostPath);
        if (rel == null) {
            rel = Host.below(upper, hostPath);
            if (rel != null && whiteouts != null && (rel.equals(Whiteouts.DIR) || rel.startsWith(Whiteouts.DIR + "/"))) {
                rel = null;
            }
        }
        return rel == null || excepts.covers(rel) ? null : rel;
    }

    @Override
    public void unmount() {
        shadow.delete();
    }

    // ---- lookup ---------------------------------------------------------------------------------

    private Layer where(String rel) {
        if (Host.lstat(Host.join(upper, rel)) != null) {
            return Layer.UPPER;
        }
        if (upperBlocks(rel) || (whiteouts != null && whiteouts.hidden(rel))) {
            return Layer.NONE;
        }
        return Host.lstat(Host.join(lower, rel)) != null ? Layer.LOWER : Layer.NONE;
    }

    /** Whether an ancestor of {@code rel} exists in SRC as a non-directory (it shadows TARGET's). */
    private boolean upperBlocks(String rel) {
        int i = 0;
        while (true) {
            int j = rel.indexOf('/', i);
            if (j < 0) {
                return false;
            }
            Host.Stat st = Host.lstat(Host.join(upper, rel.substring(0, j)));
            if (st == null) {
                return false;
            }
            if (!st.isDir()) {
                return true;
            }
            i = j + 1;
        }
    }

    /** Whether TARGET's {@code rel} shows (exists and is not hidden by SRC or a whiteout). */
    private boolean lowerVisible(String rel) {
        return Host.lstat(Host.join(lower, rel)) != null && !upperBlocks(rel)
                && (whiteouts == null || !whiteouts.hidden(rel));
    }

    // ---- open for reading: files are real, merged directories are shadows ------------------------

    private String read(String rel) throws Errno {
        String u = Host.join(upper, rel);
        String l = Host.join(lower, rel);
        Host.Stat us = Host.lstat(u);
        Layer w = us != null ? Layer.UPPER : where(rel);
        if (w == Layer.NONE) {
            return u;
        }
        if (w == Layer.LOWER) {
            Host.Stat ls = Host.lstat(l);
            boolean childWhiteouts = whiteouts != null && !Host.list(Host.join(whiteouts.root(), rel)).isEmpty();
            return ls != null && ls.isDir() && childWhiteouts ? listing(rel, null, l) : l;
        }
        if (!us.isDir()) {
            return u;
        }
        Host.Stat ls = Host.lstat(l);
        boolean lowerDir = ls != null && ls.isDir() && lowerVisible(rel);
        boolean hasDotDash = whiteouts != null && rel.isEmpty() && Host.exists(whiteouts.root());
        if (!lowerDir && !hasDotDash) {
            return u;
        }
        return listing(rel, u, lowerDir ? l : null);
    }

    /** Syncs the shadow of a merged directory; {@code u} or {@code l} null when that layer has none. */
    private String listing(String rel, String u, String l) throws Errno {
        Map<String, String> entries = new LinkedHashMap<>();
        if (u != null) {
            for (String n : Host.list(u)) {
                if ((whiteouts != null && rel.isEmpty() && n.equals(Whiteouts.DIR)) || n.startsWith(".viewfs-copyup.")) {
                    continue;
                }
                entries.put(n, u + "/" + n);
            }
        }
        if (l != null) {
            for (String n : Host.list(l)) {
                if (!entries.containsKey(n) && (whiteouts == null || !whiteouts.hiddenChild(rel, n))) {
                    entries.put(n, l + "/" + n);
                }
            }
        }
        return shadow.sync(rel, entries);
    }

    // ---- changes --------------------------------------------------------------------------------

    /**
     * Where a change to a name that exists goes: SRC's copy (unshared), TARGET's in place (merge,
     * or mincow where writable), else a fresh copy-up; null when the name exists in neither layer.
     */
    private String changeExisting(String rel) throws Errno {
        String u = Host.join(upper, rel);
        switch (where(rel)) {
            case UPPER:
                unshare(u);
                return u;
            case LOWER:
                String l = Host.join(lower, rel);
                if (mode == Mode.MERGE || (mode == Mode.MINCOW && Host.writable(l))) {
                    return l;
                }
                copyUp(rel);
                return u;
            default:
                return null;
        }
    }

    private String write(String rel) throws Errno {
        String existing = changeExisting(rel);
        return existing != null ? existing : Host.join(upper, rel);
    }

    private String create(String rel) throws Errno {
        String existing = changeExisting(rel);
        if (existing != null) {
            return existing;
        }
        String u = Host.join(upper, rel);
        String l = Host.join(lower, rel);
        String parent = Host.parent(rel);
        if (mode == Mode.MERGE) {
            Host.Stat up = Host.lstat(Host.join(upper, parent));
            return up != null && up.isDir() ? u : l;
        }
        if (mode == Mode.MINCOW && !whiteouts.hidden(rel) && lowerVisible(parent)
                && Host.writable(Host.join(lower, parent))) {
            return l;
        }
        makeUpperParents(rel);
        return u;
    }

    private String delete(String rel) throws Errno {
        String u = Host.join(upper, rel);
        String l = Host.join(lower, rel);
        Layer w = where(rel);
        if (mode == Mode.MERGE) {
            return w == Layer.LOWER ? l : u;
        }
        if (w == Layer.NONE || !lowerVisible(rel)) {
            return u;
        }
        if (mode == Mode.MINCOW && w == Layer.LOWER && Host.writable(Host.join(lower, Host.parent(rel)))) {
            return l;
        }
        copyUpTree(rel);
        whiteouts.add(rel);
        return u;
    }

    /** Copies TARGET's {@code rel} (one object) to SRC, making SRC's parents first. */
    private void copyUp(String rel) throws Errno {
        makeUpperParents(rel);
        Host.copyObject(Host.join(lower, rel), Host.join(upper, rel));
    }

    /** Copies TARGET's {@code rel} up with all of its visible contents SRC does not have yet. */
    private void copyUpTree(String rel) throws Errno {
        String u = Host.join(upper, rel);
        String l = Host.join(lower, rel);
        Host.Stat us = Host.lstat(u);
        if (us == null) {
            copyUp(rel);
            us = Host.lstat(u);
        }
        Host.Stat ls = Host.lstat(l);
        if (us == null || !us.isDir() || ls == null || !ls.isDir()) {
            return;
        }
        for (String n : Host.list(l)) {
            if (whiteouts.hiddenChild(rel, n)) {
                continue;
            }
            String child = rel.isEmpty() ? n : rel + "/" + n;
            Host.Stat cs = Host.lstat(u + "/" + n);
            if (cs == null || cs.isDir()) {
                copyUpTree(child);
            }
        }
    }

    /** Makes the parents of {@code rel} in SRC, as far as TARGET shows them as directories. */
    private void makeUpperParents(String rel) throws Errno {
        String parent = Host.parent(rel);
        if (parent.isEmpty()) {
            return;
        }
        int i = 0;
        while (true) {
            int j = parent.indexOf('/', i);
            String p = j < 0 ? parent : parent.substring(0, j);
            Host.Stat st = Host.lstat(Host.join(upper, p));
            if (st == null) {
                Host.Stat ls = Host.lstat(Host.join(lower, p));
                if (ls == null || !ls.isDir() || whiteouts.hidden(p)) {
                    return; // the kernel reports ENOENT
                }
                Host.copyObject(Host.join(lower, p), Host.join(upper, p));
            } else if (!st.isDir()) {
                return; // ENOTDIR
            }
            if (j < 0) {
                return;
            }
            i = j + 1;
        }
    }

    /** cow: an SRC file sharing its inode with TARGET's file system (link(2) of a TARGET file) is copied. */
    private void unshare(String u) throws Errno {
        if (mode != Mode.COW) {
            return;
        }
        Host.Stat st = Host.lstat(u);
        if (st != null && st.isReg() && st.nlink() > 1 && st.dev() == lowerDev) {
            Host.copyObject(u, u);
        }
    }

    @Override
    public String toString() {
        return "viewfs " + mode.name().toLowerCase() + " " + upper + " over " + lower;
    }
}
