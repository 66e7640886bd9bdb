package org.viewos.core.internal.dispatch;

import org.viewos.core.api.Errno;
import org.viewos.core.api.FileSystem;
import org.viewos.core.internal.ffi.Native;
import org.viewos.core.internal.trace.Tracee;
import org.viewos.core.internal.vfs.MountTable;
import org.viewos.core.internal.vfs.PathResolver;
import org.viewos.core.internal.vfs.PathResolver.Resolution;

/** Where a traced process stands in the view: its cwd and directory fds as view paths. */
final class ViewPaths {
    private final ViewState view;

    ViewPaths(ViewState view) {
        this.view = view;
    }

    /**
     * The view cwd of a tracee: tracked after a chdir into a mount, else the kernel's cwd mapped
     * back through the mounts.
     */
    String cwd(Tracee t) {
        String v = t.fs() == null ? null : t.fs().viewCwd();
        return v != null ? v : toView(Native.readlink("/proc/" + t.tid() + "/cwd"));
    }

    /** A host path as the view shows it (mapped back through the mounts), or itself. */
    String toView(String host) {
        if (host == null) {
            return null;
        }
        String v = view.mounts().viewOf(host);
        return v != null ? v : host;
    }

    /** Resolves a path a call names relative to the caller's cwd, as a lookup. */
    Resolution resolve(Tracee t, String path, MountTable mounts, boolean follow) throws Errno {
        String base = path.startsWith("/") ? null : cwd(t);
        if (base == null && !path.startsWith("/")) {
            throw new Errno(Errno.ENOENT);
        }
        return PathResolver.resolve(mounts, base, path, follow, FileSystem.Access.LOOKUP, t.tid(), t.tgid());
    }
}
