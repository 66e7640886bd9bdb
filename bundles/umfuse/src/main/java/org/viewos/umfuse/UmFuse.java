package org.viewos.umfuse;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.viewos.core.api.Errno;
import org.viewos.core.api.ModuleDirs;
import org.viewos.core.api.FileSystem;
import org.viewos.core.api.FileSystemType;
import org.viewos.core.api.FuseConnection;
import org.viewos.core.api.FuseTransport;
import org.viewos.core.api.ViewModule;

/**
 * umfuse: real FUSE daemons serve file systems inside a view, with no /dev/fuse, no kernel mount and
 * no root. The core's {@link FuseTransport} starts the daemon on a socketpair; this module plays
 * the kernel's side of the protocol ({@link FuseSession}) and shows the result through a shadow tree
 * ({@link FuseFs}): {@code viewmount -t umfusesquashfs IMAGE DIR} (squashfuse), {@code -t umfuseext2 [-o ro]}
 * (fuse2fs, read-write), zip, archive, iso9660 and fat images read-only, {@code -t umfuse -o cmd=...}.
 */
@Component(service = {ViewModule.class, FileSystemType.class},
        property = {ViewModule.NAME_PROPERTY + "=umfuse", "viewos.fstype=" + DevFuse.TYPE,
            FileSystemType.AUTOMOUNT_PROPERTY + "=none /dev/fuse"})
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
        return "FUSE file systems without /dev/fuse (squashfs, ext2/3/4 read-write, zip, archive, iso9660, fat;"
                + " -o cmd= any FUSE program)";
    }

    /** A file system type served by a Debian FUSE daemon. */
    private record Kind(String program, boolean libfuse2, boolean canWrite) {
    }

    private static final Map<String, Kind> KINDS = Map.of(
            "umfusesquashfs", new Kind("squashfuse", false, false),
            "umfusessh", new Kind("sshfs", false, true),
            "umfuseext2", new Kind("fuse2fs", true, true),
            "umfuseext3", new Kind("fuse2fs", true, true),
            "umfuseext4", new Kind("fuse2fs", true, true),
            "umfusezip", new Kind("fuse-zip", true, false),
            "umfusearchive", new Kind("archivemount", true, false),
            "umfuseiso9660", new Kind("fuseiso", true, false),
            "umfusefat", new Kind("fusefat", true, false));

    @Override
    public boolean handles(String fstype) {
        return fstype.equals("umfuse") || KINDS.containsKey(fstype) || programType(fstype) || fstype.equals(DevFuse.TYPE);
    }

    @Override
    public FileSystem mount(String source, String target, String fstype, Map<String, String> options) throws Errno {
        if (fstype.equals(DevFuse.TYPE)) {
            return new DevFuse(transport);
        }
        if (programType(fstype)) {
            return mountProgram(source, target, fstype, options);
        }
        Kind kind = KINDS.get(fstype);
        boolean ssh = kind != null && kind.program().equals("sshfs");
        List<String> passed = new java.util.ArrayList<>(); // sshfs's own options (port=, IdentityFile=, ssh_command=...)
        for (Map.Entry<String, String> e : options.entrySet()) {
            String o = e.getKey();
            boolean offset = o.equals("offset") && kind != null && kind.program().equals("fuse2fs");
            if (ssh && !COMMON_OPTIONS.contains(o)) {
                if (!o.matches("[A-Za-z][A-Za-z0-9_]*") || e.getValue().contains(":") && !o.equals("ssh_command")) {
                    throw new Errno(Errno.EINVAL, "umfuse: " + fstype + ": bad option " + o);
                }
                passed.add(e.getValue().isEmpty() ? o : o + "=" + e.getValue());
            } else if (!COMMON_OPTIONS.contains(o) && !offset && !((o.equals("cmd") || o.equals("cmd2")) && kind == null)) {
                throw new Errno(Errno.EINVAL, "umfuse: " + fstype + ": unknown option " + o);
            }
        }
        int asUid = id(options, "fuseuid");
        int asGid = id(options, "fusegid");
        String offset = options.get("offset");
        if (offset != null && !offset.matches("[0-9]{1,18}")) {
            throw new Errno(Errno.EINVAL, "umfuse: bad offset '" + offset + "'");
        }
        if (options.containsKey("ro") && options.containsKey("rw")) {
            throw new Errno(Errno.EINVAL, "umfuse: ro or rw, not both");
        }
        if (kind != null && !kind.canWrite() && options.containsKey("rw")) {
            throw new Errno(Errno.EINVAL, "umfuse: " + fstype + " is read-only here");
        }
        if (kind == null && options.containsKey("cmd") == options.containsKey("cmd2")) {
            throw new Errno(Errno.EINVAL, "umfuse: -t umfuse needs -o cmd='PROGRAM ... %S %M' (libfuse3)"
                    + " or -o cmd2='PROGRAM ... %S %M' (libfuse2)");
        }
        boolean libfuse2 = kind != null ? kind.libfuse2() : options.containsKey("cmd2");
        boolean readOnly = kind != null ? !kind.canWrite() || options.containsKey("ro") : !options.containsKey("rw");
        if (ssh) {
            if (source == null || !source.matches("[^/:\\s]+:.*")) {
                throw new Errno(Errno.EINVAL, "umfuse: " + fstype + " needs [user@]host:[dir] as its source");
            }
        } else if (kind != null) {
            image(fstype, source);
        }
        Path dir = mountDir();
        FuseSession s = null;
        String what = kind != null ? kind.program() + " " + source : fstype;
        try {
            String mnt = libfuse2 ? Shadow.iso(Files.createDirectory(dir.resolve("mnt"))) : "/dev/fd/" + DAEMON_FD;
            List<String> argv = ssh ? sshfs(source, mnt, readOnly, passed)
                    : kind != null ? daemon(kind, source, mnt, readOnly, offset)
                    : command(options.get(libfuse2 ? "cmd2" : "cmd"), source, mnt);
            what = argv.get(0) + " " + source;
            if (libfuse2) {
                argv = withFusermount(argv);
            }
            Path log = dir.resolve("daemon.log");
            FuseConnection c = transport.start(argv, DAEMON_FD, log.toString());
            s = new FuseSession(c, what, TIMEOUT_MILLIS, uid(), gid());
            if (options.containsKey("debug")) {
                s.debug();
            }
            s.claim(asUid, asGid);
            return serve(s, dir, log, what, readOnly, target, options.get("except"), options.containsKey("merge"));
        } catch (Errno e) {
            if (s != null) {
                s.close();
            }
            Shadow.deleteTree(dir);
            throw e;
        } catch (IOException | RuntimeException e) {
            if (s != null) {
                s.close();
            }
            Shadow.deleteTree(dir);
            throw new Errno(Errno.EIO, what + ": " + e);
        }
    }

    /**
     * The file system a session serves once it has spoken INIT: the shadow tree, except= holes.
     * On failure the session is closed; the caller removes {@code dir}.
     */
    private FileSystem serve(FuseSession s, Path dir, Path log, String what, boolean readOnly, String target,
            String except, boolean merge) throws Errno {
        try {
            s.handshake();
        } catch (Errno e) {
            s.close(); // waits for the daemon to end, so its last words are in the log
            throw new Errno(Errno.EIO, what + " failed at INIT" + (log != null ? logTail(log, e) : ": " + e.getMessage()));
        }
        Fuse.Attr rootAttr = s.getattr(1);
        if (!rootAttr.isDir()) {
            throw new Errno(Errno.EIO, what + ": root is not a directory");
        }
        boolean asRoot = uid() == 0;
        FuseFs[] self = new FuseFs[1];
        FuseFs fs = new FuseFs(s, Shadow.iso(dir) + "/root", rootAttr, asRoot, readOnly, what, () -> {
            synchronized (live) {
                live.remove(self[0]);
            }
            Shadow.deleteTree(dir);
        });
        self[0] = fs;
        if (merge) {
            fs.merge();
        }
        synchronized (live) {
            live.add(fs);
        }
        try {
            return Except.wrap(fs, target, except);
        } catch (Errno e) {
            fs.unmount();
            throw e;
        }
    }

    /** A new private directory of one mount (its shadow tree, the daemon's log and mountpoint). */
    private Path mountDir() throws Errno {
        try {
            return Files.createDirectory(Shadow.path(cacheDir() + "/m" + mounts.incrementAndGet()),
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        } catch (IOException e) {
            throw Shadow.errno(e, "mount directory");
        }
    }

    /** Options every image type takes (umview's names): see the README's umfuse section. */
    private static final java.util.Set<String> COMMON_OPTIONS = java.util.Set.of("ro", "rw", "except", "merge", "debug",
            "fuseuid", "fusegid");

    /** fuseuid=/fusegid=: the id every request claims, or -1 when not given (each request's own). */
    private static int id(Map<String, String> options, String key) throws Errno {
        String v = options.get(key);
        if (v == null) {
            return -1;
        }
        if (!v.matches("[0-9]{1,9}")) {
            throw new Errno(Errno.EINVAL, "umfuse: bad " + key + "=" + v);
        }
        return Integer.parseInt(v);
    }


    /** Types a FUSE program's own mount(2) uses: fuse, fuseblk, fuse.SUBTYPE. */
    static boolean programType(String fstype) {
        return fstype.equals("fuse") || fstype.equals("fuseblk") || fstype.startsWith("fuse.");
    }

    /** Options libfuse passes to mount(2) (besides fd=, which the core turned into viewos.socket=). */
    private static final java.util.Set<String> PROGRAM_OPTIONS = java.util.Set.of("fd", "viewos.socket", "rootmode",
            "user_id", "group_id", "allow_other", "default_permissions", "max_read", "blksize", "ro", "rw",
            "nosuid", "nodev", "noexec", "noatime", "relatime", "except");

    /**
     * mount(2) by a FUSE program running in the view ({@code squashfuse img mnt}, {@code fuse2fs img
     * mnt}): its /dev/fuse is a socket the core connected to one of ours (see {@link DevFuse}). The
     * program is inside mount(2) now and reads INIT only after it returns, so the handshake (and
     * everything else) waits for the first call that needs the mount.
     */
    private FileSystem mountProgram(String source, String target, String fstype, Map<String, String> options)
            throws Errno {
        for (String o : options.keySet()) {
            if (!PROGRAM_OPTIONS.contains(o)) {
                throw new Errno(Errno.EINVAL, "umfuse: " + fstype + ": unknown option " + o);
            }
        }
        if (!options.containsKey("fd")) {
            throw new Errno(Errno.EINVAL, "umfuse: " + fstype + " is the type FUSE programs mount with: fd= missing");
        }
        String socket = options.get("viewos.socket");
        if (socket == null) {
            throw new Errno(Errno.EINVAL, "umfuse: fd=" + options.get("fd") + " is not a /dev/fuse of this view");
        }
        FuseConnection c = transport.accept(socket);
        Path dir;
        try {
            dir = mountDir();
        } catch (Errno e) {
            c.close();
            throw e;
        }
        String what = fstype + " " + source;
        FuseSession s = new FuseSession(c, what, TIMEOUT_MILLIS, uid(), gid());
        boolean readOnly = options.containsKey("ro");
        return new Deferred(() -> {
            try {
                return serve(s, dir, null, what, readOnly, target, options.get("except"), false);
            } catch (Errno | RuntimeException e) {
                s.close();
                Shadow.deleteTree(dir);
                throw e;
            }
        }, () -> {
            s.close();
            Shadow.deleteTree(dir);
        });
    }

    /** The descriptor the daemon gets as its /dev/fuse (a libfuse3 daemon takes "/dev/fd/3" as mountpoint). */
    private static final int DAEMON_FD = 3;

    /** An image file must exist (and be no directory). */
    private static void image(String fstype, String source) throws Errno {
        if (source == null || source.isEmpty() || source.equals("none")) {
            throw new Errno(Errno.EINVAL, "umfuse: " + fstype + " needs an image");
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
    }

    /** sshfs (libfuse3) on HOST:DIR, in the foreground, with the user's sshfs options. */
    private static List<String> sshfs(String source, String mnt, boolean readOnly, List<String> passed) {
        List<String> a = new java.util.ArrayList<>(List.of("sshfs", "-f", source, mnt));
        List<String> o = new java.util.ArrayList<>(passed);
        if (readOnly) {
            o.add("ro");
        }
        if (!o.isEmpty()) {
            a.addAll(List.of("-o", String.join(",", o)));
        }
        return a;
    }

    /** The daemon's command line, in the foreground; libfuse2 ones on MNT (an empty private directory). */
    private static List<String> daemon(Kind kind, String image, String mnt, boolean readOnly, String offset) {
        List<String> a = new java.util.ArrayList<>();
        a.add(kind.program());
        switch (kind.program()) {
            case "squashfuse":
                a.addAll(List.of("-f", image, mnt));
                break;
            case "fuse2fs":
                // offset=: a partition of a disk image (a umdev device as the mount source)
                a.addAll(List.of(image, mnt, "-f", "-o", LIBFUSE2_OPTS + (readOnly ? ",ro" : "")
                        + (offset != null ? ",offset=" + offset : "")));
                break;
            case "fuse-zip":
                a.addAll(List.of("-f", "-r", "-o", LIBFUSE2_OPTS, image, mnt));
                break;
            case "archivemount":
                a.addAll(List.of("-f", "-o", LIBFUSE2_OPTS + ",readonly", image, mnt));
                break;
            case "fuseiso":
                a.addAll(List.of("-n", image, mnt, "-f", "-o", LIBFUSE2_OPTS));
                break;
            default: // fusefat: asks for ro (or rw+, "if you accept the risk")
                a.addAll(List.of("-f", "-o", LIBFUSE2_OPTS + ",ro", image, mnt));
                break;
        }
        return a;
    }

    /**
     * libfuse2 mounts through fusermount only with auto_unmount (else it wants /dev/fuse itself);
     * big_writes lets it take 128 KiB writes.
     */
    private static final String LIBFUSE2_OPTS = "auto_unmount,big_writes";

    /**
     * A libfuse2 daemon runs {@code /bin/fusermount} (the path is compiled into libfuse.so.2) to get
     * its /dev/fuse descriptor. It is started in a private mount namespace (unshare; a user namespace
     * too when not root) where the module's stand-in is bound over /bin/fusermount: the stand-in
     * passes the daemon's fd 3, our socketpair end, back over _FUSE_COMMFD. Nothing outside the
     * daemon sees the bind mount.
     */
    private List<String> withFusermount(List<String> argv) throws Errno {
        List<String> a = new java.util.ArrayList<>(List.of("unshare"));
        if (uid() != 0) {
            a.addAll(List.of("--user", "--map-root-user"));
        }
        a.addAll(List.of("--mount", "--propagation", "private", "/bin/sh", "-c",
                "mount --bind \"$1\" /bin/fusermount && shift && exec \"$@\"", "sh", standIn()));
        a.addAll(argv);
        return a;
    }

    /** The stand-in fusermount, unpacked from the bundle into the module's private directory. */
    private synchronized String standIn() throws Errno {
        Path f = Shadow.path(cacheDir() + "/fusermount");
        if (!Files.exists(f)) {
            try (java.io.InputStream in = UmFuse.class.getResourceAsStream("fusermount")) {
                if (in == null) {
                    throw new Errno(Errno.EIO, "umfuse: the fusermount stand-in is missing from the bundle");
                }
                Files.copy(in, f);
                Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rwxr-xr-x"));
            } catch (IOException e) {
                throw Shadow.errno(e, "fusermount stand-in");
            }
        }
        return Shadow.iso(f);
    }

    /**
     * {@code -o cmd='PROGRAM ARGS'} (libfuse3) or {@code -o cmd2=...} (libfuse2): any FUSE program,
     * words split at blanks, {@code %S} the source and {@code %M} the mountpoint it must use
     * (/dev/fd/3 for libfuse3; an empty directory for libfuse2, which fusermount "mounts"). Run it in
     * the foreground (usually {@code -f}; libfuse2 ones with {@code -o auto_unmount}); a mount option
     * string cannot hold commas.
     */
    private static List<String> command(String template, String source, String mnt) throws Errno {
        if (template == null || template.isBlank()) {
            throw new Errno(Errno.EINVAL, "umfuse: -t umfuse needs -o cmd='PROGRAM ... %S %M'");
        }
        List<String> argv = new java.util.ArrayList<>();
        boolean mountpoint = false;
        for (String w : template.strip().split("\\s+")) {
            mountpoint |= w.contains("%M");
            argv.add(w.replace("%S", source == null ? "" : source).replace("%M", mnt));
        }
        if (!mountpoint) {
            throw new Errno(Errno.EINVAL, "umfuse: cmd must name the mountpoint as %M");
        }
        return argv;
    }

    /** ": LAST TWO LOG LINES" of the daemon (on one line), or the error when it said nothing. */
    private static String logTail(Path log, Errno e) {
        try {
            List<String> lines = Files.readAllLines(log, java.nio.charset.StandardCharsets.ISO_8859_1);
            List<String> last = new java.util.ArrayList<>();
            for (int i = lines.size() - 1; i >= 0 && last.size() < 2; i--) {
                String l = lines.get(i).strip();
                if (!l.isEmpty() && !l.startsWith("fuse: failed to unmount")) {
                    last.add(0, l);
                }
            }
            if (!last.isEmpty()) {
                return ": " + String.join(" ", last);
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

    /** The module's private directory (see {@link ModuleDirs}), made on first use. */
    private synchronized String cacheDir() throws Errno {
        if (cacheDir == null) {
            try {
                cacheDir = Shadow.iso(ModuleDirs.create("umfuse"));
            } catch (IOException e) {
                throw Shadow.errno(e, "its private directory");
            }
        }
        return cacheDir;
    }

    /**
     * The launcher exits soon after the view ends (it gives the framework about a second to stop):
     * a JVM shutdown hook makes sure every writable mount is written back and its daemon has stored
     * everything (DESTROY) first. Removed when the module goes.
     */
    private final Thread flushAtExit = new Thread(this::closeAll, "umfuse-flush-at-exit");

    @Activate
    void activate() {
        Runtime.getRuntime().addShutdownHook(flushAtExit);
    }

    private void closeAll() {
        List<FuseFs> all;
        synchronized (live) {
            all = List.copyOf(live);
        }
        all.forEach(FuseFs::close);
    }

    @Deactivate
    void deactivate() {
        closeAll();
        try {
            Runtime.getRuntime().removeShutdownHook(flushAtExit);
        } catch (IllegalStateException e) {
            // the JVM is exiting: the hook runs (and finds nothing left)
        }
        String c = cacheDir;
        if (c != null) {
            Shadow.deleteTree(Shadow.path(c));
        }
    }
}
