package org.viewos.umfuse;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

import org.viewos.core.api.Errno;
import org.viewos.core.api.FileSystem;

/**
 * A read-only FUSE mount seen through a private <em>shadow tree</em>: the core hands the kernel host
 * paths, so every file the view touches gets a host twin under ROOT that mirrors the daemon's view:
 * directories (whose entries are synced from READDIR when a directory is opened), symlinks with the
 * READLINK target, and regular files as sparse files of the right size, whose content is read
 * through FUSE (OPEN/READ/RELEASE) the first time the file is opened for reading or executed.
 * Mode and times (and the owner, as root) come from
 * the daemon's attributes. The image is read-only: nothing changes after the first look, so every
 * shadow entry is made once. Writes fail with EROFS.
 */
final class FuseFs implements FileSystem {
    private static final class Node {
        final long id;
        final Fuse.Attr attr;
        boolean populated, materialized;

        Node(long id, Fuse.Attr attr) {
            this.id = id;
            this.attr = attr;
        }
    }

    private final FuseSession fuse;
    private final String root;
    private final Path rootPath;
    private final Runnable onUnmount;
    private final boolean asRoot;
    private final Map<String, Node> nodes = new HashMap<>();
    private final Set<String> missing = new HashSet<>();
    private final Map<Long, Long> lookups = new HashMap<>();
    private boolean gone;

    FuseFs(FuseSession fuse, String root, Fuse.Attr rootAttr, boolean asRoot, Runnable onUnmount) throws Errno {
        this.fuse = fuse;
        this.root = root;
        this.rootPath = Shadow.path(root);
        this.asRoot = asRoot;
        this.onUnmount = onUnmount;
        Node r = new Node(1, rootAttr);
        try {
            if (!Shadow.exists(rootPath)) {
                Files.createDirectory(rootPath);
            }
            Shadow.apply(rootPath, rootAttr, asRoot);
        } catch (IOException e) {
            throw Shadow.errno(e, "shadow root " + root);
        }
        nodes.put("", r);
    }

    String root() {
        return root;
    }

    @Override
    public synchronized String hostPath(String relative, Access access) throws Errno {
        if (gone) {
            throw new Errno(Errno.ENODEV, "umfuse: unmounted");
        }
        Node n = resolve(relative);
        String host = relative.isEmpty() ? root : root + "/" + relative;
        switch (access) {
            case CREATE:
                throw new Errno(Errno.EROFS);
            case WRITE:
            case DELETE:
                if (n != null) {
                    throw new Errno(Errno.EROFS);
                }
                return host; // the kernel says ENOENT (or ENOTDIR)
            default:
                break;
        }
        if (n == null) {
            return host;
        }
        if (n.attr.isDir() && (access == Access.READ || n.attr.nlink() > 2)) {
            // a directory with subdirectories is synced on first sight too, so its link count is right
            populate(relative, n);
        } else if (n.attr.isReg() && !n.materialized
                && (access == Access.READ || access == Access.EXEC)) {
            materialize(relative, n);
        }
        return host;
    }

    @Override
    public String relativeOf(String hostPath) {
        if (hostPath.equals(root)) {
            return "";
        }
        return hostPath.startsWith(root + "/") ? hostPath.substring(root.length() + 1) : null;
    }

    @Override
    public synchronized void unmount() {
        if (gone) {
            return;
        }
        gone = true;
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

    // ---- lookup ----------------------------------------------------------------------------------

    /** The node of {@code rel} (its shadow entry made), or null when the daemon has no such name. */
    private Node resolve(String rel) throws Errno {
        Node n = nodes.get(rel);
        if (n != null) {
            return n;
        }
        if (missing.contains(rel)) {
            return null;
        }
        int slash = rel.lastIndexOf('/');
        String parentRel = slash < 0 ? "" : rel.substring(0, slash);
        String name = rel.substring(slash + 1);
        Node p = resolve(parentRel);
        if (p == null || !p.attr.isDir() || p.populated) {
            return null; // a populated directory's children are all known
        }
        return lookupChild(parentRel, p, name);
    }

    private Node lookupChild(String parentRel, Node p, String name) throws Errno {
        String rel = parentRel.isEmpty() ? name : parentRel + "/" + name;
        Fuse.Entry e;
        try {
            e = fuse.lookup(p.id, name);
        } catch (Errno x) {
            if (x.code() == Errno.ENOENT) {
                missing.add(rel);
                return null;
            }
            throw x;
        }
        if (e.nodeid() == 0) { // a negative entry
            missing.add(rel);
            return null;
        }
        lookups.merge(e.nodeid(), 1L, Long::sum);
        Node n = new Node(e.nodeid(), e.attr());
        make(parentRel, p, rel, n);
        nodes.put(rel, n);
        return n;
    }

    /** Creates the shadow entry of {@code rel} with the node's type and attributes. */
    private void make(String parentRel, Node parent, String rel, Node n) throws Errno {
        Path at = shadow(rel);
        Path dir = shadow(parentRel);
        String target = n.attr.isLink() ? fuse.readlink(n.id) : null;
        try {
            writable(dir, parent, true);
            try {
                if (Shadow.exists(at)) {
                    Shadow.deleteTree(at);
                }
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
            }
        } catch (IOException e) {
            throw Shadow.errno(e, "shadow of " + rel);
        }
    }

    /** Lets us change a shadow directory whose image mode forbids it, and restores mode and mtime. */
    private void writable(Path dir, Node node, boolean open) throws IOException {
        int mode = node.attr.mode();
        if (open) {
            if (!asRoot && (mode & 0300) != 0300) {
                Shadow.chmod(dir, mode | 0700);
            }
        } else {
            if (!asRoot && (mode & 0300) != 0300) {
                Shadow.chmod(dir, mode);
            }
            Shadow.times(dir, node.attr);
        }
    }

    private Path shadow(String rel) {
        return rel.isEmpty() ? rootPath : Shadow.path(root + "/" + rel);
    }

    // ---- directories -----------------------------------------------------------------------------

    /** Syncs the shadow directory with the daemon's listing (once: the image does not change). */
    private void populate(String rel, Node n) throws Errno {
        if (n.populated) {
            return;
        }
        Set<String> names = new LinkedHashSet<>();
        long fh = fuse.opendir(n.id);
        try {
            long off = 0;
            while (true) {
                List<Fuse.Dirent> ds = fuse.readdir(n.id, fh, off);
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
            fuse.release(n.id, fh, true);
        }
        Path dir = shadow(rel);
        try (Stream<Path> s = Files.list(dir)) {
            List<Path> stale = s.filter(p -> !names.contains(Shadow.iso(p.getFileName()))).toList();
            if (!stale.isEmpty()) {
                writable(dir, n, true);
                try {
                    stale.forEach(Shadow::deleteTree);
                } finally {
                    writable(dir, n, false);
                }
            }
        } catch (IOException e) {
            throw Shadow.errno(e, "shadow of " + rel);
        }
        for (String name : names) {
            String c = rel.isEmpty() ? name : rel + "/" + name;
            missing.remove(c);
            if (!nodes.containsKey(c)) {
                lookupChild(rel, n, name);
            }
        }
        n.populated = true;
    }

    // ---- file content ----------------------------------------------------------------------------

    /** Reads the file's content through FUSE into its shadow (128 KiB at a time, up to its size). */
    private void materialize(String rel, Node n) throws Errno {
        Path at = shadow(rel);
        long size = n.attr.size();
        long fh = fuse.open(n.id, 0);
        boolean chmod = !asRoot && (n.attr.mode() & 0200) == 0;
        try {
            if (chmod) {
                Shadow.chmod(at, n.attr.mode() | 0200);
            }
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
                    off += Math.min(data.length, want);
                }
            }
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
    }
}
