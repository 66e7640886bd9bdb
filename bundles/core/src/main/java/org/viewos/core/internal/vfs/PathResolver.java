package org.viewos.core.internal.vfs;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;

import org.viewos.core.api.Errno;
import org.viewos.core.api.FileSystem;
import org.viewos.core.internal.ffi.Native;

/**
 * Canonicalizes a path the way the kernel's path walk would, but through the view's mounts: each
 * component is looked up where it really is (the host, or a module's host path), symlinks are read
 * there and spliced in, {@code ..} is taken after them.
 */
public final class PathResolver {
    private static final int MAXSYMLINKS = 40;

    private PathResolver() {
    }

    /**
     * The outcome of a walk.
     *
     * @param viewPath  the canonical view path
     * @param lookup    the mount claiming it with its host path, or null when the host owns it
     * @param crossed   whether any mount took part in the walk; if not, the original path can go to
     *                  the kernel unchanged
     */
    public record Resolution(String viewPath, MountTable.Lookup lookup, boolean crossed) {
        /** The path to hand the kernel. */
        public String hostPath() {
            return lookup != null ? lookup.hostPath() : viewPath;
        }
    }

    /**
     * @param base       canonical absolute view path that a relative {@code path} starts from
     * @param path       the path as the program gave it (non-empty)
     * @param followLast whether a symlink as the final component is followed
     */
    public static Resolution resolve(MountTable mounts, String base, String path, boolean followLast,
            FileSystem.Access access) throws Errno {
        return resolve(mounts, base, path, followLast, access, 0, 0);
    }

    /** /proc/PID/{cwd,root,exe}, /proc/PID/fd/N, also under task/TID: links the kernel makes up. */
    private static final java.util.regex.Pattern MAGIC =
            java.util.regex.Pattern.compile("/proc/[0-9]+(/task/[0-9]+)?/(cwd|root|exe|fd/[0-9]+|map_files/[^/]+)");

    /**
     * As {@link #resolve(MountTable, String, String, boolean, FileSystem.Access)}, for the traced
     * thread {@code tid} of process {@code tgid}: {@code /proc/self} and {@code /proc/thread-self}
     * are that process's, and the kernel's magic links under /proc (cwd, root, exe, fd/N, so also
     * /dev/fd/N) are read as that process sees them and mapped back through the mounts, so the walk
     * goes on in the view's picture and a hidden file stays hidden through them.
     */
    public static Resolution resolve(MountTable mounts, String base, String path, boolean followLast,
            FileSystem.Access access, int tid, int tgid) throws Errno {
        // the canonical view path so far, as "/a/b" ("" for the root)
        StringBuilder stack = new StringBuilder();
        if (path.charAt(0) != '/') {
            split(base, c -> stack.append('/').append(c));
        }
        Deque<String> todo = new ArrayDeque<>();
        split(path, todo::addLast);
        PlainDirs plain = mounts.plainDirs();
        boolean crossed = false;
        int links = 0;
        while (!todo.isEmpty()) {
            String c = todo.removeFirst();
            if (c.equals(".")) {
                continue;
            }
            if (c.equals("..")) {
                if (stack.length() > 0) {
                    if (!crossed && mounts.find(stack.toString(), FileSystem.Access.LOOKUP) != null) {
                        crossed = true;
                    }
                    stack.setLength(stack.lastIndexOf("/"));
                }
                continue;
            }
            int parent = stack.length();
            stack.append('/').append(c);
            boolean last = todo.isEmpty();
            if (last && !followLast) {
                break;
            }
            String view = stack.toString();
            MountTable.Lookup l = mounts.find(view, FileSystem.Access.LOOKUP);
            if (l != null) {
                crossed = true;
            }
            String target;
            if (tgid > 0 && l == null && view.startsWith("/proc/")) {
                if (view.equals("/proc/self")) {
                    target = String.valueOf(tgid);
                } else if (view.equals("/proc/thread-self")) {
                    target = tgid + "/task/" + tid;
                } else if (MAGIC.matcher(view).matches()) {
                    String host = Native.readlink(view);
                    if (host == null || !host.startsWith("/")) {
                        crossed = true; // pipe:[N], socket:[N]...: the kernel opens it by this path
                        continue;
                    }
                    String v = mounts.viewOf(host);
                    if (v == null) {
                        v = Placeholders.viewPathOf(host); // an open virtual file: itself again
                    }
                    target = v != null ? v : host;
                } else {
                    target = Native.readlink(view);
                }
                if (target != null) {
                    crossed = true; // what the kernel would find there is not the view's answer
                }
            } else if (l != null && l.hostPath() == FileSystem.VIRTUAL) {
                target = null; // a virtual file is no symlink (and no directory to walk into)
                if (!todo.isEmpty()) {
                    throw new Errno(Errno.ENOTDIR);
                }
            } else if (l != null) {
                target = Native.readlink(l.hostPath());
            } else if (plain.contains(view)) {
                target = null; // checked a moment ago: no symlink
            } else {
                target = Native.readlink(view);
                if (target == null && Native.errno() == Errno.EINVAL) {
                    plain.add(view);
                }
            }
            if (target == null) {
                continue;
            }
            if (++links > MAXSYMLINKS) {
                throw new Errno(Errno.ELOOP);
            }
            if (target.isEmpty()) {
                throw new Errno(Errno.ENOENT);
            }
            stack.setLength(target.charAt(0) == '/' ? 0 : parent);
            List<String> parts = new ArrayList<>();
            split(target, parts::add);
            for (int i = parts.size() - 1; i >= 0; i--) {
                todo.addFirst(parts.get(i));
            }
        }
        String viewPath = stack.length() == 0 ? "/" : stack.toString();
        MountTable.Lookup lookup = mounts.find(viewPath, access);
        return new Resolution(viewPath, lookup, crossed || lookup != null);
    }

    private static void split(String path, java.util.function.Consumer<String> out) {
        int i = 0;
        int n = path.length();
        while (i < n) {
            while (i < n && path.charAt(i) == '/') {
                i++;
            }
            int j = i;
            while (j < n && path.charAt(j) != '/') {
                j++;
            }
            if (j > i) {
                out.accept(path.substring(i, j));
            }
            i = j;
        }
    }
}
