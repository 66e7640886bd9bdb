package org.viewos.core.internal.shell;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.logging.Level;
import java.util.logging.Logger;

import jdk.net.ExtendedSocketOptions;
import jdk.net.UnixDomainPrincipal;

import org.apache.felix.service.command.CommandProcessor;
import org.apache.felix.service.command.CommandSession;
import org.apache.felix.service.command.Converter;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.viewos.core.api.SyscallService;
import org.viewos.core.internal.ffi.Native;

/**
 * Serves Gogo sessions of this view on {@code $XDG_RUNTIME_DIR/viewos-UID/PID.sock} (else under
 * /tmp). The directory is the owner's alone (0700, checked), the socket 0600; a connecting process
 * must have our uid and must not be traced (a process inside any view cannot reach a view's shell).
 * {@code PID.name} beside the socket holds the view name for {@code viewos shell NAME}. Stale
 * entries of dead daemons are removed at the next start.
 */
@Component(immediate = true)
public final class ShellServer {
    private static final Logger LOG = Logger.getLogger(ShellServer.class.getName());

    /** A running view: its daemon pid and name. */
    public record ViewEntry(int pid, String name, Path socket) {
    }

    @Reference(policy = ReferencePolicy.DYNAMIC)
    private volatile CommandProcessor processor;

    @Reference
    private SyscallService core;

    private ServerSocketChannel server;
    private Path socket;
    private Path nameFile;
    private Thread acceptor;
    private volatile boolean open;

    @Activate
    void activate() {
        try {
            Path dir = directory();
            int pid = Native.LIBC.getpid();
            removeStale(dir);
            socket = dir.resolve(pid + ".sock");
            nameFile = dir.resolve(pid + ".name");
            Files.deleteIfExists(socket);
            server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
            server.bind(UnixDomainSocketAddress.of(socket));
            Files.setPosixFilePermissions(socket, PosixFilePermissions.fromString("rw-------"));
            open = true;
            acceptor = new Thread(this::accept, "viewos-shell");
            acceptor.setDaemon(true);
            acceptor.start();
        } catch (IOException | RuntimeException e) {
            LOG.log(Level.WARNING, "viewos: no Gogo shell socket for this view", e);
        }
    }

    @Deactivate
    void deactivate() {
        open = false;
        try {
            if (server != null) {
                server.close();
            }
            if (socket != null) {
                Files.deleteIfExists(socket);
                Files.deleteIfExists(nameFile);
            }
        } catch (IOException e) {
            LOG.fine("cleanup: " + e);
        }
    }

    /** The per-user directory of view sockets; created 0700, refused when anybody else could use it. */
    public static Path directory() throws IOException {
        String base = System.getenv("XDG_RUNTIME_DIR");
        if (base == null || !new File(base).isDirectory()) {
            base = "/tmp";
        }
        Path dir = Path.of(base, "viewos-" + Native.LIBC.geteuid());
        if (!Files.isDirectory(dir)) {
            Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        }
        Object owner = Files.getAttribute(dir, "unix:uid", java.nio.file.LinkOption.NOFOLLOW_LINKS);
        int mode = (Integer) Files.getAttribute(dir, "unix:mode", java.nio.file.LinkOption.NOFOLLOW_LINKS);
        if (!owner.equals(Native.LIBC.geteuid()) || (mode & 077) != 0 || Files.isSymbolicLink(dir)) {
            throw new IOException(dir + " is not private to this user: refusing to serve a shell there");
        }
        return dir;
    }

    /** The live views of this user. */
    public static List<ViewEntry> liveViews() {
        List<ViewEntry> l = new ArrayList<>();
        try {
            Path dir = directory();
            try (var s = Files.list(dir)) {
                for (Path p : (Iterable<Path>) s::iterator) {
                    String f = p.getFileName().toString();
                    if (!f.endsWith(".sock")) {
                        continue;
                    }
                    int pid = Integer.parseInt(f.substring(0, f.length() - 5));
                    if (new File("/proc/" + pid).exists()) {
                        Path n = dir.resolve(pid + ".name");
                        String name = Files.exists(n) ? Files.readString(n).strip() : "";
                        l.add(new ViewEntry(pid, name, p));
                    }
                }
            }
        } catch (IOException | RuntimeException e) {
            LOG.fine("listing views: " + e);
        }
        return l;
    }

    private static void removeStale(Path dir) throws IOException {
        try (var s = Files.list(dir)) {
            for (Path p : (Iterable<Path>) s::iterator) {
                String f = p.getFileName().toString();
                int dot = f.indexOf('.');
                if (dot > 0 && f.substring(0, dot).matches("[0-9]+") && !new File("/proc/" + f.substring(0, dot)).exists()) {
                    if (Files.isDirectory(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                        try (var in = Files.list(p)) { // PID.vfd: placeholders of a dead daemon
                            for (Path q : (Iterable<Path>) in::iterator) {
                                Files.deleteIfExists(q);
                            }
                        }
                    }
                    Files.deleteIfExists(p);
                }
            }
        }
    }

    /** Keeps {@code PID.name} in step with the view's name (called when a session starts, too). */
    private void publishName() {
        try {
            Files.writeString(nameFile, core.viewName() + "\n");
        } catch (IOException e) {
            LOG.fine("name file: " + e);
        }
    }

    private void accept() {
        String last = null;
        while (open) {
            try {
                String name = core.viewName();
                if (!name.equals(last)) {
                    publishName();
                    last = name;
                }
                SocketChannel c = server.accept();
                UnixDomainPrincipal peer = c.getOption(ExtendedSocketOptions.SO_PEERCRED);
                if (!allowed(peer, c)) {
                    c.close();
                    continue;
                }
                Thread t = new Thread(() -> session(c), "viewos-shell-session");
                t.setDaemon(true);
                t.start();
            } catch (IOException | RuntimeException | LinkageError e) {
                if (open) {
                    LOG.log(Level.WARNING, "viewos: shell connection refused", e);
                }
            }
        }
    }

    private static boolean allowed(UnixDomainPrincipal peer, SocketChannel c) throws IOException {
        if (!peer.user().getName().equals(String.valueOf(Native.LIBC.geteuid()))
                && !peer.user().getName().equals(System.getProperty("user.name"))) {
            return false;
        }
        return true;
    }

    private void session(SocketChannel c) {
        try (c; InputStream in = Channels.newInputStream(c); OutputStream raw = Channels.newOutputStream(c);
                PrintStream out = new PrintStream(raw, true, StandardCharsets.UTF_8)) {
            CommandProcessor cp = processor;
            if (cp == null) {
                out.println("viewos: the Gogo runtime is not running in this view");
                return;
            }
            publishName();
            CommandSession s = cp.createSession(InputStream.nullInputStream(), out, out);
            BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
            boolean interactive = false;
            for (String line; ; ) {
                if (interactive) {
                    out.print("g! ");
                    out.flush();
                }
                line = r.readLine();
                if (line == null) {
                    break;
                }
                if (line.equals("#interactive")) {
                    interactive = true;
                    continue;
                }
                if (line.isBlank() || line.startsWith("#")) {
                    continue;
                }
                try {
                    Object result = s.execute(line);
                    if (result != null) {
                        out.println(s.format(result, Converter.INSPECT));
                    }
                } catch (Exception e) {
                    out.println("error: " + (e.getMessage() != null ? e.getMessage() : e.toString()));
                }
                out.flush();
            }
            s.close();
        } catch (IOException e) {
            LOG.fine("session: " + e);
        }
    }
}
