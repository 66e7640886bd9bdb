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

    @Ignore("bug: pidfd_send_signal(open(\"/proc/DAEMON\", O_DIRECTORY), SIGKILL) kills the daemon, and with it"
            + " the whole view (exit 137): a /proc/PID directory fd is a pidfd for pidfd_send_signal since"
            + " Linux 5.3, and pidfd_send_signal (424) is class '-' in x86_64.tbl, not guarded. Reproduce:"
            + " viewos sh -c 'daemonescape $PPID pidfd-proc' (itests/src/test/c/reliability/daemonescape.c)")
    @Test
    public void pidfdFromProcDirCannotSignalTheDaemon() throws Exception {
        Rel.Result r = attack("pidfd-proc", "true");
        assertEquals(r.all(), 0, r.status());
        assertTrue(r.all(), r.out().contains("tried pidfd-proc rc=-1 errno=Operation not permitted\nalive\n"));
    }

    @Ignore("bug: fcntl(fd, F_SETOWN, DAEMON) + F_SETSIG SIGKILL + O_ASYNC on a pipe, then a write into it:"
            + " the kernel sends SIGKILL (or, without F_SETSIG, SIGIO, whose default action also ends the"
            + " JVM) to the daemon, and the view dies with it (exit 137). fcntl is not guarded; F_SETOWN /"
            + " F_SETOWN_EX naming the daemon (or -its pgid) should be EPERM. Reproduce: viewos sh -c"
            + " 'daemonescape $PPID sigio'")
    @Test
    public void sigioOwnerCannotBeTheDaemon() throws Exception {
        Rel.Result r = attack("sigio", "true");
        assertEquals(r.all(), 0, r.status());
        assertTrue(r.all(), r.out().contains("\nalive\n"));
        assertTrue(r.all(), r.out().contains("\ndaemon-runs\n"));
    }

    @Ignore("bug: prlimit64(DAEMON, RLIMIT_CPU, {1, 1}) from inside a view succeeds (prlimit64 is class '-',"
            + " not guarded); the kernel then SIGKILLs the daemon as soon as it runs again (it has used more"
            + " than 1 s of CPU and a tick finds it running), and the view dies (exit 137). RLIMIT_NOFILE/RLIMIT_AS would cripple it the"
            + " same way. Reproduce: viewos -p unreal sh -c 'daemonescape $PPID prlimit; for i in $(seq 300); do ls /unreal/tmp; done'")
    @Test
    public void prlimitOfTheDaemonIsRefused() throws Exception {
        // work for the daemon: 300 processes, each with a path through the mount
        Rel.Result r = attack("prlimit", "for i in $(seq 300); do ls /unreal/tmp >/dev/null; done; echo worked",
                "-p", "unreal");
        assertEquals(r.all(), 0, r.status());
        assertTrue(r.all(), r.out().contains("tried prlimit rc=-1 errno=Operation not permitted\nalive\n"));
        assertTrue(r.all(), r.out().contains("\nworked\n"));
    }

    @Ignore("bug (denial of service, lower severity): setpriority(PRIO_PROCESS, DAEMON, 19),"
            + " sched_setaffinity(DAEMON), sched_setscheduler(DAEMON, SCHED_IDLE) and ioprio_set(IOPRIO_WHO_PROCESS,"
            + " DAEMON) from inside a view all succeed (class '-' in x86_64.tbl; they take a pid, and any"
            + " daemon thread's tid from /proc/DAEMON/task works the same): the view can starve its own"
            + " tracer (nice 19, one CPU, SCHED_IDLE). Reproduce: viewos sh -c 'daemonescape"
            + " $PPID sched; grep Cpus_allowed_list /proc/$PPID/status'")
    @Test
    public void schedulingOfTheDaemonIsRefused() throws Exception {
        Rel.Result r = attack("sched", "true");
        assertEquals(r.all(), 0, r.status());
        assertEquals(r.all(), "4 of 4", Rel.field(r.out(), "refused"));
    }

    @Ignore("bug: a process in a view bypasses every mount with a seccomp filter of its own returning"
            + " SECCOMP_RET_USER_NOTIF (it ranks above the view's SECCOMP_RET_TRACE, so the daemon never sees"
            + " the call) answered by its own thread with SECCOMP_USER_NOTIF_FLAG_CONTINUE: the kernel runs"
            + " the call on the host path. A file hidden with --hide reads back. seccomp(2) is class '-';"
            + " SECCOMP_FILTER_FLAG_NEW_LISTENER should be refused (EPERM/EINVAL) in a view. Reproduce:"
            + " viewos --hide DIR notifbypass DIR/secret (itests/src/test/c/reliability/notifbypass.c)")
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
