package org.viewos.viewfs;

import org.viewos.core.api.FileSystem;

/**
 * {@code move}: the mount point shows SRC (a file or a directory), for every kind of access. Moving
 * an empty directory over a path hides it. The reverse mapping sends host paths below SRC back below
 * the mount point, so that directory fds and the cwd taken inside the mount keep their view paths
 * (a program that opened SRC by its own name elsewhere sees the mount point's name: both show the
 * same files).
 */
final class MoveFs implements FileSystem {
    private final String source;
    private final Excepts excepts;
    private final boolean readOnly;

    MoveFs(String source, Excepts excepts, boolean readOnly) {
        this.source = source;
        this.excepts = excepts;
        this.readOnly = readOnly;
    }

    @Override
    public String hostPath(String relative, Access access) throws org.viewos.core.api.Errno {
        if (excepts.covers(relative)) {
            return null;
        }
        if (readOnly && (access == Access.WRITE || access == Access.CREATE || access == Access.DELETE)) {
            throw new org.viewos.core.api.Errno(org.viewos.core.api.Errno.EROFS, "viewfs mount is read-only");
        }
        return Host.join(source, relative);
    }

    @Override
    public String relativeOf(String hostPath) {
        String rel = Host.below(source, hostPath);
        return rel == null || excepts.covers(rel) ? null : rel;
    }

    @Override
    public String toString() {
        return "viewfs move " + source;
    }
}
