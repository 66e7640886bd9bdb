package org.viewos.itests.modules;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.junit.Test;

/**
 * bin/viewos-cds makes lib/viewos.jsa, the JVM's class-data archive of the daemon; bin/viewos uses
 * it when present. A view must behave the same with it, with a stale one (a jar rebuilt since: the
 * JVM refuses it) and without one, and print nothing of it.
 */
public class ClassDataArchiveTest {
    private static Result sh(Path dir, String... cmd) throws Exception {
        Path out = dir.resolve("out-" + System.nanoTime()), err = dir.resolve("err-" + System.nanoTime());
        Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectOutput(out.toFile())
                .redirectError(err.toFile()).redirectInput(new File("/dev/null")).start();
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError(String.join(" ", cmd) + " did not end in 120 s");
        }
        return new Result(p.exitValue(), Files.readString(out), Files.readString(err));
    }

    private record Result(int status, String out, String err) {
    }

    @Test
    public void aViewIsTheSameWithAFreshAStaleOrNoArchive() throws Exception {
        Path dir = Launcher.workDir("cds");
        Path home = dir.resolve("viewos");
        // a copy of the distribution: the archive goes into its lib/
        assertEquals(0, sh(dir, "cp", "-a", Launcher.viewos().getParent().getParent().toString(), home.toString()).status());
        Path jsa = home.resolve("lib/viewos.jsa");
        Files.deleteIfExists(jsa);
        String script = "echo $((6*7)); ls /proc/self/fd | wc -l; cat /etc/hostname";
        Result without = sh(dir, home.resolve("bin/viewos").toString(), "bash", "-c", script);
        assertEquals(without.err(), 0, without.status());

        Result made = sh(dir, home.resolve("bin/viewos-cds").toString());
        assertEquals(made.err(), 0, made.status());
        assertEquals("", made.err());
        assertTrue("no archive made", Files.size(jsa) > 0);
        Result with = sh(dir, home.resolve("bin/viewos").toString(), "bash", "-c", script);
        assertEquals(without, with);

        // a jar newer than the archive: the JVM refuses the archive, silently
        FileTime later = FileTime.fromMillis(Files.getLastModifiedTime(jsa).toMillis() + 5_000);
        Path jar;
        try (Stream<Path> jars = Files.list(home.resolve("lib"))) {
            jar = jars.filter(p -> p.toString().endsWith(".jar")).findFirst().orElseThrow();
        }
        Files.setLastModifiedTime(jar, later);
        Result stale = sh(dir, home.resolve("bin/viewos").toString(), "bash", "-c", script);
        assertEquals(without, stale);
        long before = Files.getLastModifiedTime(jsa).toMillis();
        Result again = sh(dir, home.resolve("bin/viewos-cds").toString(), "--if-stale");
        assertEquals(again.err(), 0, again.status());
        assertFalse("the stale archive was not made again", Files.getLastModifiedTime(jsa).toMillis() == before
                && Files.getLastModifiedTime(jsa).compareTo(later) < 0);
        Result fresh = sh(dir, home.resolve("bin/viewos-cds").toString(), "--if-stale");
        assertEquals(fresh.err(), 0, fresh.status());
        assertEquals(List.of(), List.of(fresh.out().lines().toArray()));
        sh(dir, "rm", "-rf", home.toString());
    }
}
