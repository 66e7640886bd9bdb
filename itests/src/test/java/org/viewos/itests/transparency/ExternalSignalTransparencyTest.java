package org.viewos.itests.transparency;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.concurrent.TimeUnit;

import org.junit.Test;
import org.viewos.itests.transparency.Runner.Case;
import org.viewos.itests.transparency.Runner.Mode;
import org.viewos.itests.transparency.Runner.Result;

/**
 * A traced command killed from OUTSIDE the view by SIGTERM, SIGSEGV or SIGKILL: the launcher must
 * exit with 128+signal, exactly the status the same command gives when run natively and killed
 * the same way.
 *
 * <p>The signal goes to the traced command itself, never to the launcher (a JVM): the command is
 * {@code sh -c 'echo $$ > pidfile; exec sleep 100'}, so the pid in the pidfile becomes
 * {@code sleep}. Before signalling, the test checks that the pid runs {@code sleep} and carries
 * this JVM's {@link Runner#TOKEN_VAR} in its environment: only processes we started are signalled.
 */
public class ExternalSignalTransparencyTest extends TransparencyTestBase {

    @Test
    public void sigterm() throws Exception {
        killFromOutside("TERM", 15);
    }

    @Test
    public void sigsegv() throws Exception {
        killFromOutside("SEGV", 11);
    }

    @Test
    public void sigkill() throws Exception {
        killFromOutside("KILL", 9);
    }

    private void killFromOutside(String sig, int signo) throws Exception {
        // ulimit -c 0: a SEGV'd sleep must not write a core file (same for both runs)
        Case c = Case.sh("ulimit -c 0; echo $$ > pidfile; exec sleep 100").timeout(60);
        Result nat = killed(c, Mode.NATIVE, sig);
        Result view = killed(c, Mode.VIEW, sig);
        assertEquals("native status of sleep killed by SIG" + sig, 128 + signo, nat.exit);
        assertEquals("launcher status when its command is killed by SIG" + sig + "\n" + view, nat.exit, view.exit);
        assertEquals(nat.stdout, view.stdout);
        assertEquals(nat.stderr, view.stderr);
    }

    private Result killed(Case c, Mode mode, String sig) throws Exception {
        Runner.Started s = runner.start(c, mode);
        try {
            long pid = awaitSleepPid(runner.cwd().resolve("pidfile"), s.process);
            assertTrue("pid " + pid + " was not started by this test", Runner.startedByUs(pid));
            Process kill = new ProcessBuilder("kill", "-s", sig, Long.toString(pid))
                    .redirectErrorStream(true).redirectOutput(new File("/dev/null"))
                    .redirectInput(new File("/dev/null")).start();
            assertTrue(kill.waitFor(30, TimeUnit.SECONDS));
            assertEquals("kill -s " + sig + " " + pid, 0, kill.exitValue());
        } catch (Exception | AssertionError e) {
            Runner.killTree(s.process);
            throw e;
        }
        return s.finish();
    }

    private static String comm(long pid) {
        try {
            return new String(Files.readAllBytes(Paths.get("/proc", Long.toString(pid), "comm")), StandardCharsets.UTF_8).trim();
        } catch (IOException e) {
            return null;   // not there (yet, or any more)
        }
    }

    /** Waits until the pidfile names a live process of ours (our token in its environ) running sleep. */
    private static long awaitSleepPid(Path pidfile, Process started) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline) {
            if (!started.isAlive()) fail("command exited early with status " + started.exitValue());
            if (Files.exists(pidfile)) {
                String text = new String(Files.readAllBytes(pidfile), StandardCharsets.UTF_8).trim();
                if (text.matches("[0-9]+")) {   // else: the shell is still writing it
                    long pid = Long.parseLong(text);
                    // comm changes during execve slightly before the new environ is readable from
                    // /proc/PID/environ: wait for both
                    if ("sleep".equals(comm(pid)) && Runner.startedByUs(pid)) return pid;
                }
            }
            Thread.sleep(20);
        }
        fail("the command did not write its pid and exec sleep (with our environment) within 60 s");
        return -1;
    }
}
