package org.viewos.itests.reliability;

import static org.junit.Assert.fail;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.junit.Assume;

/**
 * The reliability tests' tools: the assembled launcher run as an external process the way a user
 * runs it, with stdout/stderr in files (a traced child must never write to Surefire's fd 1); the C
 * programs of {@code itests/src/test/c/reliability} compiled natively; /proc checks by pid.
 */
final class Rel {
    record Result(int status, String out, String err, long millis) {
        String all() {
            return "status " + status + "\nstdout:\n" + out + "\nstderr:\n" + err;
        }
    }

    static Path viewos() {
        Path p = Path.of(System.getProperty("viewos.home", "../distribution/target/viewos"), "bin", "viewos");
        if (!Files.isExecutable(p)) {
            throw new AssertionError("the distribution is not built: " + p);
        }
        return p;
    }

    static Path workDir(String name) throws IOException {
        Path base = Path.of(System.getProperty("viewos.testdir", System.getProperty("java.io.tmpdir")), "reliability")
                .toAbsolutePath();
        Files.createDirectories(base);
        return Files.createTempDirectory(base, name + "-");
    }

    /** Starts {@code viewos ARGS} in {@code dir}, stdin /dev/null, output in dir/stdout-N, dir/stderr-N. */
    static Process start(Path dir, String... args) throws IOException {
        List<String> cmd = new ArrayList<>();
        cmd.add(viewos().toString());
        cmd.addAll(List.of(args));
        long n = System.nanoTime();
        return new ProcessBuilder(cmd).directory(dir.toFile())
                .redirectOutput(dir.resolve("stdout-" + n).toFile())
                .redirectError(dir.resolve("stderr-" + n).toFile())
                .redirectInput(new File("/dev/null")).start();
    }

    /** Runs {@code viewos ARGS} to its end (at most {@code seconds}). */
    static Result view(Path dir, int seconds, String... args) throws Exception {
        List<String> cmd = new ArrayList<>();
        cmd.add(viewos().toString());
        cmd.addAll(List.of(args));
        return exec(dir, seconds, cmd);
    }

    /** bash -c SCRIPT in a new view (no rc files). */
    static Result viewBash(Path dir, int seconds, String script, String... viewosOptions) throws Exception {
        List<String> args = new ArrayList<>(List.of("-x"));
        args.addAll(List.of(viewosOptions));
        args.addAll(List.of("bash", "-c", script));
        return view(dir, seconds, args.toArray(new String[0]));
    }

    /** bash -c SCRIPT natively. */
    static Result nativeBash(Path dir, int seconds, String script) throws Exception {
        return exec(dir, seconds, List.of("bash", "-c", script));
    }

    static Result exec(Path dir, int seconds, List<String> cmd) throws Exception {
        return exec(dir, seconds, Map.of(), cmd);
    }

    /** As {@link #exec(Path, int, List)}, with {@code env} added to the environment. */
    static Result exec(Path dir, int seconds, Map<String, String> env, List<String> cmd) throws Exception {
        Path out = Files.createTempFile(dir, "out-", ".txt");
        Path err = Files.createTempFile(dir, "err-", ".txt");
        long t0 = System.nanoTime();
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(dir.toFile())
                .redirectOutput(out.toFile()).redirectError(err.toFile())
                .redirectInput(new File("/dev/null"));
        pb.environment().putAll(env);
        Process p = pb.start();
        if (!p.waitFor(seconds, TimeUnit.SECONDS)) {
            killTree(p);
            throw new AssertionError(String.join(" ", cmd) + " did not end in " + seconds + " s; stdout so far:\n"
                    + Files.readString(out));
        }
        long ms = (System.nanoTime() - t0) / 1_000_000;
        return new Result(p.exitValue(), Files.readString(out, StandardCharsets.ISO_8859_1),
                Files.readString(err, StandardCharsets.ISO_8859_1), ms);
    }

    /** SIGKILL to a process we started and to its descendants, each by pid. */
    static void killTree(Process p) {
        p.descendants().forEach(ProcessHandle::destroyForcibly);
        p.destroyForcibly();
    }

    private static final Map<String, Path> BUILT = new HashMap<>();

    /** Compiles itests/src/test/c/reliability/NAME.c once per JVM; no gcc = the test is skipped. */
    static synchronized Path program(String name) {
        Path done = BUILT.get(name);
        if (done != null) {
            return done;
        }
        Path gcc = Path.of("/usr/bin/gcc");
        Assume.assumeTrue("gcc is not installed (./run-tests installs it)", Files.isExecutable(gcc));
        Path src = Path.of(System.getProperty("viewos.csrc", "src/test/c"), "reliability", name + ".c").toAbsolutePath();
        if (!Files.exists(src)) {
            fail("missing test program source " + src);
        }
        Path outDir = Path.of(System.getProperty("viewos.testdir", "target/work"), "cbin-reliability").toAbsolutePath();
        Path bin = outDir.resolve(name);
        try {
            Files.createDirectories(outDir);
            Path log = outDir.resolve(name + ".log");
            Process p = new ProcessBuilder(gcc.toString(), "-O1", "-g", "-pthread", "-Wall", "-o", bin.toString(), src.toString())
                    .redirectErrorStream(true).redirectOutput(log.toFile()).redirectInput(new File("/dev/null")).start();
            if (!p.waitFor(120, TimeUnit.SECONDS)) {
                killTree(p);
                fail("gcc timed out on " + src);
            }
            if (p.exitValue() != 0) {
                fail("gcc failed on " + src + ":\n" + Files.readString(log));
            }
        } catch (IOException e) {
            throw new AssertionError("cannot run gcc", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
        BUILT.put(name, bin);
        return bin;
    }

    /** The state letter of /proc/PID/stat (R S D T t Z X ...), or 0 when there is no such process. */
    static char procState(long pid) {
        try {
            String s = Files.readString(Path.of("/proc/" + pid + "/stat"));
            int close = s.lastIndexOf(')');
            return s.charAt(close + 2);
        } catch (IOException e) {
            return 0;
        }
    }

    /** The process is gone, or only a zombie (dead, not yet reaped by its parent). */
    static boolean gone(long pid) {
        char c = procState(pid);
        return c == 0 || c == 'Z' || c == 'X';
    }

    /** The process's start time (field 22 of /proc/PID/stat), to tell a reused pid; -1 when gone. */
    static long startTime(long pid) {
        try {
            String s = Files.readString(Path.of("/proc/" + pid + "/stat"));
            String[] f = s.substring(s.lastIndexOf(')') + 2).split(" ");
            return Long.parseLong(f[19]);
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    static void waitFor(String what, int seconds, java.util.function.BooleanSupplier cond) throws InterruptedException {
        long end = System.nanoTime() + seconds * 1_000_000_000L;
        while (!cond.getAsBoolean()) {
            if (System.nanoTime() > end) {
                throw new AssertionError(what + ": not within " + seconds + " s");
            }
            Thread.sleep(50);
        }
    }

    /** The value after "KEY " on its line of {@code out}, or null. */
    static String field(String out, String key) {
        for (String line : out.split("\n")) {
            if (line.startsWith(key + " ")) {
                return line.substring(key.length() + 1).trim();
            }
        }
        return null;
    }

    static void report(String line) {
        // surefire keeps System.err of the test JVM in the report; the figures end up there
        System.err.println("[reliability] " + line);
    }

    private Rel() {
    }
}
