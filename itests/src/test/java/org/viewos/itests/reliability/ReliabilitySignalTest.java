package org.viewos.itests.reliability;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.Test;

/**
 * Signals sent from outside (kill(1) by pid) to a traced process: SIGSTOP pauses it and SIGCONT
 * resumes it (a counter it writes stops and goes on); SIGTERM and SIGINT end it with the same
 * status as natively, with and without a trap.
 */
public class ReliabilitySignalTest {

    private static void kill(String sig, long pid) throws Exception {
        Process k = new ProcessBuilder("kill", "-" + sig, String.valueOf(pid)).start();
        assertTrue(k.waitFor(10, TimeUnit.SECONDS));
        assertEquals("kill -" + sig + " " + pid, 0, k.exitValue());
    }

    private static long readLong(Path f) {
        try {
            String s = Files.readString(f).trim();
            return s.isEmpty() ? -1 : Long.parseLong(s);
        } catch (java.io.IOException | NumberFormatException e) {
            return -1;
        }
    }

    @Test(timeout = 120_000)
    public void stopPausesAndContResumesATracedLoop() throws Exception {
        Path dir = Rel.workDir("stopcont");
        Path counter = dir.resolve("counter");
        Path pidFile = dir.resolve("pid");
        Process v = Rel.start(dir, "-x", "bash", "-c",
                "echo $$ > pid.tmp; mv pid.tmp pid; i=0; while :; do i=$((i+1)); echo $i > c.tmp; mv c.tmp counter; sleep 0.05; done");
        try {
            Rel.waitFor("the loop runs", 60, () -> readLong(counter) >= 3 && readLong(pidFile) > 0);
            long pid = readLong(pidFile);
            kill("STOP", pid);
            Rel.waitFor("the traced shell is stopped", 10, () -> {
                char s = Rel.procState(pid);
                return s == 'T' || s == 't';
            });
            // a loop iteration that was under way (its sleep child) may still finish: let it
            Thread.sleep(300);
            long c1 = readLong(counter);
            Thread.sleep(1000);
            long c2 = readLong(counter);
            assertEquals("the counter does not move while the shell is stopped", c1, c2);
            assertTrue("the view's daemon still runs", v.isAlive());
            kill("CONT", pid);
            Rel.waitFor("the counter moves again after SIGCONT", 10, () -> readLong(counter) > c2 + 2);
            kill("TERM", pid);
            assertTrue(v.waitFor(30, TimeUnit.SECONDS));
            assertEquals("SIGTERM ended the command: 128+15", 143, v.exitValue());
            Rel.report("STOP/CONT: counter held at " + c2 + " for 1 s while stopped, then moved on");
        } finally {
            if (v.isAlive()) {
                Rel.killTree(v);
            }
        }
    }

    /** Runs SCRIPT (it writes its pid to ./pid when ready), sends SIG, returns "status N\nOUT". */
    private static String signalled(boolean inView, String script, String sig) throws Exception {
        Path dir = Rel.workDir("sig");
        Process p;
        if (inView) {
            p = Rel.start(dir, "-x", "bash", "-c", script);
        } else {
            p = new ProcessBuilder(List.of("bash", "-c", script)).directory(dir.toFile())
                    .redirectOutput(dir.resolve("stdout-native").toFile())
                    .redirectError(dir.resolve("stderr-native").toFile())
                    .redirectInput(new File("/dev/null")).start();
        }
        try {
            Path pidFile = dir.resolve("pid");
            Rel.waitFor("the script is ready", 60, () -> readLong(pidFile) > 0);
            Thread.sleep(200); // let it reach its wait / sleep
            kill(sig, readLong(pidFile));
            assertTrue(script + " ended after SIG" + sig, p.waitFor(30, TimeUnit.SECONDS));
            StringBuilder out = new StringBuilder("status " + p.exitValue() + "\n");
            try (var files = Files.list(dir)) {
                for (Path f : (Iterable<Path>) files.sorted()::iterator) {
                    if (f.getFileName().toString().startsWith("stdout-")) {
                        out.append(Files.readString(f));
                    }
                }
            }
            return out.toString();
        } finally {
            if (p.isAlive()) {
                Rel.killTree(p);
            }
        }
    }

    private static final String[][] CASES = {
        // script, signal
        {"echo $$ > pid.tmp; mv pid.tmp pid; exec sleep 300", "TERM"},
        {"echo $$ > pid.tmp; mv pid.tmp pid; exec sleep 300", "INT"},
        {"trap 'echo trapped TERM; kill $s; exit 5' TERM; sleep 300 & s=$!; echo $$ > pid.tmp; mv pid.tmp pid; wait; echo not-here", "TERM"},
        {"trap 'echo trapped INT; kill $s; exit 6' INT; sleep 300 & s=$!; echo $$ > pid.tmp; mv pid.tmp pid; wait; echo not-here", "INT"},
        {"perl -e '$SIG{TERM} = sub { print \"perl TERM\\n\"; exit 7 }; open(F, \">pid.tmp\"); print F \"$$\\n\"; close F;"
                + " rename(\"pid.tmp\", \"pid\"); sleep 1 while 1'", "TERM"},
        {"perl -e '$SIG{INT} = \"IGNORE\"; $SIG{TERM} = \"DEFAULT\"; open(F, \">pid.tmp\"); print F \"$$\\n\"; close F;"
                + " rename(\"pid.tmp\", \"pid\"); sleep 1 while 1'", "TERM"},
        {"perl -e 'open(F, \">pid.tmp\"); print F \"$$\\n\"; close F; rename(\"pid.tmp\", \"pid\"); sleep 1 while 1'", "INT"},
    };

    @Test(timeout = 300_000)
    public void termAndIntEndTracedProcessesWithTheNativeStatus() throws Exception {
        StringBuilder rep = new StringBuilder();
        for (String[] c : CASES) {
            String nat = signalled(false, c[0], c[1]);
            String view = signalled(true, c[0], c[1]);
            assertEquals("SIG" + c[1] + " to: " + c[0], nat, view);
            rep.append(c[1]).append("->").append(nat.lines().findFirst().orElse("").replace("status ", "")).append(' ');
        }
        Rel.report("TERM/INT from outside, statuses equal to native: " + rep);
    }
}
