package org.viewos.itests.reliability;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.Ignore;
import org.junit.Test;

/**
 * Calls aimed at the daemon from inside its view (c/reliability/daemonescape.c). The daemon pid is
 * found from inside as the parent of the view's first process ($PPID of the top shell) and
 * cross-checked with {@code vuname -U}. What the view must refuse is refused with EPERM and the
 * daemon keeps running (the view's command finishes normally); the view's seccomp filter stays.
 * The calls that still reach the daemon are the {@code @Ignore}d tests at the end, each a bug.
 */
public class ReliabilityEscapeTest {

    private static Rel.Result attack(String what, String after, String... viewOpts) throws Exception {
        Path p = Rel.program("daemonescape");
        Path dir = Rel.workDir("escape");
        return Rel.viewBash(dir, 120, String.join("\n",
                "d=$PPID",
                "[ \"$(vuname -U)\" = \"$d\" ] || { echo \"vuname -U $(vuname -U) is not the parent $d\"; exit 9; }",
                p + " $d " + what + "; st=$?",
                after,
                "kill -0 $d 2>/dev/null; echo \"daemon signal 0: $?\"", // refused: EPERM, status 1
                "[ -d /proc/$d ] && echo daemon-runs",
                "exit $st"), viewOpts);
    }

    @Test
    public void signalsPtraceAndMemoryAccessAimedAtTheDaemonAreRefused() throws Exception {
        for (String[] opts : new String[][] {{}, {"-p", "unreal"}}) {
            Rel.Result r = attack("refused", "um_ls_service >/dev/null && echo ls-ok", opts);
            assertEquals(r.all(), 0, r.status());
            String tally = Rel.field(r.out(), "refused");
            assertTrue(r.all(), tally != null && tally.matches("(\\d+) of \\1"));
            for (String line : r.out().split("\n")) {
                if (line.contains(" rc=")) {
                    assertTrue(line, line.endsWith("rc=-1 errno=Operation not permitted"));
                }
            }
            assertTrue(r.all(), r.out().contains("\nls-ok\n"));
            assertTrue(r.all(), r.out().contains("\ndaemon-runs\n"));
            assertTrue(r.all(), r.out().contains("daemon signal 0: 1\n"));
            Rel.report("escapes refused (" + (opts.length == 0 ? "idle" : "unreal") + " view): " + tally
                    + "; " + Rel.field(r.out(), "daemon"));
        }
    }

    /**
     * What this proves: a process of the view runs under the view's filter (Seccomp: 2) and cannot
     * get out of it: asking for strict mode or for no seccomp is EINVAL (a process in filter mode
     * can only add filters), adding its own allow-all filter leaves Seccomp at 2, and openat2, which
     * the view's filter answers with ENOSYS, still gets ENOSYS afterwards, in the process and in a
     * child that tried to switch modes.
     */
    @Test
    public void theViewsSeccompFilterCannotBeRemoved() throws Exception {
        Rel.Result r = attack("seccomp", "true");
        assertEquals(r.all(), 0, r.status());
        assertTrue(r.all(), r.out().contains("strict rc=-1 errno=Invalid argument; prctl strict rc=-1 errno=Invalid argument;"
                + " prctl off rc=-1 errno=Invalid argument\n"));
        assertTrue(r.all(), r.out().contains("child openat2 rc=-1 errno=Function not implemented\n"));
        assertTrue(r.all(), r.out().contains("own filter rc=0\n"));
        assertTrue(r.all(), r.out().contains("Seccomp before=2 after=2; openat2 rc=-1 errno=Function not implemented\n"));
        assertTrue(r.all(), r.out().contains("\ndaemon-runs\n"));
    }

    @Test
    public void pidfdFromProcDirCannotSignalTheDaemon() throws Exception {
        Rel.Result r = attack("pidfd-proc", "true");
        assertEquals(r.all(), 0, r.status());
        assertTrue(r.all(), r.out().contains("tried pidfd-proc rc=-1 errno=Operation not permitted\nalive\n"));
    }

    @Test
    public void sigioOwnerCannotBeTheDaemon() throws Exception {
        Rel.Result r = attack("sigio", "true");
        assertEquals(r.all(), 0, r.status());
        assertTrue(r.all(), r.out().contains("\nalive\n"));
        assertTrue(r.all(), r.out().contains("\ndaemon-runs\n"));
    }

    @Test
    public void prlimitOfTheDaemonIsRefused() throws Exception {
        // work for the daemon: 300 processes, each with a path through the mount
        Rel.Result r = attack("prlimit", "for i in $(seq 300); do ls /unreal/tmp >/dev/null; done; echo worked",
                "-p", "unreal");
        assertEquals(r.all(), 0, r.status());
        assertTrue(r.all(), r.out().contains("tried prlimit rc=-1 errno=Operation not permitted\nalive\n"));
        assertTrue(r.all(), r.out().contains("\nworked\n"));
    }

    @Test
    public void schedulingOfTheDaemonIsRefused() throws Exception {
        Rel.Result r = attack("sched", "true");
        assertEquals(r.all(), 0, r.status());
        assertEquals(r.all(), "4 of 4", Rel.field(r.out(), "refused"));
    }

    @Test
    public void ownUserNotifFilterCannotBypassAHiddenPath() throws Exception {
        Path p = Rel.program("notifbypass");
        Path dir = Rel.workDir("notif");
        Path secret = Files.createDirectories(dir.resolve("secret")).resolve("s.txt");
        Files.writeString(secret, "SECRET\n");
        Rel.Result r = Rel.viewBash(dir, 60, "cat " + secret + " 2>/dev/null; echo \"cat=$?\"; " + p + " " + secret,
                "--hide", secret.getParent().toString());
        assertTrue(r.all(), r.out().startsWith("cat=1\n")); // hidden from an ordinary open
        assertFalse(r.all(), r.out().contains("SECRET"));
    }
}
