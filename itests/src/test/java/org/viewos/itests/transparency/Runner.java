package org.viewos.itests.transparency;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.fail;

import java.io.File;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * Runs one command natively and under the View-OS launcher, with identical conditions, and
 * compares what can be observed from outside: exit status, stdout, stderr.
 *
 * <p>Identical conditions: both runs use the same working directory path (a fresh directory per
 * test, wiped and re-populated by the case's setup script before each run), the same environment
 * (the JVM's plus a few fixed locale/timezone variables), the same stdin, and the same paths for
 * the stdout/stderr capture files. stdout and stderr always go to FILES, never to the surefire
 * JVM's own fd 1/2: a traced child writing into surefire's channel would corrupt it.
 *
 * <p>The launcher is {@code ${viewos.home}/bin/viewos}, or the command prefix given by the system
 * property {@code viewos.launcher} (split on spaces), e.g. {@code strace -f -qq -o /dev/null},
 * which is an interceptor too and must pass every test. A missing launcher is a test FAILURE:
 * the distribution is part of the build.
 *
 * <p>Every process started here gets the environment variable {@link #TOKEN_VAR} with a value
 * unique to this JVM, so a test can prove a pid belongs to a process it started before it
 * signals it ({@link #startedByUs}).
 */
final class Runner {

    static final String TOKEN_VAR = "VIEWOS_ITEST_TOKEN";
    static final String TOKEN = UUID.randomUUID().toString();
    static final long DEFAULT_TIMEOUT_SECONDS = 120;

    enum Mode { NATIVE, VIEW }

    /** Observable outcome of one run. */
    static final class Result {
        final Mode mode;
        final int exit;
        final String stdout;
        final String stderr;

        Result(Mode mode, int exit, String stdout, String stderr) {
            this.mode = mode; this.exit = exit; this.stdout = stdout; this.stderr = stderr;
        }

        @Override public String toString() {
            return mode + " exit=" + exit + "\n--- stdout ---\n" + clip(stdout) + "--- stderr ---\n" + clip(stderr);
        }

        private static String clip(String s) {
            return s.length() > 4000 ? s.substring(0, 4000) + "\n...[" + s.length() + " chars]\n" : s;
        }
    }

    /** Native and view results of one case. */
    static final class Pair {
        final Result nat;
        final Result view;
        Pair(Result nat, Result view) { this.nat = nat; this.view = view; }
    }

    /** Which streams must agree. */
    enum Stderr { COMPARE, IGNORE }

    /** What to run and how; immutable-ish builder. */
    static final class Case {
        final List<String> argv;
        String wrap;                      // optional sh script around "$@" (the possibly-launched argv)
        String setup;                     // optional sh script run natively in cwd before each run
        byte[] stdinBytes;                // fed through a pipe
        String stdinFile;                 // relative to cwd, or absolute
        final Map<String, String> env = new LinkedHashMap<>();
        long timeoutSeconds = DEFAULT_TIMEOUT_SECONDS;
        Stderr stderr = Stderr.COMPARE;
        UnaryOperator<String> normalize = UnaryOperator.identity();

        private Case(List<String> argv) { this.argv = argv; }

        static Case of(String... argv) { return new Case(Arrays.asList(argv)); }
        /** {@code sh -c script} as the command (the shell itself runs inside the view). */
        static Case sh(String script) { return of("/bin/sh", "-c", script); }
        static Case bash(String script) { return of("/bin/bash", "-c", script); }

        /** Runs {@code script} (with the command as "$@") around the command, outside the view. */
        Case wrap(String script) { this.wrap = script; return this; }
        Case setup(String script) { this.setup = script; return this; }
        Case stdin(byte[] bytes) { this.stdinBytes = bytes; return this; }
        Case stdin(String text) { return stdin(text.getBytes(StandardCharsets.UTF_8)); }
        Case stdinFile(String path) { this.stdinFile = path; return this; }
        Case env(String k, String v) { env.put(k, v); return this; }
        Case timeout(long seconds) { this.timeoutSeconds = seconds; return this; }
        Case ignoreStderr() { this.stderr = Stderr.IGNORE; return this; }
        /** Applied to stdout and stderr of both runs; say in the caller why it is legitimate. */
        Case normalize(UnaryOperator<String> n) { this.normalize = n; return this; }
    }

    /** A started, not yet finished process (for tests that signal it from outside). */
    final class Started {
        final Process process;
        final Mode mode;
        final Case c;
        final long deadlineNanos;

        Started(Process process, Mode mode, Case c) {
            this.process = process; this.mode = mode; this.c = c;
            this.deadlineNanos = System.nanoTime() + TimeUnit.SECONDS.toNanos(c.timeoutSeconds);
        }

        Result finish() {
            try {
                long left = deadlineNanos - System.nanoTime();
                if (!process.waitFor(Math.max(left, 0), TimeUnit.NANOSECONDS)) {
                    killTree(process);
                    fail(mode + " run timed out after " + c.timeoutSeconds + " s: " + describe(c)
                            + "\nstdout so far:\n" + read(stdoutFile()) + "\nstderr so far:\n" + read(stderrFile()));
                }
            } catch (InterruptedException e) {
                killTree(process);
                Thread.currentThread().interrupt();
                throw new AssertionError("interrupted", e);
            }
            return new Result(mode, process.exitValue(),
                    c.normalize.apply(read(stdoutFile())), c.normalize.apply(read(stderrFile())));
        }
    }

    private final Path base;       // per-test directory: cwd/ plus capture files
    private final Path cwd;
    private final List<String> launcher;
    private int cases;

    /**
     * @param testName unique per test method; becomes the directory under viewos.testdir
     */
    Runner(String testName) {
        this.launcher = launcher();
        Path testdir = Paths.get(System.getProperty("viewos.testdir", "target/work")).toAbsolutePath();
        this.base = testdir.resolve("transparency").resolve(testName.replaceAll("[^A-Za-z0-9_.-]", "_"));
        this.cwd = base.resolve("cwd");
        try {
            deleteTree(base);
            Files.createDirectories(cwd);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The launcher command prefix; fails the test when the distribution has no launcher. */
    static List<String> launcher() {
        String override = System.getProperty("viewos.launcher", "").trim();
        if (!override.isEmpty()) return Arrays.asList(override.split("\\s+"));
        String home = System.getProperty("viewos.home");
        if (home == null) fail("system property viewos.home is not set (run through Maven, or pass -Dviewos.launcher=...)");
        Path bin = Paths.get(home, "bin", "viewos").toAbsolutePath().normalize();
        if (!Files.isExecutable(bin)) {
            fail("View-OS launcher " + bin + " does not exist or is not executable: build the distribution"
                    + " (mvn -B package -pl distribution -am), or run with -Dviewos.launcher='strace -f -qq -o /dev/null'"
                    + " to check the harness with a stand-in interceptor");
        }
        return List.of(bin.toString());
    }

    Path cwd() { return cwd; }
    Path base() { return base; }
    List<String> launcherPrefix() { return launcher; }

    /** Runs the case natively, then in the view, and returns both results. */
    Pair run(Case c) {
        int n = ++cases;
        Result nat = start(c, Mode.NATIVE).finish();
        keepCopy(n, c, nat);
        Result view = start(c, Mode.VIEW).finish();
        keepCopy(n, c, view);
        return new Pair(nat, view);
    }

    /** Runs both ways and asserts identical exit status, stdout and (unless ignored) stderr. */
    Pair assertSame(Case c) {
        Pair p = run(c);
        String ctx = describe(c) + "\n" + p.nat + "\n" + p.view;
        assertEquals("stdout differs: " + ctx, p.nat.stdout, p.view.stdout);
        if (c.stderr == Stderr.COMPARE) assertEquals("stderr differs: " + ctx, p.nat.stderr, p.view.stderr);
        assertEquals("exit status differs: " + ctx, p.nat.exit, p.view.exit);
        return p;
    }

    /** Starts one run (fresh cwd, setup, capture files); the caller must {@code finish()} it. */
    Started start(Case c, Mode mode) {
        try {
            resetCwd(c);
            List<String> cmd = new ArrayList<>();
            if (c.wrap != null) {
                cmd.addAll(List.of("/bin/sh", "-c", c.wrap, "sh"));
            }
            if (mode == Mode.VIEW) cmd.addAll(launcher);
            cmd.addAll(c.argv);
            ProcessBuilder pb = new ProcessBuilder(cmd).directory(cwd.toFile());
            environment(pb.environment(), c);
            Files.deleteIfExists(stdoutFile());
            Files.deleteIfExists(stderrFile());
            pb.redirectOutput(stdoutFile().toFile());
            pb.redirectError(stderrFile().toFile());
            if (c.stdinBytes != null) pb.redirectInput(ProcessBuilder.Redirect.PIPE);
            else if (c.stdinFile != null) pb.redirectInput(cwd.resolve(c.stdinFile).toFile());
            else pb.redirectInput(new File("/dev/null"));
            Process p = pb.start();
            Started s = new Started(p, mode, c);
            if (c.stdinBytes != null) feed(p, c.stdinBytes);
            return s;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start " + describe(c), e);
        }
    }

    /** Runs a helper command natively in the test's cwd (setup, inspection); fails on non-zero exit. */
    String nativeSh(String script) {
        try {
            Path out = base.resolve("helper.out");
            ProcessBuilder pb = new ProcessBuilder("/bin/sh", "-c", script).directory(cwd.toFile())
                    .redirectErrorStream(true).redirectOutput(out.toFile())
                    .redirectInput(new File("/dev/null"));
            environment(pb.environment(), null);
            Process p = pb.start();
            if (!p.waitFor(DEFAULT_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                killTree(p);
                fail("helper timed out: " + script);
            }
            String text = read(out);
            if (p.exitValue() != 0) fail("helper failed (exit " + p.exitValue() + "): " + script + "\n" + text);
            return text;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    /** True if /proc/PID/environ carries this JVM's token: the process descends from a run we started. */
    static boolean startedByUs(long pid) {
        try {
            byte[] env = Files.readAllBytes(Paths.get("/proc", Long.toString(pid), "environ"));
            String needle = TOKEN_VAR + "=" + TOKEN;
            for (String e : new String(env, StandardCharsets.UTF_8).split("\0")) if (e.equals(needle)) return true;
            return false;
        } catch (IOException e) {
            return false;
        }
    }

    /** Kills a process we started and all its descendants (children first, by pid). */
    static void killTree(Process p) {
        List<ProcessHandle> kids = p.descendants().collect(Collectors.toList());
        for (ProcessHandle h : kids) h.destroyForcibly();
        p.destroyForcibly();
        try {
            p.waitFor(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    // ---------------------------------------------------------------------------------------

    private Path stdoutFile() { return base.resolve("stdout"); }
    private Path stderrFile() { return base.resolve("stderr"); }

    /** Leaves case N's outputs next to cwd/ for post-mortem reading (caseN.native.stdout ...). */
    private void keepCopy(int n, Case c, Result r) {
        try {
            String m = "case" + n + "." + r.mode.name().toLowerCase();
            Files.writeString(base.resolve("case" + n + ".cmd"), describe(c) + "\n");
            Files.writeString(base.resolve(m + ".stdout"), r.stdout);
            Files.writeString(base.resolve(m + ".stderr"), r.stderr);
            Files.writeString(base.resolve(m + ".exit"), r.exit + "\n");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private void resetCwd(Case c) throws IOException {
        deleteTree(cwd);
        Files.createDirectories(cwd);
        if (c.setup != null) nativeSh(c.setup);
    }

    /** Same for both runs: the JVM's environment plus fixed locale/timezone and the case's own. */
    private static void environment(Map<String, String> env, Case c) {
        env.put("LC_ALL", "C");
        env.put("TZ", "UTC");
        env.put(TOKEN_VAR, TOKEN);
        if (c != null) env.putAll(c.env);
    }

    private static void feed(Process p, byte[] bytes) {
        Thread t = new Thread(() -> {
            try (OutputStream os = p.getOutputStream()) {
                os.write(bytes);
            } catch (IOException ignored) {
                // the command may legitimately exit before reading everything (EPIPE)
            }
        }, "stdin-feeder");
        t.setDaemon(true);
        t.start();
    }

    static String read(Path f) {
        try {
            return Files.exists(f) ? new String(Files.readAllBytes(f), StandardCharsets.UTF_8) : "";
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static String describe(Case c) {
        return (c.wrap != null ? "[wrap: " + c.wrap + "] " : "") + String.join(" ", c.argv);
    }

    static void deleteTree(Path p) throws IOException {
        if (!Files.exists(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)) return;
        // make read-only dirs written by tests removable first
        try (Stream<Path> s = Files.walk(p)) {
            s.filter(d -> Files.isDirectory(d, java.nio.file.LinkOption.NOFOLLOW_LINKS)).forEach(d -> d.toFile().setWritable(true));
        }
        try (Stream<Path> s = Files.walk(p)) {
            for (Path q : s.sorted(Comparator.reverseOrder()).collect(Collectors.toList())) Files.delete(q);
        }
    }
}
