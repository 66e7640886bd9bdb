package org.viewos.itests.reliability;

import static org.junit.Assert.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.Test;

/**
 * Load: many short processes (a loop and 8 in parallel through xargs), 64 threads at once doing
 * file I/O, 10,000 files held open by one process. Each workload natively, in an idle view and in
 * a view with a mount ({@code -p unreal}, the files reached through {@code /unreal/...} so every
 * path is translated); output and status must equal the native run's. Wall times are reported
 * (never asserted beyond the runs' own time limits).
 */
public class ReliabilityLoadTest {
    private static final String[][] VIEWS = {{"idle"}, {"unreal", "-p", "unreal"}};

    /** Runs SCRIPT (with @D@ = a work directory, /unreal-prefixed in the unreal view) in each way. */
    private static void same(String what, String script, int seconds) throws Exception {
        Path dir = Rel.workDir("load");
        Path d = Files.createDirectories(dir.resolve("d"));
        Rel.Result nat = Rel.nativeBash(dir, seconds, script.replace("@D@", d.toString()));
        assertEquals("natively: " + nat.all(), 0, nat.status());
        StringBuilder times = new StringBuilder(what + ": native " + nat.millis() + " ms");
        for (String[] v : VIEWS) {
            String dd = v[0].equals("unreal") ? "/unreal" + d : d.toString();
            String[] opts = java.util.Arrays.copyOfRange(v, 1, v.length);
            Rel.Result r = Rel.viewBash(dir, seconds, script.replace("@D@", dd), opts);
            assertEquals(what + " in the " + v[0] + " view: " + r.all(), nat.status(), r.status());
            assertEquals(what + " in the " + v[0] + " view: stdout", nat.out(), r.out());
            assertEquals(what + " in the " + v[0] + " view: stderr", nat.err(), r.err());
            times.append(", ").append(v[0]).append(" view ").append(r.millis()).append(" ms");
        }
        Rel.report(times.toString());
    }

    @Test
    public void thousandProcessesInALoop() throws Exception {
        same("1000 x /bin/true in a loop",
                "n=0; for i in $(seq 1000); do /bin/true && n=$((n+1)); done; echo \"ran $n\"", 300);
    }

    @Test
    public void thousandProcessesEightInParallel() throws Exception {
        same("1000 processes, xargs -P 8",
                "seq 1000 | xargs -P 8 -n 10 sh -c 'for a; do /bin/echo $((a * 3)); done' sh | sort -n > @D@/out;"
                        + " wc -l < @D@/out; awk '{s += $1} END {print s}' @D@/out; tail -1 @D@/out", 300);
    }

    @Test
    public void sixtyFourThreadsDoingFileIo() throws Exception {
        Path p = Rel.program("threads64");
        same("64 threads x 50 files", p + " @D@ 64 50", 300);
    }

    /**
     * Twenty views at once, each its own daemon (a JVM): all start, each sees its own module and
     * mount and not the others', all end with their command's status. Reports the wall time and the
     * daemons' summed resident memory while all of them run.
     */
    @Test
    public void twentyViewsAtOnce() throws Exception {
        Path dir = Rel.workDir("twenty");
        int n = 20;
        Process[] views = new Process[n];
        Path shared = Files.createDirectories(dir.resolve("shared"));
        Files.writeString(shared.resolve("mine"), "outside\n");
        long t0 = System.nanoTime();
        for (int i = 0; i < n; i++) {
            Path own = Files.createDirectories(dir.resolve("v" + i));
            Files.writeString(own.resolve("mine"), "view " + i + "\n");
            views[i] = new ProcessBuilder(Rel.viewos().toString(), "-x", "-V", "load" + i, "-b", own + ":" + shared,
                    "bash", "-c", "cat " + shared.resolve("mine") + "; viewname; touch " + dir.resolve("ready" + i)
                            + "; while [ ! -e " + dir.resolve("go") + " ]; do sleep 0.1; done; exit " + (i % 7))
                    .directory(dir.toFile()).redirectErrorStream(true)
                    .redirectOutput(dir.resolve("out" + i).toFile()).redirectInput(new java.io.File("/dev/null")).start();
        }
        Rel.waitFor("20 views running", 240, () -> {
            for (int i = 0; i < n; i++) {
                if (!Files.exists(dir.resolve("ready" + i))) {
                    return false;
                }
            }
            return true;
        });
        long startMs = (System.nanoTime() - t0) / 1_000_000;
        long rssKb = 0;
        for (Process p : views) {
            for (ProcessHandle h : (Iterable<ProcessHandle>) p.descendants()::iterator) {
                if (h.info().command().orElse("").endsWith("/java")) {
                    rssKb += rss(h.pid());
                }
            }
            if (p.info().command().orElse("").endsWith("/java")) {
                rssKb += rss(p.pid());
            }
        }
        Files.writeString(dir.resolve("go"), "");
        for (int i = 0; i < n; i++) {
            org.junit.Assert.assertTrue("view " + i + " ended", views[i].waitFor(120, java.util.concurrent.TimeUnit.SECONDS));
            String out = Files.readString(dir.resolve("out" + i));
            assertEquals("view " + i + ": " + out, i % 7, views[i].exitValue());
            assertEquals("view " + i + "\nload" + i + "\n", out);
        }
        assertEquals("outside\n", Files.readString(shared.resolve("mine")));
        Rel.report("20 views at once: all running after " + startMs + " ms; daemons' resident memory "
                + (rssKb / 1024) + " MB in all (" + (rssKb / 1024 / n) + " MB each)");
    }

    private static long rss(long pid) {
        try {
            for (String l : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
                if (l.startsWith("VmRSS:")) {
                    return Long.parseLong(l.replaceAll("[^0-9]", ""));
                }
            }
        } catch (java.io.IOException | RuntimeException e) {
            return 0;
        }
        return 0;
    }

    @Test
    public void tenThousandFilesHeldOpen() throws Exception {
        Path p = Rel.program("manyfiles");
        Rel.Result hard = Rel.nativeBash(Rel.workDir("ulimit"), 30, "ulimit -Hn");
        String h = hard.out().trim();
        org.junit.Assume.assumeTrue("ulimit -Hn is " + h + ": 10240 open files are not allowed here",
                h.equals("unlimited") || (h.matches("[0-9]+") && Long.parseLong(h) >= 10240));
        same("10000 files held open",
                "ulimit -n 10240 || { echo 'cannot raise ulimit -n' >&2; exit 3; }; " + p + " @D@ 10000", 300);
    }
}
