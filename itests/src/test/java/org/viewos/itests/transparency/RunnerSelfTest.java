package org.viewos.itests.transparency;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.util.List;

import org.junit.Test;
import org.viewos.itests.transparency.Runner.Case;
import org.viewos.itests.transparency.Runner.Mode;

/**
 * The harness itself (native runs only): a missing launcher fails instead of skipping, a run
 * that exceeds its timeout fails and its whole process tree is killed, output goes to files.
 */
public class RunnerSelfTest {

    @Test
    public void missingLauncherIsAFailureNotASkip() {
        String override = System.getProperty("viewos.launcher");
        String home = System.getProperty("viewos.home");
        try {
            System.clearProperty("viewos.launcher");
            System.setProperty("viewos.home", "/nonexistent/viewos-home");
            Runner.launcher();
            fail("launcher() accepted a missing launcher");
        } catch (AssertionError e) {
            assertTrue(e.getMessage(), e.getMessage().contains("/nonexistent/viewos-home/bin/viewos"));
        } finally {
            restore("viewos.launcher", override);
            restore("viewos.home", home);
        }
    }

    @Test
    public void launcherOverrideIsSplitOnSpaces() {
        String override = System.getProperty("viewos.launcher");
        try {
            System.setProperty("viewos.launcher", " strace  -f -qq -o /dev/null ");
            assertEquals(List.of("strace", "-f", "-qq", "-o", "/dev/null"), Runner.launcher());
        } finally {
            restore("viewos.launcher", override);
        }
    }

    @Test
    public void timeoutKillsTheProcessTree() throws Exception {
        String override = System.getProperty("viewos.launcher");
        System.setProperty("viewos.launcher", "env");   // never used: NATIVE mode only
        try {
            Runner r = new Runner("RunnerSelfTest.timeout");
            Runner.Started s = r.start(Case.sh("sleep 100 & sleep 100; wait").timeout(1), Mode.NATIVE);
            Thread.sleep(300);
            List<ProcessHandle> tree = s.process.descendants().collect(java.util.stream.Collectors.toList());
            assertFalse("expected children", tree.isEmpty());
            try {
                s.finish();
                fail("no timeout failure");
            } catch (AssertionError e) {
                assertTrue(e.getMessage(), e.getMessage().contains("timed out"));
            }
            assertFalse(s.process.isAlive());
            for (ProcessHandle h : tree) {
                h.onExit().get(10, java.util.concurrent.TimeUnit.SECONDS);
                assertFalse("descendant " + h.pid() + " survived", h.isAlive());
            }
        } finally {
            restore("viewos.launcher", override);
        }
    }

    @Test
    public void outputIsCapturedAndStdinFed() {
        String override = System.getProperty("viewos.launcher");
        System.setProperty("viewos.launcher", "env");
        try {
            Runner r = new Runner("RunnerSelfTest.capture");
            Runner.Result res = r.start(Case.sh("cat; echo err >&2; exit 3").stdin("in\n"), Mode.NATIVE).finish();
            assertEquals("in\n", res.stdout);
            assertEquals("err\n", res.stderr);
            assertEquals(3, res.exit);
        } finally {
            restore("viewos.launcher", override);
        }
    }

    private static void restore(String key, String value) {
        if (value == null) System.clearProperty(key);
        else System.setProperty(key, value);
    }
}
