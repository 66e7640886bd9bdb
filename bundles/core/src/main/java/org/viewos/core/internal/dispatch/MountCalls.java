package org.viewos.core.internal.dispatch;

import java.io.File;

import org.viewos.core.api.Errno;
import org.viewos.core.internal.arch.Regs;
import org.viewos.core.internal.arch.SyscallTable;
import org.viewos.core.internal.ffi.Scratch;
import org.viewos.core.internal.trace.Tracee;
import org.viewos.core.internal.vfs.MountTable;
import org.viewos.core.internal.vfs.PathResolver.Resolution;

/**
 * mount(2) and umount2(2): virtual when a loaded module claims the type (or the target is one of
 * the view's mounts), else the kernel's, on view paths.
 */
final class MountCalls {
    private static final long MS_RDONLY = 1;
    private static final int PAGE_SIZE = 4096;

    private final ViewState view;
    private final ViewPaths where;
    private final PathCalls paths;
    private final SyscallTable table;
    private java.util.function.Predicate<org.viewos.core.internal.vfs.Mount> busy = m -> false;

    MountCalls(ViewState view, ViewPaths where, PathCalls paths, SyscallTable table) {
        this.view = view;
        this.where = where;
        this.paths = paths;
        this.table = table;
    }

    /** Whether a mount has virtual files open (umount is then EBUSY). */
    void busy(java.util.function.Predicate<org.viewos.core.internal.vfs.Mount> busy) {
        this.busy = busy;
    }

    void mount(Call c, MountTable mounts) throws Errno {
        Tracee t = c.t();
        Regs regs = c.regs();
        Scratch s = c.scratch();
        String fstype = regs.arg(2) == 0 ? null : s.readString(t.tid(), regs.arg(2), 256);
        if (fstype == null || !view.claimsFsType(fstype)) {
            paths.paths(c, table.byName("mount"), mounts);
            return;
        }
        String source = regs.arg(0) == 0 ? "none" : string(s, t, regs.arg(0), PathCalls.PATH_MAX, Errno.ENAMETOOLONG, "source");
        String target = string(s, t, regs.arg(1), PathCalls.PATH_MAX, Errno.ENAMETOOLONG, "mount point");
        // the kernel takes one page of data: more than that is not an option string
        String data = regs.arg(4) == 0 ? "" : string(s, t, regs.arg(4), PAGE_SIZE, Errno.EINVAL, "options");
        if ((regs.arg(3) & MS_RDONLY) != 0) {
            data = data.isEmpty() ? "ro" : "ro," + data;
        }
        java.util.regex.Matcher fd = java.util.regex.Pattern.compile("(?:^|,)fd=([0-9]{1,9})(?:,|$)").matcher(data);
        String socket = fd.find() ? paths.socketPathOf(t.tid(), Integer.parseInt(fd.group(1))) : null;
        if (socket != null) {
            data = data + ",viewos.socket=" + socket; // the channel a virtual /dev/fuse gave this process
        }
        try {
            Resolution r = where.resolve(t, target, mounts, true);

            if (!new File(r.hostPath()).exists() && !(view.servesMountPoint(fstype)
                    && new File(r.hostPath()).getParentFile() != null && new File(r.hostPath()).getParentFile().isDirectory())) {
                throw new Errno(Errno.ENOENT, "mount point " + r.viewPath() + " does not exist");
            }
            String src = sourcePath(t, source, mounts);
            if (src == org.viewos.core.api.FileSystem.VIRTUAL) {
                // a device of the view as the source: mount the part of a host file behind it
                var b = backing(t, source, mounts);
                src = b.hostPath();
                if (b.offset() > 0) {
                    data = data.isEmpty() ? "offset=" + b.offset() : data + ",offset=" + b.offset();
                }
            }
            view.userMount(src, r.viewPath(), fstype, data);
        } catch (Errno err) {
            view.noteError(t.tgid(), ControlCall.oneLine(err.getMessage())); // viewmount fetches it to print
            throw err;
        }
        c.finish(0);
    }

    /** A string argument: EFAULT for a bad pointer, {@code tooLong} when no NUL comes in time. */
    private static String string(Scratch s, Tracee t, long address, int max, int tooLong, String what) throws Errno {
        String v = s.readString(t.tid(), address, max);
        if (v == null) {
            throw s.tooLong() ? new Errno(tooLong, what + " longer than " + (max - 1) + " bytes") : new Errno(Errno.EFAULT);
        }
        return v;
    }

    /**
     * A mount source that names a file or directory (absolute, or relative and existing) is a path of
     * the view: it goes to the module as the host path it resolves to. Anything else ("none",
     * "host:/dir") goes as it is.
     */
    private String sourcePath(Tracee t, String source, MountTable mounts) throws Errno {
        if (source.isEmpty() || source.equals("none")) {
            return source;
        }
        boolean absolute = source.startsWith("/");
        if (!absolute && source.contains(":")) {
            return source;
        }
        String host = where.resolve(t, source, mounts, true).hostPath();
        return absolute || new File(host).exists() ? host : source;
    }

    /** The host file window behind a virtual source: ENOTBLK when no host file holds it. */
    private org.viewos.core.api.VirtualFile.Backing backing(Tracee t, String source, MountTable mounts) throws Errno {
        Resolution r = where.resolve(t, source, mounts, true);
        var m = r.lookup().mount();
        org.viewos.core.api.VirtualFile.Backing b;
        try {
            b = m.fs().virtualFile(m.relative(r.viewPath())).backing();
        } catch (RuntimeException e) {
            throw new Errno(Errno.EIO, "module " + m.module() + ": " + e);
        }
        if (b == null) {
            throw new Errno(Errno.ENOTBLK, source + " is not held by a host file (a RAM disk?): it cannot be mounted");
        }
        return b;
    }

    void umount(Call c, MountTable mounts) throws Errno {
        String target = c.scratch().readString(c.tid(), c.regs().arg(0), PathCalls.PATH_MAX);
        if (target == null || target.isEmpty()) {
            return;
        }
        Resolution r = where.resolve(c.t(), target, mounts, false);
        if (mounts.at(r.viewPath()) == null) {
            paths.paths(c, table.byName("umount2"), mounts);
            return;
        }
        if (busy.test(mounts.at(r.viewPath()))) {
            throw new Errno(Errno.EBUSY, r.viewPath() + " has files open");
        }
        view.umount(r.viewPath());
        c.finish(0);
    }
}
