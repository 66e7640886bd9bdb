package org.viewos.itests.transparency;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import org.junit.Test;
import org.viewos.itests.transparency.Runner.Case;

/**
 * Small C programs (itests/src/test/c, compiled natively with gcc at test time; no gcc = skip)
 * behave the same natively and in an empty view.
 *
 * <p>What each test proves (identical exit status, stdout, stderr):
 * <ul>
 * <li>{@link #threadsWithMutexAndCondvar}: 8 pthreads (clone3 on glibc 2.36), futex-based mutex,
 *     condvar and join: thread creation and futex waits are not disturbed by the tracer.
 * <li>{@link #posixSpawnAndWaitpid}: posix_spawn (clone(CLONE_VM|CLONE_VFORK)), file actions,
 *     a spawn error reported through the vfork pipe, statuses seen by waitpid, $PPID relation.
 * <li>{@link #timersInterruptBlockingCalls}: SIGALRM from setitimer interrupts nanosleep, pause
 *     and read with EINTR; with SA_RESTART read is restarted; a periodic timer ticks 5 times.
 *     Syscall restart is exactly what a ptrace tracer can get wrong.
 * <li>{@link #deathBySignal}: a process dying by SIGTERM/SIGSEGV/SIGKILL gives 143/139/137 both
 *     to the shell inside the view and, as the launcher's own status, to the caller outside.
 * <li>{@link #forkExecChains}: fork + exec of /proc/self/exe six levels deep, fork without exec.
 * <li>{@link #vfork}: vfork shares memory until _exit/exec; a failed exec in the child.
 * <li>{@link #clone3}: raw clone3 fork-like and with CLONE_PIDFD, waitid(P_PIDFD).
 * <li>{@link #signalHandlers}: SA_SIGINFO (si_code, si_pid), sigaltstack, sigqueue, blocked and
 *     pending signals, child-to-parent signals, SIGCHLD, SIG_IGN surviving exec.
 * <li>{@link #processSelfKnowledge}: open fds (fstat 0..1023, flags, cloexec, targets: no leak
 *     from the launcher/daemon), ids, getppid == the parent shell's pid, getsid == its session,
 *     /proc/self/exe, getcwd after chdir/fchdir/chdir through a symlink and /proc/self/cwd.
 * </ul>
 * Normalization: none; the programs print relations (ppid == shell pid) instead of pids.
 */
public class CProgramTransparencyTest extends TransparencyTestBase {

    private static String prog(String name) {
        return CPrograms.get(name).toString();
    }

    @Test
    public void threadsWithMutexAndCondvar() {
        same(Case.of(prog("threads")));
    }

    @Test
    public void posixSpawnAndWaitpid() {
        same(Case.of(prog("spawn")));
    }

    @Test
    public void timersInterruptBlockingCalls() {
        Runner.Pair p = same(Case.of(prog("timers")));
        assertTrue(p.view.stdout, p.view.stdout.contains("EINTR count=4\n"));
    }

    @Test
    public void deathBySignal() {
        String k = prog("killself");
        int[] expected = {143, 139, 137};
        String[] sigs = {"TERM", "SEGV", "KILL"};
        for (int i = 0; i < sigs.length; i++) {
            // the command itself dies: the launcher's exit status is 128+signal
            Runner.Pair direct = same(Case.of(k, sigs[i]));
            assertEquals("status of a process killed by SIG" + sigs[i], expected[i], direct.view.exit);
            // a shell inside the view sees the signal status of its child
            Runner.Pair viaShell = same(Case.sh(k + " " + sigs[i] + "; echo status=$?"));
            assertTrue(viaShell.view.stdout, viaShell.view.stdout.contains("status=" + expected[i]));
            // bash reports the signal on stderr ("line 1: <pid> Segmentation fault ..."); the pid
            // in that message differs between any two runs and is masked
            same(Case.bash(k + " " + sigs[i] + "; echo status=$?")
                    .normalize(s -> s.replaceAll("(line [0-9]+: ) *[0-9]+ ", "$1PID ")));
        }
    }

    @Test
    public void forkExecChains() {
        Runner.Pair p = same(Case.of(prog("forkexec"), "6"));
        assertEquals(7, p.view.exit);
    }

    @Test
    public void vfork() {
        same(Case.of(prog("vforkt")));
    }

    @Test
    public void clone3() {
        same(Case.of(prog("clone3t")));
    }

    @Test
    public void signalHandlers() {
        same(Case.of(prog("signals")));
    }

    @Test
    public void processSelfKnowledge() {
        String pi = prog("procinfo");
        // run as a child of a shell in the view; the shell passes its pid and session id
        Runner.Pair p = same(Case.sh(pi + " $$ $(ps -o sid= -p $$)"));
        assertTrue(p.view.stdout, p.view.stdout.contains("getppid==shell pid: yes"));
        assertTrue(p.view.stdout, p.view.stdout.contains("getsid==shell sid: yes"));
        assertTrue(p.view.stdout, p.view.stdout.contains("open fds: 3\n"));
        // run directly as the launched command, stdin a pipe
        same(Case.of(pi).stdin("input\n"));
    }
}
