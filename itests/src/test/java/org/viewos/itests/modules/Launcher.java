package org.viewos.itests.modules;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs the assembled launcher ({@code ${viewos.home}/bin/viewos}) as an external process, the way a
 * user does, with stdout/stderr in files (a child must never write to Surefire's fd 1). Shared by
 * the itests packages.
 */
public final class Launcher {
    public record Result(int status, String out, String err) {
    }

    public static Path viewos() {
        Path p = Path.of(System.getProperty("viewos.home", "../distribution/target/viewos"), "bin", "viewos");
        if (!Files.isExecutable(p)) {
            throw new AssertionError("the distribution is not built: " + p);
        }
        return p;
    }

    public static Path workDir(String name) throws IOException {
        Path base = Path.of(System.getProperty("viewos.testdir", System.getProperty("java.io.tmpdir")), "modules");
        Files.createDirectories(base);
        return Files.createTempDirectory(base, name + "-");
    }

    /** Starts {@code viewos ARGS} in {@code dir}; stdin from /dev/null unless {@code stdin} is given. */
    public static Process start(Path dir, String stdin, String... args) throws IOException {
        return start(dir, stdin, dir.resolve("stdout-" + System.nanoTime()), dir.resolve("stderr-" + System.nanoTime()), args);
    }

    private static Process start(Path dir, String stdin, Path out, Path err, String... args) throws IOException {
        List<String> cmd = new ArrayList<>();
        cmd.add(viewos().toString());
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(dir.toFile())
                .redirectOutput(out.toFile()).redirectError(err.toFile());
        if (stdin == null) {
            pb.redirectInput(new File("/dev/null"));
        }
        Process p = pb.start();
        if (stdin != null) {
            p.getOutputStream().write(stdin.getBytes(StandardCharsets.UTF_8));
            p.getOutputStream().close();
        }
        return p;
    }

    public static Result run(Path dir, String stdin, String... args) throws Exception {
        Path out = Files.createTempFile(dir, "out-", ".txt");
        Path err = Files.createTempFile(dir, "err-", ".txt");
        Process p = start(dir, stdin, out, err, args);
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("viewos " + String.join(" ", args) + " did not end in 120 s");
        }
        return new Result(p.exitValue(), Files.readString(out), Files.readString(err));
    }

    /** bash -c SCRIPT in a new view. */
    public static Result bash(Path dir, String script, String... viewosOptions) throws Exception {
        List<String> args = new ArrayList<>(List.of(viewosOptions));
        args.addAll(List.of("bash", "-c", script));
        return run(dir, null, args.toArray(new String[0]));
    }

    private Launcher() {
    }
}
