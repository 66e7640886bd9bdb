package org.viewos.itests.transparency;

import org.junit.Test;
import org.viewos.itests.transparency.Runner.Case;

/**
 * Shell scripts behave the same inside an empty view as outside.
 *
 * <p>What each test proves (native run and view run must give identical exit status, stdout and
 * stderr):
 * <ul>
 * <li>{@link #pipesRedirectionsHereDocs}: pipe creation, fd duplication (2&gt;&amp;1, exec 3&gt;),
 *     here-docs/here-strings (temp files or pipes), process substitution (/dev/fd magic links).
 * <li>{@link #subshellsAndCommandSubstitution}: fork without exec, $(...) and backquote capture
 *     through pipes, exit status propagation out of subshells, cwd isolation of subshells.
 * <li>{@link #backgroundJobsAndWait}: concurrent children, wait for a specific pid and for all,
 *     the 128+signal status of a killed job.
 * <li>{@link #traps}: signals sent to the shell itself run the trap, EXIT/ERR/RETURN traps, and a
 *     trapped signal interrupting {@code wait} (restart semantics of wait4 under a tracer).
 * <li>{@link #setEAndExitCodes}: {@code set -e}, pipefail, exit 42, 126/127 and their messages.
 * </ul>
 */
public class ShellTransparencyTest extends TransparencyTestBase {

    @Test
    public void pipesRedirectionsHereDocs() {
        same(Case.bash(String.join("\n",
                "seq 1 2000 | grep 7 | sort -rn | head -5",
                "echo to-stdout; echo to-stderr >&2",
                "{ echo a; echo b >&2; } 2>&1 | cat -n",
                "exec 3>fd3.txt; echo via3 >&3; exec 3>&-; cat fd3.txt",
                "echo appended >> fd3.txt; cat < fd3.txt; wc -l < fd3.txt",
                "ls /nonexistent 2>/dev/null || echo \"ls failed: $?\"",
                "cat <<EOF",
                "here-doc $((6*7)) $(echo substituted)",
                "EOF",
                "cat <<'EOF'",
                "quoted $HOME `not run`",
                "EOF",
                "tr a-z A-Z <<< 'here string'",
                "diff <(seq 3) <(seq 4); echo diff=$?",
                "cat /dev/fd/0 <<< 'via /dev/fd/0'",
                "yes | head -3",
                "echo done")));
        same(Case.sh("printf 'x\\ny\\n' | while read l; do echo \"[$l]\"; done; echo err 1>&2 | cat; cat <<EOF\ndash heredoc\nEOF"));
    }

    @Test
    public void subshellsAndCommandSubstitution() {
        same(Case.bash(String.join("\n",
                "x=outer; (x=inner; echo \"in: $x\"; exit 3); echo \"sub=$? x=$x\"",
                "n=$(seq 100 | wc -l); echo n=$n",
                "nested=$(echo $(echo $(echo deep))); echo $nested",
                "y=`expr 2 + 3`; echo y=$y",
                "( cd / && pwd ); pwd",
                "echo $(( $(printf '%d' 0x10) * 2 ))",
                "big=$(seq 1 50000); echo ${#big}",
                "out=$(echo o; echo e >&2) 2>/dev/null; echo \"captured=$out\"",
                "r=$( (exit 17) ); echo status=$?")));
    }

    @Test
    public void backgroundJobsAndWait() {
        same(Case.bash(String.join("\n",
                "(sleep 0.3; exit 3) & a=$!",
                "(sleep 0.1; exit 5) & b=$!",
                "sleep 0.05 &",
                "wait $a; echo a=$?",
                "wait $b; echo b=$?",
                "wait; echo all=$?",
                "sleep 10 & c=$!; kill -TERM $c; wait $c; echo killed=$?",
                "for i in 1 2 3 4 5 6; do (echo job $i > job$i.out) & done; wait; cat job*.out",
                "(seq 1 10000 | sha1sum > bg.sum) & wait; cat bg.sum",
                "jobs; echo no-jobs-left")));
        same(Case.sh("(sleep 0.1; exit 4) & wait $!; echo dash-wait=$?"));
    }

    @Test
    public void traps() {
        same(Case.bash(String.join("\n",
                "trap 'echo EXIT trap $?' EXIT",
                "trap 'echo got USR1' USR1",
                "trap 'echo got TERM' TERM",
                "kill -USR1 $$",
                "kill -TERM $$",
                "echo after signals",
                "f() { trap 'echo RETURN trap' RETURN; echo in f; }; f; trap - RETURN",
                "(trap 'echo subshell exit' EXIT; exit 4); echo sub=$?",
                // a trapped signal arriving while the shell is blocked in wait(2)
                "trap 'echo USR2 during wait' USR2",
                // (generous delays: the signal must land after the shell has entered wait, even
                // under a slow tracer; the sleeper is killed right after)
                "sleep 60 & w=$!",
                "(sleep 1; kill -USR2 $$) &",
                "wait $w; echo wait returned $?",
                "kill $w; wait $w; echo sleeper=$?",
                "set -E; trap 'echo ERR trap at line $LINENO' ERR",
                "false",
                "exit 9")));
        same(Case.sh("trap 'echo dash EXIT' EXIT; trap 'echo dash INT' INT; kill -INT $$; echo after; exit 2"));
    }

    @Test
    public void setEAndExitCodes() {
        same(Case.bash("set -e; echo one; false; echo never"));
        same(Case.sh("set -e; sh -c 'exit 7'; echo never"));
        same(Case.bash("set -eo pipefail; true | false | true; echo never"));
        same(Case.bash("set -e; if false; then :; fi; false || echo or-ok; ! true; echo survived"));
        same(Case.sh("exit 42"));
        same(Case.bash("echo bye; exit 42"));
        same(Case.sh("no-such-command-here; echo status=$?"));
        same(Case.sh("no-such-command-here"));
        same(Case.sh("printf 'echo x\\n' > notexec.sh; chmod 644 notexec.sh; ./notexec.sh; echo status=$?"));
        same(Case.bash("exit 300"));
        same(Case.of("/bin/false"));
        same(Case.of("/bin/true"));
    }
}
