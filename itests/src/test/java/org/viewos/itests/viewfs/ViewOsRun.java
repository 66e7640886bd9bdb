package org.viewos.itests.viewfs;

import static org.junit.Assert.assertEquals;
import static org.junit.Assume.assumeTrue;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Runs the real launcher ({@code ${viewos.home}/bin/viewos}) or a native command as an external
 * process, stdout and stderr into files (never Surefire's fd 1), stdin from /dev/null.
 */
final class ViewOsRun {
    static final Path HOME = Path.of(System.getProperty("viewos.home", "../distribution/target/viewos")).toAbsolutePath();
    static final Path VIEWOS = HOME.resolve("bin/viewos");

    /** What a command did. */
    record Result(int status, String out, String err, List<String> argv) {
        Result ok() {
            assertEquals("exit status of " + argv + "\nstdout:\n" + out + "\nstderr:\n" + err, 0, status);
            return this;
        }

        @Override
        public String toString() {
            return argv + " -> " + status + "\nstdout:\n" + out + "\nstderr:\n" + err;
        }
    }

    private ViewOsRun() {
    }

    static Path workDir(String name) throws IOException {
        Path base = Path.of(System.getProperty("viewos.testdir", "target/work")).toAbsolutePath().resolve("viewfs");
        Path d = base.resolve(name);
        deleteTree(d);
        Files.createDirectories(d);
        return d;
    }

    /** {@code viewos ARGS...}. */
    static Result viewos(Path dir, String... args) throws IOException, InterruptedException {
        List<String> argv = new ArrayList<>();
        argv.add(VIEWOS.toString());
        argv.add("-x");
        argv.addAll(Arrays.asList(args));
        return exec(dir, argv);
    }

    /** {@code viewos -p viewfs bash -c SCRIPT}. */
    static Result shell(Path dir, String script) throws IOException, InterruptedException {
        return viewos(dir, "-p", "viewfs", "bash", "-c", "set -e\n" + script);
    }

    /** A native run. */
    static Result nativeRun(Path dir, String... argv) throws IOException, InterruptedException {
        return exec(dir, Arrays.asList(argv));
    }

    static Result exec(Path dir, List<String> argv) throws IOException, InterruptedException {
        Path out = Files.createTempFile(dir, "out", ".txt");
        Path err = Files.createTempFile(dir, "err", ".txt");
        try {
            Process p = new ProcessBuilder(argv).directory(dir.toFile()).redirectInput(new File("/dev/null"))
                    .redirectOutput(out.toFile()).redirectError(err.toFile()).start();
            if (!p.waitFor(180, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                p.waitFor();
                throw new AssertionError("timed out after 180 s: " + argv + "\nstderr: " + Files.readString(err));
            }
            return new Result(p.exitValue(), Files.readString(out, StandardCharsets.ISO_8859_1),
                    Files.readString(err, StandardCharsets.ISO_8859_1), argv);
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }

    static void assumeTool(String tool) {
        boolean found = false;
        for (String d : System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(":")) {
            if (!d.isEmpty() && Files.isExecutable(Path.of(d, tool))) {
                found = true;
            }
        }
        assumeTrue(tool + " is not installed (./run-tests installs it)", found);
    }

    static void assumeViewos() {
        assumeTrue("no distribution at " + VIEWOS + " (mvn package first)", Files.isExecutable(VIEWOS));
    }

    static void write(Path p, String text) throws IOException {
        Files.createDirectories(p.getParent());
        Files.writeString(p, text);
    }

    /** A checksum listing of a tree: path, type, mode, size, content hash / link target. */
    static String checksums(Path root) throws IOException {
        TreeMap<String, String> m = new TreeMap<>();
        try (Stream<Path> s = Files.walk(root)) {
            for (Path p : (Iterable<Path>) s::iterator) {
                String rel = root.relativize(p).toString();
                Object mode = Files.getAttribute(p, "unix:mode", java.nio.file.LinkOption.NOFOLLOW_LINKS);
                String what;
                if (Files.isSymbolicLink(p)) {
                    what = "link " + Files.readSymbolicLink(p);
                } else if (Files.isDirectory(p)) {
                    what = "dir";
                } else if (Files.isRegularFile(p)) {
                    what = "file " + sha(Files.readAllBytes(p));
                } else {
                    what = "other";
                }
                Object mtime = Files.isSymbolicLink(p) ? "" : Files.getLastModifiedTime(p).toMillis();
                m.put(rel, what + " " + Integer.toOctalString((Integer) mode) + " " + mtime);
            }
        }
        StringBuilder sb = new StringBuilder();
        m.forEach((k, v) -> sb.append(k).append(' ').append(v).append('\n'));
        return sb.toString();
    }

    private static String sha(byte[] b) {
        try {
            byte[] d = MessageDigest.getInstance("SHA-256").digest(b);
            StringBuilder sb = new StringBuilder();
            for (int i = 0; i < 8; i++) {
                sb.append(String.format("%02x", d[i]));
            }
            return sb.toString();
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    static void deleteTree(Path p) throws IOException {
        if (!Files.exists(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        try (Stream<Path> s = Files.walk(p)) {
            s.sorted((a, b) -> b.getNameCount() - a.getNameCount()).forEach(x -> {
                try {
                    Files.deleteIfExists(x);
                } catch (IOException e) {
                    // best effort
                }
            });
        }
    }
}
