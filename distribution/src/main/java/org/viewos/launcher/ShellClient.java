package org.viewos.launcher;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code viewos --shell [NAME]}: connects this terminal (or pipe) to the Gogo shell of a running view.
 * The views of a user are sockets {@code PID.sock} (with {@code PID.name}) in the private directory
 * the core's ShellServer keeps; NAME is a view name or a daemon pid.
 */
final class ShellClient {
    private ShellClient() {
    }

    static int attach(String view) throws Main.Failure {
        Path dir = directory();
        List<Path> matches = new ArrayList<>();
        List<String> known = new ArrayList<>();
        try (var s = Files.list(dir)) {
            for (Path p : (Iterable<Path>) s::iterator) {
                String f = p.getFileName().toString();
                if (!f.endsWith(".sock")) {
                    continue;
                }
                String pid = f.substring(0, f.length() - 5);
                if (!Files.exists(Path.of("/proc", pid))) {
                    continue;
                }
                Path n = dir.resolve(pid + ".name");
                String name = Files.exists(n) ? Files.readString(n).strip() : "";
                known.add(pid + (name.isEmpty() ? "" : " (" + name + ")"));
                if (view == null || view.equals(pid) || view.equals(name)) {
                    matches.add(p);
                }
            }
        } catch (IOException e) {
            throw new Main.Failure(1, "no running view (" + e.getMessage() + ")");
        }
        if (matches.isEmpty()) {
            throw new Main.Failure(1, (view == null ? "no running view" : "no running view named " + view)
                    + (known.isEmpty() ? "" : "; running: " + String.join(", ", known)));
        }
        if (matches.size() > 1) {
            throw new Main.Failure(2, "several views are running, name one: " + String.join(", ", known));
        }
        try (SocketChannel c = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            c.connect(UnixDomainSocketAddress.of(matches.get(0)));
            // Channel read and write have separate locks; the Channels stream adapters share one and
            // would deadlock a reader and a writer on the same blocking channel.
            if (System.console() != null) {
                writeFully(c, "#interactive\n".getBytes(StandardCharsets.UTF_8), 14);
            }
            Thread pump = new Thread(() -> {
                byte[] b = new byte[8192];
                try {
                    for (int n; (n = System.in.read(b)) > 0; ) {
                        writeFully(c, b, n);
                    }
                    c.shutdownOutput();
                } catch (IOException e) {
                    // the view went away; the reader below ends too
                }
            }, "viewos-shell-input");
            pump.setDaemon(true);
            pump.start();
            ByteBuffer buf = ByteBuffer.allocate(8192);
            while (c.read(buf) > 0) {
                System.out.write(buf.array(), 0, buf.position());
                System.out.flush();
                buf.clear();
            }
            return 0;
        } catch (IOException e) {
            throw new Main.Failure(1, "cannot attach to the view: " + e.getMessage());
        }
    }

    private static void writeFully(SocketChannel c, byte[] b, int n) throws IOException {
        ByteBuffer bb = ByteBuffer.wrap(b, 0, n);
        while (bb.hasRemaining()) {
            c.write(bb);
        }
    }

    /** Where ShellServer keeps the sockets (same rule: $XDG_RUNTIME_DIR or /tmp, viewos-UID). */
    private static Path directory() throws Main.Failure {
        String base = System.getenv("XDG_RUNTIME_DIR");
        if (base == null || !Files.isDirectory(Path.of(base))) {
            base = "/tmp";
        }
        try {
            Object uid = Files.getAttribute(Path.of("/proc/self"), "unix:uid");
            return Path.of(base, "viewos-" + uid);
        } catch (IOException e) {
            throw new Main.Failure(1, "cannot find my uid: " + e.getMessage());
        }
    }
}
