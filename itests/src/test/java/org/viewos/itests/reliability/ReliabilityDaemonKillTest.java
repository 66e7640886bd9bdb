package org.viewos.itests.reliability;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.junit.Test;

/**
 * The daemon SIGKILLed from outside: nothing of the view survives it (PTRACE_O_EXITKILL), however
 * the view's processes tried to get away (background, orphaned by a subshell, setsid, ignoring
 * SIGTERM/SIGHUP, stopped, a thread-group with threads), and the next view removes the dead
 * daemon's stale shell socket.
 */
public class ReliabilityDaemonKillTest {

    /** Every process the script creates writes its pid to ./pids; ./ready when all are there. */
    private static final String SCRIPT = String.join("\n",
            "echo $$ > pids",
            "sleep 300 & echo $! >> pids",                                   // a background child
            "( sleep 300 & echo $! >> pids )",                               // orphaned: the subshell exits
            "( setsid sleep 300 & echo $! >> pids )",                        // new session, orphaned
            "sh -c 'trap \"\" TERM HUP INT; echo $$ >> pids; exec sleep 300' &", // ignores the polite signals
            "sleep 300 & s=$!; kill -STOP $s; echo $s >> pids",              // stopped
            "( ( sleep 300 & echo $! >> pids ) & wait ) &",                  // grandchild of a subshell
            "perl -e 'use POSIX; my $p = fork; if ($p) { exit 0 } POSIX::setsid(); my $q = fork;"
                    + " if ($q) { exit 0 } open(F, \">>pids\"); print F \"$$\\n\"; close F; sleep 300' &", // daemonized
            "until [ $(wc -l < pids) -ge 8 ]; do sleep 0.05; done",
            "echo ready > ready",
            "wait");

    @Test(timeout = 120_000)
    public void sigkilledDaemonTakesEveryViewProcessWithIt() throws Exception {
        Path dir = Rel.workDir("kill");
        Process launcher = Rel.start(dir, "-x", "sh", "-c", SCRIPT);
        long daemon = launcher.pid();
        try {
            Rel.waitFor("the view's processes wrote their pids", 60, () -> Files.exists(dir.resolve("ready")));
            // bin/viewos execs java: the launcher's pid is the daemon's
            String exe = Files.readSymbolicLink(Path.of("/proc/" + daemon + "/exe")).getFileName().toString();
            assertEquals("the launcher's process is the JVM", "java", exe);

            List<Long> pids = new ArrayList<>();
            for (String l : Files.readAllLines(dir.resolve("pids"))) {
                if (!l.isBlank()) {
                    pids.add(Long.parseLong(l.trim()));
                }
            }
            assertEquals("pids recorded: " + pids, 8, pids.size());
            Map<Long, Long> started = new LinkedHashMap<>();
            for (long p : pids) {
                assertFalse("view process " + p + " runs before the kill", Rel.gone(p));
                started.put(p, Rel.startTime(p));
            }
            // each one is traced by the daemon (TracerPid is the tracer's thread: one of the daemon's)
            for (long p : pids) {
                String tracer = Rel.field(Files.readString(Path.of("/proc/" + p + "/status")).replace('\t', ' '), "TracerPid:");
                assertTrue(p + " is traced by a thread of the daemon, not " + tracer,
                        tracer != null && !tracer.equals("0") && Files.exists(Path.of("/proc/" + daemon + "/task/" + tracer)));
            }

            Process k = new ProcessBuilder("kill", "-9", String.valueOf(daemon)).start();
            assertTrue(k.waitFor(10, TimeUnit.SECONDS));
            assertTrue("the launcher died", launcher.waitFor(10, TimeUnit.SECONDS));
            assertEquals(128 + 9, launcher.exitValue());

            long t0 = System.nanoTime();
            Rel.waitFor("every view process is gone after the daemon's SIGKILL " + started, 10, () -> {
                for (Map.Entry<Long, Long> e : started.entrySet()) {
                    long p = e.getKey();
                    // gone, a zombie (dead, its parent not reaping), or the pid reused by a newer process
                    if (!Rel.gone(p) && Rel.startTime(p) == e.getValue()) {
                        return false;
                    }
                }
                return true;
            });
            Rel.report("daemon SIGKILL: " + pids.size() + " view processes gone in "
                    + (System.nanoTime() - t0) / 1_000_000 + " ms");
        } finally {
            if (launcher.isAlive()) {
                Rel.killTree(launcher);
            }
        }
    }

    @Test(timeout = 120_000)
    public void nextViewRemovesTheStaleSocketOfAKilledDaemon() throws Exception {
        Path dir = Rel.workDir("stale");
        Path sockets = socketDir();
        Process launcher = Rel.start(dir, "-x", "sh", "-c", "echo up > up; sleep 300");
        long daemon = launcher.pid();
        Path sock = sockets.resolve(daemon + ".sock");
        try {
            Rel.waitFor("the view is up", 60, () -> Files.exists(dir.resolve("up")));
            Rel.waitFor("the daemon's shell socket " + sock, 30, () -> Files.exists(sock));
            new ProcessBuilder("kill", "-9", String.valueOf(daemon)).start().waitFor(10, TimeUnit.SECONDS);
            assertTrue(launcher.waitFor(10, TimeUnit.SECONDS));
        } finally {
            if (launcher.isAlive()) {
                Rel.killTree(launcher);
            }
        }
        assertTrue("a SIGKILLed daemon leaves its socket behind (nothing could remove it)", Files.exists(sock));
        Rel.Result r = Rel.view(dir, 60, "-x", "/bin/true");
        assertEquals(r.all(), 0, r.status());
        if (Files.exists(Path.of("/proc/" + daemon))) {
            return; // the pid is in use again: it is not stale, correctly kept (can't happen within ms)
        }
        assertFalse("the next view removed the stale " + sock, Files.exists(sock));
        assertFalse(Files.exists(sockets.resolve(daemon + ".name")));
    }

    static Path socketDir() {
        String base = System.getenv("XDG_RUNTIME_DIR");
        if (base == null || !Files.isDirectory(Path.of(base))) {
            base = "/tmp";
        }
        long uid;
        try {
            uid = ((Number) Files.getAttribute(Path.of("/proc/self"), "unix:uid")).longValue();
        } catch (java.io.IOException e) {
            throw new AssertionError(e);
        }
        return Path.of(base, "viewos-" + uid);
    }
}
