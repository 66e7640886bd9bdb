package org.viewos.umfuse;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.viewos.core.api.Errno;
import org.viewos.core.api.FileSystem;
import org.viewos.core.api.FileSystemType;
import org.viewos.core.api.FuseConnection;
import org.viewos.core.api.FuseTransport;
import org.viewos.core.api.ViewModule;

/**
 * umfuse: real FUSE daemons serve file systems inside a view, with no /dev/fuse, no kernel mount and
 * no root. The core's {@link FuseTransport} starts the daemon on a socketpair; this module plays
 * the kernel's side of the protocol ({@link FuseSession}) and shows the result through a shadow tree
 * ({@link FuseFs}). Read-only for now: {@code viewmount -t umfusesquashfs IMAGE DIR} (squashfuse).
 */
@Component(service = {ViewModule.class, FileSystemType.class},
        property = {ViewModule.NAME_PROPERTY + "=umfuse", "viewos.fstype=umfuse"})
public final class UmFuse implements ViewModule, FileSystemType {
    static final long TIMEOUT_MILLIS = 10_000;

    @Reference
    private FuseTransport transport;

    private final AtomicInteger mounts = new AtomicInteger();
    private final List<FuseFs> live = new java.util.ArrayList<>();
    private volatile String cacheDir;

    @Override
    public String name() {
        return "umfuse";
    }

    @Override
    public String description() {
        return "FUSE file systems without /dev/fuse (umfusesquashfs via squashfuse; umfuse -o cmd= any libfuse3 program)";
    }

    @Override
    public boolean handles(String fstype) {
        return fstype.equals("umfusesquashfs") || fstype.equals("umfuse");
    }

    @Override
    public FileSystem mount(String source, String target, String fstype, Map<String, String> options) throws Errno {
        for (String o : options.keySet()) {
            if (!o.equals("ro") && !(o.equals("cmd") && fstype.equals("umfuse"))) {
                throw new Errno(Errno.EINVAL, "umfuse: " + fstype + ": unknown option " + o);
            }
        }
        List<String> argv = fstype.equals("umfuse") ? command(options.get("cmd"), source) : squashfuse(source);
        Path dir;
        try {
            dir = Files.createDirectory(Shadow.path(cacheDir() + "/m" + mounts.incrementAndGet()),
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        } catch (IOException e) {
            throw Shadow.errno(e, "mount directory");
        }
        Path log = dir.resolve("daemon.log");
        String what = argv.get(0) + " " + source;
        FuseSession s = null;
        try {
            FuseConnection c = transport.start(argv, DAEMON_FD, log.toString());
            s = new FuseSession(c, what, TIMEOUT_MILLIS, uid(), gid());
            try {
                s.handshake();
            } catch (Errno e) {
                throw new Errno(Errno.EIO, what + " failed at INIT" + logTail(log, e));
            }
            Fuse.Attr rootAttr = s.getattr(1);
            if (!rootAttr.isDir()) {
                throw new Errno(Errno.EIO, what + ": root is not a directory");
            }
            boolean asRoot = uid() == 0;
            FuseFs[] self = new FuseFs[1];
            FuseFs fs = new FuseFs(s, Shadow.iso(dir) + "/root", rootAttr, asRoot, () -> {
                synchronized (live) {
                    live.remove(self[0]);
                }
                Shadow.deleteTree(dir);
            });
            self[0] = fs;
            synchronized (live) {
                live.add(fs);
            }
            return fs;
        } catch (Errno e) {
            if (s != null) {
                s.close();
            }
            Shadow.deleteTree(dir);
            throw e;
        } catch (RuntimeException e) {
            if (s != null) {
                s.close();
            }
            Shadow.deleteTree(dir);
            throw new Errno(Errno.EIO, what + ": " + e);
        }
    }

    /** The descriptor the daemon gets as its /dev/fuse (a libfuse3 daemon takes "/dev/fd/3" as mountpoint). */
    private static final int DAEMON_FD = 3;

    /** squashfuse in the foreground on an existing image file. */
    private static List<String> squashfuse(String source) throws Errno {
        if (source == null || source.isEmpty() || source.equals("none")) {
            throw new Errno(Errno.EINVAL, "umfuse: umfusesquashfs needs an image");
        }
        if (!source.startsWith("/")) {
            // the core hands over an existing view path as its host path: anything else is not there
            throw new Errno(Errno.ENOENT, "umfuse: image " + source + " does not exist");
        }
        Path image = Shadow.path(source);
        if (!Files.exists(image)) {
            throw new Errno(Errno.ENOENT, "umfuse: image " + source + " does not exist");
        }
        if (Files.isDirectory(image)) {
            throw new Errno(Errno.EISDIR, "umfuse: image " + source + " is a directory");
        }
        return List.of("squashfuse", "-f", image.toString(), "/dev/fd/" + DAEMON_FD);
    }

    /**
     * {@code -o cmd='PROGRAM ARGS'}: any libfuse3 program, words split at blanks, {@code %S} the
     * source and {@code %M} the mountpoint it must use (/dev/fd/3). Run it in the foreground
     * (usually {@code -f}); a mount option string cannot hold commas.
     */
    private static List<String> command(String template, String source) throws Errno {
        if (template == null || template.isBlank()) {
            throw new Errno(Errno.EINVAL, "umfuse: -t umfuse needs -o cmd='PROGRAM ... %S %M'");
        }
        List<String> argv = new java.util.ArrayList<>();
        boolean mountpoint = false;
        for (String w : template.strip().split("\\s+")) {
            mountpoint |= w.contains("%M");
            argv.add(w.replace("%S", source == null ? "" : source).replace("%M", "/dev/fd/" + DAEMON_FD));
        }
        if (!mountpoint) {
            throw new Errno(Errno.EINVAL, "umfuse: cmd must name the mountpoint as %M");
        }
        return argv;
    }

    /** ": LAST LOG LINE" of the daemon, or the error when it said nothing. */
    private static String logTail(Path log, Errno e) {
        try {
            List<String> lines = Files.readAllLines(log);
            for (int i = lines.size() - 1; i >= 0; i--) {
                if (!lines.get(i).isBlank()) {
                    return ": " + lines.get(i).strip();
                }
            }
        } catch (IOException | RuntimeException x) {
            // no log
        }
        return ": " + e.getMessage();
    }

    private static int uid() {
        return attr("unix:uid");
    }

    private static int gid() {
        return attr("unix:gid");
    }

    private static int attr(String a) {
        try {
            return (Integer) Files.getAttribute(Path.of("/proc/self"), a);
        } catch (IOException | RuntimeException e) {
            return 0;
        }
    }

    /** The module's private directory: $XDG_RUNTIME_DIR/viewos-UID/umfuse-PID-* (else /dev/shm, else /tmp), 0700. */
    private synchronized String cacheDir() throws Errno {
        if (cacheDir != null) {
            return cacheDir;
        }
        String base = System.getenv("XDG_RUNTIME_DIR");
        if (base == null || base.isEmpty() || !Files.isDirectory(Path.of(base)) || !Files.isWritable(Path.of(base))) {
            // tmpfs when there is one: creating files on a disk-backed /tmp cost ~0.6 ms each here
            base = Files.isDirectory(Path.of("/dev/shm")) && Files.isWritable(Path.of("/dev/shm"))
                    ? "/dev/shm" : System.getProperty("java.io.tmpdir", "/tmp");
        }
        Path user = Path.of(base, "viewos-" + uid());
        try {
            if (!Files.isDirectory(user)) {
                Files.createDirectories(user, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
            }
            if (!Files.getOwner(user).equals(Files.getOwner(Path.of("/proc/self")))) {
                throw new Errno(Errno.EACCES, "umfuse: " + user + " belongs to someone else");
            }
            Path mine = Files.createTempDirectory(user, "umfuse-" + ProcessHandle.current().pid() + "-",
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
            cacheDir = Shadow.iso(mine.toRealPath());
            return cacheDir;
        } catch (IOException e) {
            throw Shadow.errno(e, "cache in " + user);
        }
    }

    @Deactivate
    void deactivate() {
        List<FuseFs> all;
        synchronized (live) {
            all = List.copyOf(live);
        }
        all.forEach(FuseFs::unmount);
        String c = cacheDir;
        if (c != null) {
            Shadow.deleteTree(Shadow.path(c));
        }
    }
}
