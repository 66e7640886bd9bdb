package org.viewos.umfuse;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;

import org.viewos.core.api.Errno;
import org.viewos.core.api.FileSystem;

/**
 * A FUSE mount seen through a private <em>shadow tree</em>: the core hands the kernel host paths, so
 * every file the view touches gets a host twin under ROOT that mirrors the daemon's view:
 * directories (whose entries are synced from READDIR when a directory is opened), symlinks with the
 * READLINK target, and regular files as sparse files of the right size, whose content is read
 * through FUSE (OPEN/READ/RELEASE) the first time the file is opened (for reading, writing or
 * running). Mode and times (and the owner, as root) come from the daemon's attributes.
 *
 * <p>Read-only mounts give EROFS to every change. On a writable mount the kernel changes the shadow
 * (so every call behaves exactly as on a local file system) and the shadow is written back to the
 * daemon: every path a call is about to create, delete or change is noted, and at the next call that
 * reaches this mount (and at unmount, over the whole tree) the noted entries are compared with what
 * the daemon was last told: a new entry becomes MKDIR/CREATE/SYMLINK/MKNOD (or RENAME when its
 * shadow inode is one the daemon knows under a name that is gone, LINK when that name is still
 * there), a vanished one UNLINK/RMDIR, a changed one SETATTR (mode, owner, times) and, for a regular
 * file whose size or mtime moved, its content (truncate, then WRITE of every non-zero chunk, FLUSH,
 * RELEASE). Writes through descriptors need no path call, so unmount compares every entry (by
 * ctime) before FUSE DESTROY.
 */
final class FuseFs implements FileSystem {
    private static final Logger LOG = Logger.getLogger(FuseFs.class.getName());

    static final class Node {
        final long id;
        Fuse.Attr attr;
        Node parent;
        String name;
        final Map<String, Node> children;
        final Set<String> missing;
        boolean populated, materialized;
        /** The shadow entry as the module last saw it (after making, filling or writing it back). */
        long sIno = -1, sCtime = Long.MIN_VALUE, sMtime = Long.MIN_VALUE, sSize = -1;
        /** Digests of the daemon's content per {@link #SUM_CHUNK}, when known: write-back sends only what differs. */
        byte[][] sums;

        Node(long id, Fuse.Attr attr, Node parent, String name) {
            this.id = id;
            this.attr = attr;
            this.parent = parent;
            this.name = name;
            this.children = attr.isDir() ? new HashMap<>() : null;
            this.missing = attr.isDir() ? new HashSet<>() : null;
        }
    }

    /** A shadow entry's lstat. */
    record SStat(long ino, int mode, int uid, int gid, long size, long mtime, long atime, long ctime, int nlink,
            long rdev) {
        int type() {
            return mode & Fuse.S_IFMT;
        }

        boolean isDirType() {
            return type() == Fuse.S_IFDIR;
        }
    }

    private final FuseSession fuse;
    private final String root;
    private final Path rootPath;
    private final Runnable onUnmount;
    private final boolean asRoot, readOnly;
    private final String what;
    private final Node rootNode;
    private final Map<Long, Long> lookups = new HashMap<>();
    private final Map<Long, Node> byIno = new HashMap<>();
    /** Paths a call is about to change: rel -> how many write-backs found nothing yet. */
    private final Map<String, Integer> pending = new LinkedHashMap<>();
    /** Vanished entries whose deletion waits for a rename's other half (filled by reconcile). */
    private final List<String> deferred = new ArrayList<>();
    private int swaps;
    private boolean gone;
    /** umview's merge: names the file system lacks are the covered directory's (lookups fall through). */
    private volatile boolean merge;

    /** Turns on umview's {@code merge}. */
    void merge() {
        merge = true;
    }

    FuseFs(FuseSession fuse, String root, Fuse.Attr rootAttr, boolean asRoot, boolean readOnly, String what,
            Runnable onUnmount) throws Errno {
        this.fuse = fuse;
        this.root = root;
        this.rootPath = Shadow.path(root);
        this.asRoot = asRoot;
        this.readOnly = readOnly;
        this.what = what;
        this.onUnmount = onUnmount;
        rootNode = new Node(1, rootAttr, null, "");
        try {
            if (!Shadow.exists(rootPath)) {
                Files.createDirectory(rootPath);
            }
            Shadow.apply(rootPath, rootAttr, asRoot);
        } catch (IOException e) {
            throw Shadow.errno(e, "shadow root " + root);
        }
        seen(rootNode, rootPath);
    }

    String root() {
        return root;
    }

    @Override
    public synchronized String hostPath(String relative, Access access) throws Errno {
        if (gone) {
            throw new Errno(Errno.ENODEV, "umfuse: unmounted");
        }
        if (fuse.dead() || !fuse.alive()) {
            if (relative.isEmpty() && access == Access.LOOKUP) {
                return root; // the mount point itself stays, so that viewumount can name it
            }
            throw new Errno(Errno.EIO, what + " has gone");
        }
        try {
            if (merge && access != Access.CREATE && !relative.isEmpty() && !Shadow.exists(Shadow.path(host(relative)))
                    && resolve(relative) == null) {
                return null; // not in the file system: the directory it covers answers
            }
            return readOnly ? readOnlyPath(relative, access) : writablePath(relative, access);
        } catch (Errno e) {
            if (e.code() == Errno.ENODEV) {
                throw new Errno(Errno.EIO, what + " has gone");
            }
            throw e;
        }
    }

    private String host(String relative) {
        return relative.isEmpty() ? root : root + "/" + relative;
    }

    private String readOnlyPath(String relative, Access access) throws Errno {
        Node n = resolve(relative);
        switch (access) {
            case CREATE:
                throw new Errno(Errno.EROFS);
            case WRITE:
            case DELETE:
                if (n != null) {
                    throw new Errno(Errno.EROFS);
                }
                return host(relative); // the kernel says ENOENT (or ENOTDIR)
            default:
                break;
        }
        if (n != null) {
            look(relative, n, access);
        }
        return host(relative);
    }

    /** What LOOKUP, READ and EXEC need: a listing, or the content. */
    private void look(String relative, Node n, Access access) throws Errno {
        if (n.attr.isDir() && (access == Access.READ || n.attr.nlink() > 2)) {
            // a directory with subdirectories is synced on first sight too, so its link count is right
            populate(relative, n);
        } else if (n.attr.isReg() && !n.materialized && (access == Access.READ || access == Access.EXEC)) {
            materialize(relative, n);
        }
    }

    private String writablePath(String relative, Access access) throws Errno {
        if (!pending.isEmpty()) {
            try {
                writeBack();
            } catch (Errno e) {
                if (e.code() != Errno.EROFS && e.code() != Errno.ENOSYS && e.code() != Errno.EPERM
                        && e.code() != Errno.EACCES) {
                    throw e;
                }
                // the daemon refuses changes (a read-only program mounted without -o ro): they are
                // lost, said once here; the call that happened to come next is not theirs to fail
                LOG.warning(what + ": the file system refused a change made earlier (" + Errno.name(e.code())
                        + "): it is lost");
            }
        }
        if (relative.isEmpty() && (access == Access.CREATE || access == Access.DELETE)) {
            throw new Errno(Errno.EBUSY); // the mount point itself
        }
        Node n = resolve(relative);
        switch (access) {
            case WRITE:
            case CREATE:
            case DELETE:
                if (n != null) {
                    if (n.attr.isReg() && !n.materialized && access != Access.DELETE) {
                        materialize(relative, n); // O_APPEND, O_RDWR, truncate to a size: the content counts
                    } else if (n.attr.isDir() && access != Access.WRITE) {
                        populate(relative, n); // rmdir and rename over it must see its entries
                    }
                }
                pending.put(relative, 0);
                flushSoon();
                break;
            default:
                if (n != null) {
                    look(relative, n, access);
                }
        }
        return host(relative);
    }

    @Override
    public String relativeOf(String hostPath) {
        if (hostPath.equals(root)) {
            return "";
        }
        return hostPath.startsWith(root + "/") ? hostPath.substring(root.length() + 1) : null;
    }

    /**
     * viewumount: EBUSY while a process has a file or its cwd in the mount; else everything is written
     * back and the daemon told to stop.
     */
    @Override
    public void unmount() throws Errno {
        synchronized (this) {
            if (gone) {
                return;
            }
        }
        String busy = Busy.user(root);
        if (busy != null) {
            throw new Errno(Errno.EBUSY, "umfuse: " + busy + " uses the mount");
        }
        close();
    }

    /** Writes everything back, sends DESTROY and ends the daemon (also when the view or module goes). */
    synchronized void close() {
        if (gone) {
            return;
        }
        gone = true;
        if (!readOnly && !fuse.dead()) {
            try {
                reconcile(allPaths(), true);
            } catch (Errno | RuntimeException e) {
                LOG.log(Level.WARNING, what + ": write-back at unmount failed: " + e.getMessage(), e);
            }
        }
        for (Map.Entry<Long, Long> e : lookups.entrySet()) {
            fuse.forget(e.getKey(), e.getValue());
        }
        lookups.clear();
        fuse.close();
        Shadow.deleteTree(rootPath);
        if (onUnmount != null) {
            onUnmount.run();
        }
    }

    // ---- the tree --------------------------------------------------------------------------------

    private static String child(String parentRel, String name) {
        return parentRel.isEmpty() ? name : parentRel + "/" + name;
    }

    private static String parentOf(String rel) {
        int slash = rel.lastIndexOf('/');
        return slash < 0 ? "" : rel.substring(0, slash);
    }

    private static String nameOf(String rel) {
        return rel.substring(rel.lastIndexOf('/') + 1);
    }

    private static int depth(String rel) {
        if (rel.isEmpty()) {
            return 0;
        }
        int d = 1;
        for (int i = 0; i < rel.length(); i++) {
            if (rel.charAt(i) == '/') {
                d++;
            }
        }
        return d;
    }

    private static final Comparator<String> SHALLOW_FIRST =
            Comparator.comparingInt(FuseFs::depth).thenComparing(Comparator.naturalOrder());

    private String pathOf(Node n) {
        if (n == rootNode) {
            return "";
        }
        List<String> names = new ArrayList<>();
        for (Node x = n; x != rootNode && x != null; x = x.parent) {
            names.add(x.name);
        }
        StringBuilder b = new StringBuilder();
        for (int i = names.size() - 1; i >= 0; i--) {
            if (b.length() > 0) {
                b.append('/');
            }
            b.append(names.get(i));
        }
        return b.toString();
    }

    private boolean attached(Node n) {
        for (Node x = n; x != rootNode; x = x.parent) {
            if (x == null || x.parent == null || x.parent.children.get(x.name) != x) {
                return false;
            }
        }
        return true;
    }

    /** The node the module knows at {@code rel}, without asking the daemon. */
    private Node known(String rel) {
        Node n = rootNode;
        if (rel.isEmpty()) {
            return n;
        }
        for (String c : rel.split("/")) {
            if (n.children == null) {
                return null;
            }
            n = n.children.get(c);
            if (n == null) {
                return null;
            }
        }
        return n;
    }

    private void attach(Node parent, String name, Node n) {
        n.parent = parent;
        n.name = name;
        parent.children.put(name, n);
        parent.missing.remove(name);
    }

    private void detach(Node n) {
        if (n.parent != null && n.parent.children.get(n.name) == n) {
            n.parent.children.remove(n.name);
        }
        n.parent = null;
        byIno.remove(n.sIno, n);
    }

    private void looked(long nodeid) {
        lookups.merge(nodeid, 1L, Long::sum);
    }

    /** The node of {@code rel} (its shadow entry made), or null when the daemon has no such name. */
    private Node resolve(String rel) throws Errno {
        Node n = rootNode;
        if (rel.isEmpty()) {
            return n;
        }
        String at = "";
        for (String c : rel.split("/")) {
            if (!n.attr.isDir()) {
                return null;
            }
            Node next = n.children.get(c);
            if (next == null) {
                if (n.populated || n.missing.contains(c)) {
                    return null; // a populated directory's children are all known
                }
                next = lookupChild(at, n, c);
                if (next == null) {
                    return null;
                }
            }
            at = child(at, c);
            n = next;
        }
        return n;
    }

    private Node lookupChild(String parentRel, Node p, String name) throws Errno {
        if (name.startsWith(SWAP_PREFIX)) {
            return null;
        }
        Object e;
        try {
            e = fuse.lookup(p.id, name);
        } catch (Errno x) {
            e = x;
        }
        return adopt(parentRel, p, name, e);
    }

    /** A LOOKUP's answer about {@code name} in {@code p}: its node made and shadowed, or null. */
    private Node adopt(String parentRel, Node p, String name, Object answer) throws Errno {
        if (answer instanceof Errno x) {
            if (x.code() == Errno.ENOENT) {
                p.missing.add(name);
                return null;
            }
            throw x;
        }
        Fuse.Entry e = (Fuse.Entry) answer;
        if (e.nodeid() == 0) { // a negative entry
            p.missing.add(name);
            return null;
        }
        looked(e.nodeid());
        Node n = new Node(e.nodeid(), e.attr(), p, name);
        if (!make(parentRel, p, child(parentRel, name), n)) {
            return null; // the view made its own entry there first: it wins at the next write-back
        }
        attach(p, name, n);
        return n;
    }

    /** Creates the shadow entry of {@code rel} with the node's type and attributes (false: one is there). */
    private boolean make(String parentRel, Node parent, String rel, Node n) throws Errno {
        Path at = shadow(rel);
        Path dir = shadow(parentRel);
        if (Shadow.exists(at)) {
            if (!readOnly) {
                return false;
            }
            Shadow.deleteTree(at);
        }
        String target = n.attr.isLink() ? fuse.readlink(n.id) : null;
        try {
            FileTime[] times = Shadow.timesOf(dir);
            writable(dir, parent, true);
            try {
                if (n.attr.isDir()) {
                    Files.createDirectory(at);
                } else if (target != null) {
                    Files.createSymbolicLink(at, Shadow.path(target));
                } else {
                    Files.createFile(at);
                    if (n.attr.isReg() && n.attr.size() > 0) {
                        try (RandomAccessFile f = new RandomAccessFile(at.toFile(), "rw")) {
                            f.setLength(n.attr.size()); // sparse: content comes on first read
                        }
                    }
                }
                Shadow.apply(at, n.attr, asRoot);
            } finally {
                writable(dir, parent, false);
                Shadow.setTimes(dir, times);
            }
        } catch (IOException e) {
            throw Shadow.errno(e, "shadow of " + rel);
        }
        seen(n, at);
        seen(parent, dir);
        return true;
    }

    /** Notes the shadow entry as it is now, as the state the daemon has. */
    private void seen(Node n, Path at) {
        if (readOnly) {
            return;
        }
        SStat s = sstat(at);
        if (s != null) {
            seen(n, s);
        }
    }

    private void seen(Node n, SStat s) {
        if (n.sIno != s.ino()) {
            byIno.remove(n.sIno, n);
        }
        n.sIno = s.ino();
        n.sCtime = s.ctime();
        n.sMtime = s.mtime();
        n.sSize = s.size();
        byIno.put(s.ino(), n);
    }

    /** Lets us change a shadow directory whose image mode forbids it, and restores its mode. */
    private void writable(Path dir, Node node, boolean open) throws IOException {
        int mode = node.attr.mode();
        if (!asRoot && (mode & 0300) != 0300) {
            Shadow.chmod(dir, open ? mode | 0700 : mode);
        }
    }

    private Path shadow(String rel) {
        return rel.isEmpty() ? rootPath : Shadow.path(root + "/" + rel);
    }

    // ---- directories -----------------------------------------------------------------------------

    /** The names in a directory of the daemon (OPENDIR, READDIR to the end, RELEASEDIR). */
    private Set<String> listing(Node dir) throws Errno {
        Set<String> names = new LinkedHashSet<>();
        long fh = fuse.opendir(dir.id);
        try {
            long off = 0;
            while (true) {
                List<Fuse.Dirent> ds = fuse.readdir(dir.id, fh, off);
                if (ds.isEmpty()) {
                    break;
                }
                for (Fuse.Dirent d : ds) {
                    if (!d.name().equals(".") && !d.name().equals("..") && d.name().indexOf('/') < 0) {
                        names.add(d.name());
                    }
                    off = d.off();
                }
            }
        } finally {
            fuse.release(dir.id, fh, true);
        }
        return names;
    }

    /** Adds the daemon's entries to the shadow directory (once: afterwards the module knows them all). */
    private void populate(String rel, Node n) throws Errno {
        if (n.populated) {
            return;
        }
        List<String> names = new ArrayList<>();
        for (String name : listing(n)) {
            if (!n.children.containsKey(name) && !name.startsWith(SWAP_PREFIX)) {
                names.add(name);
            }
        }
        List<Object> found = fuse.lookupAll(n.id, names); // pipelined: one wait, not one per name
        for (int i = 0; i < names.size(); i++) {
            n.missing.remove(names.get(i));
            adopt(rel, n, names.get(i), found.get(i));
        }
        n.populated = true;
    }

    // ---- file content ----------------------------------------------------------------------------

    /** Reads the file's content through FUSE into its shadow (128 KiB at a time, up to its size). */
    private void materialize(String rel, Node n) throws Errno {
        Path at = shadow(rel);
        if (!readOnly && !Shadow.exists(at)) {
            return; // deleted in the view, not yet in the daemon: the kernel says ENOENT
        }
        long size = n.attr.size();
        long fh = fuse.open(n.id, 0);
        boolean chmod = !asRoot && (n.attr.mode() & 0200) == 0;
        try {
            if (chmod) {
                Shadow.chmod(at, n.attr.mode() | 0200);
            }
            Pieces pieces = new Pieces(size);
            try (FileChannel ch = FileChannel.open(at, StandardOpenOption.WRITE)) {
                long off = 0;
                while (off < size) {
                    int want = (int) Math.min(Fuse.MAX_READ, size - off);
                    byte[] data = fuse.read(n.id, fh, off, want);
                    if (data.length == 0) {
                        break; // shorter than it said: the rest reads as zeros
                    }
                    ByteBuffer b = ByteBuffer.wrap(data, 0, Math.min(data.length, want));
                    while (b.hasRemaining()) {
                        ch.write(b, off + b.position());
                    }
                    pieces.feed(data, Math.min(data.length, want));
                    off += Math.min(data.length, want);
                }
            }
            n.sums = pieces.done(size);
        } catch (IOException e) {
            throw Shadow.errno(e, "content of " + rel);
        } finally {
            fuse.release(n.id, fh, false);
            try {
                if (chmod) {
                    Shadow.chmod(at, n.attr.mode());
                }
            } catch (IOException e) {
                // leave it
            }
            Shadow.times(at, n.attr);
        }
        n.materialized = true;
        seen(n, at);
    }

    /** Write-back compares content in pieces of this size. */
    static final int SUM_CHUNK = 64 * 1024;

    /** The digest of one piece (its length counts: a shorter last piece differs). */
    private static byte[] digest(byte[] b, int len) {
        try {
            java.security.MessageDigest md = java.security.MessageDigest.getInstance("SHA-256");
            md.update(b, 0, len);
            md.update(new byte[] {(byte) len, (byte) (len >> 8), (byte) (len >> 16), (byte) (len >> 24)});
            return md.digest();
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Digests per {@link #SUM_CHUNK} of content as it is copied in (so it is not read back): what a
     * daemon does not deliver up to the size counts as zeros, as the sparse shadow reads.
     */
    private static final class Pieces {
        private final byte[][] out;
        private final byte[] buf = new byte[SUM_CHUNK];
        private int fill, next;
        private long fed;

        Pieces(long size) {
            out = new byte[(int) ((size + SUM_CHUNK - 1) / SUM_CHUNK)][];
        }

        void feed(byte[] b, int len) {
            for (int off = 0; off < len;) {
                int k = Math.min(len - off, SUM_CHUNK - fill);
                System.arraycopy(b, off, buf, fill, k);
                fill += k;
                off += k;
                fed += k;
                if (fill == SUM_CHUNK) {
                    out[next++] = digest(buf, fill);
                    fill = 0;
                }
            }
        }

        byte[][] done(long size) {
            byte[] zeros = new byte[SUM_CHUNK];
            while (fed < size) {
                feed(zeros, (int) Math.min(SUM_CHUNK, size - fed));
            }
            if (fill > 0) {
                out[next++] = digest(buf, fill);
            }
            return out;
        }
    }

    /** Reads up to {@code want} bytes at {@code off}; returns how many there were. */
    private static int readPiece(FileChannel ch, byte[] buf, long off, int want) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(buf, 0, want);
        while (b.hasRemaining()) {
            if (ch.read(b, off + b.position()) < 0) {
                break;
            }
        }
        return b.position();
    }

    // ---- write-back ------------------------------------------------------------------------------

    static SStat sstat(Path p) {
        try {
            Map<String, Object> a = Files.readAttributes(p,
                    "unix:ino,mode,uid,gid,size,lastModifiedTime,lastAccessTime,ctime,nlink,rdev", Shadow.NOFOLLOW);
            return new SStat((Long) a.get("ino"), (Integer) a.get("mode"), (Integer) a.get("uid"),
                    (Integer) a.get("gid"), (Long) a.get("size"), ns(a.get("lastModifiedTime")),
                    ns(a.get("lastAccessTime")), ns(a.get("ctime")), (Integer) a.get("nlink"), (Long) a.get("rdev"));
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    private static long ns(Object t) {
        return ((FileTime) t).to(TimeUnit.NANOSECONDS);
    }

    /** Changes reach the daemon this soon even when no later call comes to the mount (ms). */
    static final long FLUSH_MS = 200;
    private static final java.util.concurrent.ScheduledThreadPoolExecutor FLUSHER = flusher();
    private boolean flushScheduled;

    private static java.util.concurrent.ScheduledThreadPoolExecutor flusher() {
        var e = new java.util.concurrent.ScheduledThreadPoolExecutor(1, r -> {
            Thread t = new Thread(r, "umfuse-flush");
            t.setDaemon(true);
            return t;
        });
        e.setKeepAliveTime(10, TimeUnit.SECONDS);
        e.allowCoreThreadTimeOut(true);
        return e;
    }

    /**
     * Writes the noted paths back within {@link #FLUSH_MS}: the kernel's FUSE hands a write to the
     * daemon at once, so a daemon that ends (a FUSE program killed in the view) or a crash of ours
     * must not find them still in the shadow. Runs again while something stays noted.
     */
    private void flushSoon() {
        if (!flushScheduled && !gone) {
            flushScheduled = true;
            FLUSHER.schedule(this::flush, FLUSH_MS, TimeUnit.MILLISECONDS);
        }
    }

    private synchronized void flush() {
        flushScheduled = false;
        if (gone || pending.isEmpty() || fuse.dead()) {
            return;
        }
        try {
            writeBack();
        } catch (Errno | RuntimeException e) {
            LOG.warning(what + ": write-back failed: " + e.getMessage());
        }
        if (!pending.isEmpty()) {
            flushSoon();
        }
    }

    /** The noted paths: what changed is written back; the rest is looked at twice more, then dropped. */
    private void writeBack() throws Errno {
        Map<String, Integer> batch = new LinkedHashMap<>(pending);
        pending.clear();
        deferred.clear();
        Collection<String> same = reconcile(batch.keySet(), false);
        for (String rel : same) {
            int n = batch.getOrDefault(rel, 0);
            if (n < 2) {
                pending.put(rel, n + 1);
            }
        }
        for (String rel : deferred) {
            pending.put(rel, 0);
        }
    }

    /** Every path of the shadow tree and every path the module knows. */
    private Set<String> allPaths() {
        Set<String> all = new LinkedHashSet<>();
        walkShadow(rootPath, "", all);
        walkKnown(rootNode, "", all);
        return all;
    }

    private void walkShadow(Path dir, String rel, Set<String> out) {
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
            for (Path p : ds) {
                String c = child(rel, Shadow.iso(p.getFileName()));
                out.add(c);
                if (Files.isDirectory(p, Shadow.NOFOLLOW)) {
                    walkShadow(p, c, out);
                }
            }
        } catch (IOException e) {
            LOG.fine("walk " + dir + ": " + e);
        }
    }

    private void walkKnown(Node n, String rel, Set<String> out) {
        out.add(rel);
        if (n.children != null) {
            for (Node c : List.copyOf(n.children.values())) {
                walkKnown(c, child(rel, c.name), out);
            }
        }
    }

    /**
     * Compares the shadow entries at {@code rels} with what the daemon was told and tells it the
     * difference. Returns the paths where nothing had changed (a call may still be on its way).
     */
    private Collection<String> reconcile(Collection<String> rels, boolean full) throws Errno {
        List<String> same = new ArrayList<>();
        TreeMap<String, SStat> fresh = new TreeMap<>(SHALLOW_FIRST);
        List<Node> goneNodes = new ArrayList<>();
        List<Node> changed = new ArrayList<>();
        Set<Long> freshInos = new HashSet<>();
        for (String rel : rels) {
            Node k = known(rel);
            SStat s = sstat(shadow(rel));
            if (k != null && s != null && s.ino() == k.sIno && s.type() == k.attr.type()) {
                if (s.ctime() != k.sCtime) {
                    changed.add(k);
                } else {
                    same.add(rel);
                }
                continue;
            }
            if (k == null && s == null) {
                same.add(rel);
                continue;
            }
            if (k != null && k != rootNode) {
                goneNodes.add(k);
            }
            if (s != null && !rel.isEmpty()) {
                fresh.put(rel, s);
                freshInos.add(s.ino());
            }
        }
        for (Map.Entry<String, SStat> e : fresh.entrySet()) {
            if (!arrive(e.getKey(), e.getValue(), freshInos, changed)) {
                same.add(e.getKey()); // its directory is not there yet
            }
        }
        goneNodes.sort(Comparator.comparingInt((Node g) -> depth(pathOf(g))).reversed());
        boolean inFlight = !same.isEmpty();
        for (Node g : goneNodes) {
            if (!attached(g)) {
                continue; // moved, replaced or deleted with its directory
            }
            String rel = pathOf(g);
            SStat s = sstat(shadow(rel));
            if (s != null && s.ino() == g.sIno) {
                continue; // back in place (moved with its directory)
            }
            if (!full && inFlight && !recreatable(g)) {
                deferred.add(rel); // maybe a rename whose other half has yet to happen: look again
                continue;
            }
            delete(g);
        }
        for (Node c : changed) {
            if (attached(c)) {
                SStat s = sstat(shadow(pathOf(c)));
                if (s != null && s.ino() == c.sIno) {
                    sync(c, s);
                }
            }
        }
        return same;
    }

    /** Whether the shadow holds all of the node (so deleting it in the daemon loses nothing). */
    private static boolean recreatable(Node n) {
        if (n.attr.isReg()) {
            return n.materialized;
        }
        if (n.attr.isDir()) {
            return n.populated && n.children.isEmpty();
        }
        return true;
    }

    private static final String SWAP_PREFIX = ".viewos-swap-";

    /**
     * A shadow entry the daemon does not have at {@code rel}: a rename (its inode is a known node
     * whose name is gone), a hard link (whose name is still there) or a new file.
     */
    private boolean arrive(String rel, SStat s, Set<Long> freshInos, List<Node> changed) throws Errno {
        Node cur = known(rel);
        if (cur != null && cur.sIno == s.ino() && cur.attr.type() == s.type()) {
            return true; // moved along with its directory
        }
        Node parent = known(parentOf(rel));
        if (parent == null || !parent.attr.isDir() || sstat(shadow(parentOf(rel))) == null) {
            return false;
        }
        String name = nameOf(rel);
        Node src = byIno.get(s.ino());
        if (src != null && src != cur && src != rootNode && attached(src) && src.attr.type() == s.type()) {
            SStat there = sstat(shadow(pathOf(src)));
            if (there == null || there.ino() != s.ino()) {
                if (cur != null && freshInos.contains(cur.sIno) && cur != src) {
                    park(cur); // it moves elsewhere in this batch (rename exchange): out of the way first
                    cur = null;
                }
                fuse.rename(src.parent.id, src.name, parent.id, name);
                if (cur != null) {
                    detach(cur);
                }
                detach(src);
                attach(parent, name, src);
                byIno.put(src.sIno, src);
                changed.add(src); // a rename changes ctime; mode and times are compared again
                return true;
            }
            if (!s.isDirType() && s.nlink() > 1) {
                if (cur != null) {
                    delete(cur);
                }
                Fuse.Entry e = fuse.link(src.id, parent.id, name);
                looked(e.nodeid());
                Node n = new Node(e.nodeid(), e.attr(), parent, name);
                n.materialized = src.materialized;
                attach(parent, name, n);
                seen(n, s);
                return true;
            }
        }
        if (cur != null) {
            delete(cur);
        }
        create(parent, name, rel, s, freshInos, changed);
        return true;
    }

    /** Renames a node in the daemon to a private name in its directory. */
    private void park(Node n) throws Errno {
        String tmp = SWAP_PREFIX + (++swaps);
        fuse.rename(n.parent.id, n.name, n.parent.id, tmp);
        Node p = n.parent;
        p.children.remove(n.name);
        attach(p, tmp, n);
    }

    private void create(Node parent, String name, String rel, SStat s, Set<Long> freshInos, List<Node> changed)
            throws Errno {
        Path at = shadow(rel);
        int perm = s.mode() & 07777;
        Fuse.Entry e;
        try {
            e = makeInDaemon(parent, name, at, s, perm);
        } catch (Errno x) {
            if (x.code() != Errno.EEXIST) {
                throw x;
            }
            purge(parent, name); // the daemon has a name the module never saw: the view's entry wins
            e = makeInDaemon(parent, name, at, s, perm);
        }
        looked(e.nodeid());
        Node n = new Node(e.nodeid(), e.attr(), parent, name);
        n.materialized = true;
        n.populated = true;
        attach(parent, name, n);
        n.sIno = s.ino();
        byIno.put(s.ino(), n);
        if (n.attr.isDir()) {
            try (DirectoryStream<Path> ds = Files.newDirectoryStream(at)) {
                List<String> names = new ArrayList<>();
                ds.forEach(p -> names.add(Shadow.iso(p.getFileName())));
                names.sort(null);
                for (String c : names) {
                    SStat cs = sstat(shadow(child(rel, c)));
                    if (cs != null) {
                        arrive(child(rel, c), cs, freshInos, changed);
                    }
                }
            } catch (IOException x) {
                throw Shadow.errno(x, "shadow of " + rel);
            }
        }
        sync(n, s);
    }

    private Fuse.Entry makeInDaemon(Node parent, String name, Path at, SStat s, int perm) throws Errno {
        switch (s.type()) {
            case Fuse.S_IFDIR:
                return fuse.mkdir(parent.id, name, perm, s.uid(), s.gid());
            case Fuse.S_IFREG:
                try {
                    Fuse.Created c = fuse.create(parent.id, name, Fuse.S_IFREG | perm, s.uid(), s.gid());
                    fuse.release(c.entry().nodeid(), c.fh(), false);
                    return c.entry();
                } catch (Errno x) {
                    if (x.code() != Errno.ENOSYS) {
                        throw x;
                    }
                    return fuse.mknod(parent.id, name, Fuse.S_IFREG | perm, 0, s.uid(), s.gid());
                }
            case Fuse.S_IFLNK:
                try {
                    String target = Shadow.iso(Files.readSymbolicLink(at));
                    return fuse.symlink(parent.id, name, target, s.uid(), s.gid());
                } catch (IOException x) {
                    throw Shadow.errno(x, "symlink " + at);
                }
            default:
                return fuse.mknod(parent.id, name, s.mode(), (int) s.rdev(), s.uid(), s.gid());
        }
    }

    /** Deletes a name in the daemon, a directory with everything in it, known to the module or not. */
    private void purge(Node parent, String name) throws Errno {
        Fuse.Entry e = fuse.lookup(parent.id, name);
        try {
            if (e.attr().isDir()) {
                Node tmp = new Node(e.nodeid(), e.attr(), parent, name);
                emptyDir(tmp);
                fuse.rmdir(parent.id, name);
            } else {
                fuse.unlink(parent.id, name);
            }
        } finally {
            fuse.forget(e.nodeid(), 1);
        }
    }

    private void emptyDir(Node dir) throws Errno {
        for (String c : listing(dir)) {
            purge(dir, c);
        }
    }

    /** Deletes a known node (and what is below it) in the daemon. */
    private void delete(Node g) throws Errno {
        Node p = g.parent;
        if (g.attr.isDir()) {
            for (Node c : List.copyOf(g.children.values())) {
                delete(c);
            }
            try {
                fuse.rmdir(p.id, g.name);
            } catch (Errno e) {
                if (e.code() != Errno.ENOTEMPTY) {
                    throw e;
                }
                emptyDir(g); // entries the module never looked at
                fuse.rmdir(p.id, g.name);
            }
        } else {
            fuse.unlink(p.id, g.name);
        }
        detach(g);
    }

    /** Tells the daemon mode, owner, content and times of a shadow entry that changed. */
    private void sync(Node n, SStat s) throws Errno {
        if (n.attr.isLink()) {
            seen(n, s);
            return;
        }
        int valid = 0;
        if ((s.mode() & 07777) != (n.attr.mode() & 07777)) {
            valid |= Fuse.FATTR_MODE;
        }
        if (asRoot && s.uid() != n.attr.uid()) {
            valid |= Fuse.FATTR_UID;
        }
        if (asRoot && s.gid() != n.attr.gid()) {
            valid |= Fuse.FATTR_GID;
        }
        boolean content = n.attr.isReg() && n.materialized
                && (s.size() != n.sSize || s.mtime() != n.sMtime || n.sCtime == Long.MIN_VALUE
                        || s.size() != n.attr.size());
        if (content && writeContent(n, s)) {
            SStat now = sstat(shadow(pathOf(n))); // our chmod to read it moved its ctime
            if (now != null && now.ino() == s.ino()) {
                s = new SStat(s.ino(), s.mode(), s.uid(), s.gid(), s.size(), s.mtime(), s.atime(), now.ctime(),
                        s.nlink(), s.rdev());
            }
        }
        if (content || n.attr.isDir() || s.mtime() != n.attr.mtimeNs()) {
            valid |= Fuse.FATTR_MTIME | Fuse.FATTR_ATIME;
        }
        if (valid != 0) {
            n.attr = fuse.setattr(n.id, valid, 0, 0, s.atime(), s.mtime(), s.mode() & 07777, s.uid(), s.gid());
        }
        seen(n, s);
    }

    /**
     * The shadow file's content to the daemon: truncate, size, every chunk that is not all zeros.
     * Returns whether the shadow's mode had to be changed to read it.
     */
    private boolean writeContent(Node n, SStat s) throws Errno {
        Path at = shadow(pathOf(n));
        long fh;
        try {
            fh = fuse.open(n.id, Fuse.O_WRONLY);
        } catch (Errno e) {
            if (e.code() != Errno.EACCES) {
                throw e;
            }
            // e.g. made read-only after it was written: the mode is set again after the content
            n.attr = fuse.setattr(n.id, Fuse.FATTR_MODE, 0, 0, 0, 0, (n.attr.mode() & 07777) | 0600, 0, 0);
            fh = fuse.open(n.id, Fuse.O_WRONLY);
        }
        boolean chmod = !asRoot && (s.mode() & 0400) == 0;
        // the daemon's content known piece by piece (read or written before): only changed pieces
        // go; else it is emptied and the non-zero pieces are written
        byte[][] old = n.sums;
        long oldSize = old != null ? n.attr.size() : 0;
        n.sums = null; // unknown until this write-back has succeeded
        try {
            if (old == null && n.attr.size() != 0) {
                fuse.setattr(n.id, Fuse.FATTR_SIZE | Fuse.FATTR_FH, fh, 0, 0, 0, 0, 0, 0);
            }
            if (s.size() != oldSize) {
                fuse.setattr(n.id, Fuse.FATTR_SIZE | Fuse.FATTR_FH, fh, s.size(), 0, 0, 0, 0, 0);
            }
            if (chmod) {
                Shadow.chmod(at, s.mode() | 0400);
            }
            int pieces = (int) ((s.size() + SUM_CHUNK - 1) / SUM_CHUNK);
            byte[][] now = new byte[pieces][];
            byte[] buf = new byte[SUM_CHUNK];
            try (FileChannel ch = FileChannel.open(at, StandardOpenOption.READ)) {
                for (int i = 0; i < pieces; i++) {
                    long off = (long) i * SUM_CHUNK;
                    int len = readPiece(ch, buf, off, (int) Math.min(SUM_CHUNK, s.size() - off));
                    if (len == 0) {
                        now = null; // shorter now: the next write-back sees the change
                        break;
                    }
                    now[i] = digest(buf, len);
                    boolean same = old != null && i < old.length && off + len <= oldSize
                            && java.util.Arrays.equals(old[i], now[i]);
                    boolean zeroAlready = zeros(buf, len) && off >= oldSize; // emptied or extended
                    if (!same && !zeroAlready) {
                        writePiece(n, fh, off, buf, len);
                    }
                }
            }
            fuse.flush(n.id, fh);
            n.sums = now;
        } catch (IOException e) {
            throw Shadow.errno(e, "write-back of " + pathOf(n));
        } finally {
            fuse.release(n.id, fh, false);
            if (chmod) {
                try {
                    Shadow.chmod(at, s.mode());
                } catch (IOException e) {
                    // leave it
                }
            }
        }
        n.attr = fuse.getattr(n.id);
        return chmod;
    }

    /** WRITEs {@code len} bytes of {@code buf} at {@code off}, in pieces the daemon takes. */
    private void writePiece(Node n, long fh, long off, byte[] buf, int len) throws Errno {
        int max = fuse.maxWrite();
        int done = 0;
        while (done < len) {
            int w = fuse.write(n.id, fh, off + done, buf, done, Math.min(max, len - done));
            if (w <= 0) {
                throw new Errno(Errno.EIO, what + ": short write to " + pathOf(n));
            }
            done += w;
        }
    }

    private static boolean zeros(byte[] b, int len) {
        for (int i = 0; i < len; i++) {
            if (b[i] != 0) {
                return false;
            }
        }
        return true;
    }
}
