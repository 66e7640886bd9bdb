package org.viewos.itests.transparency;

import static org.junit.Assert.fail;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.junit.Assume;

/**
 * Compiles the test programs in {@code itests/src/test/c} (system property viewos.csrc) with gcc
 * into {@code ${viewos.testdir}/cbin}, once per JVM, natively. A missing gcc is a skip.
 */
final class CPrograms {

    private static final Map<String, Path> BUILT = new HashMap<>();

    private CPrograms() {}

    static synchronized Path get(String name) {
        Path done = BUILT.get(name);
        if (done != null) return done;
        Path gcc = Paths.get("/usr/bin/gcc");
        Assume.assumeTrue("gcc is not installed (./run-tests installs it)", Files.isExecutable(gcc));
        Path src = Paths.get(System.getProperty("viewos.csrc", "src/test/c"), name + ".c").toAbsolutePath();
        if (!Files.exists(src)) fail("missing test program source " + src);
        Path outDir = Paths.get(System.getProperty("viewos.testdir", "target/work"), "cbin").toAbsolutePath();
        Path bin = outDir.resolve(name);
        try {
            Files.createDirectories(outDir);
            Path log = outDir.resolve(name + ".log");
            Process p = new ProcessBuilder(gcc.toString(), "-O1", "-g", "-pthread", "-Wall", "-o", bin.toString(), src.toString())
                    .redirectErrorStream(true).redirectOutput(log.toFile()).redirectInput(new File("/dev/null")).start();
            if (!p.waitFor(120, TimeUnit.SECONDS)) {
                Runner.killTree(p);
                fail("gcc timed out on " + src);
            }
            if (p.exitValue() != 0) fail("gcc failed on " + src + ":\n" + Runner.read(log));
        } catch (IOException e) {
            throw new AssertionError("cannot run gcc", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
        BUILT.put(name, bin);
        return bin;
    }
}
