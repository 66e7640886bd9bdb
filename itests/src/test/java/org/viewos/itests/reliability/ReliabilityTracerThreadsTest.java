package org.viewos.itests.reliability;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.Test;

/**
 * A view has a tracer thread per CPU: a process that starts a program while another process of the
 * view runs is detached from its tracer thread asleep and seized by an idle one (ptrace cannot pass
 * a tracee between threads otherwise). What such a process does must be exactly what it does
 * natively: its output, its signals, its exit status, and those of the programs it starts.
 */
public class ReliabilityTracerThreadsTest {
    /** A busy loop keeps one process running, so every program started meanwhile moves. */
    private static final String SCRIPT = String.join("\n",
            "(while :; do :; done) & spin=$!",
            "for i in 3 1 2 5 4 8 7 6; do /bin/echo $i; done | /usr/bin/sort -n | /usr/bin/md5sum",
            "/bin/sh -c 'exit 7'; echo sh=$?",
            "sleep 30 & s=$!; kill -TERM $s; wait $s; echo term=$?",
            "sleep 30 & s=$!; kill -STOP $s; kill -CONT $s; kill -KILL $s; wait $s; echo kill=$?",
            "/usr/bin/python3 -c 'import os,signal; os.kill(os.getpid(), signal.SIGUSR1)'; echo usr1=$?",
            "find /usr/share/doc -type f | sort | md5sum",
            "/usr/bin/env | /usr/bin/grep -c . >/dev/null && echo env",
            "kill $spin; wait $spin; echo spin=$?");

    @Test
    public void programsMovedToAnotherTracerThreadBehaveAsNatively() throws Exception {
        Path dir = Rel.workDir("tracers");
        Rel.Result nat = Rel.nativeBash(dir, 120, SCRIPT);
        assertEquals(nat.all(), 0, nat.status());
        Rel.Result view = Rel.exec(dir, 120, Map.of("VIEWOS_JAVA_OPTS", "-Dviewos.stats=true -Dviewos.tracers=2"),
                List.of(Rel.viewos().toString(), "-x", "-p", "unreal", "bash", "-c", SCRIPT));
        assertEquals(view.all(), nat.out(), view.out());
        assertEquals(view.all(), 0, view.status());
        Matcher m = Pattern.compile("(\\d+) hand-offs; per tracer thread: stops/CPU ms (\\d+)/\\S+ .*? (\\d+)/").matcher(view.err());
        assertTrue("no tracer statistics:\n" + view.err(), m.find());
        int handOffs = Integer.parseInt(m.group(1));
        int second = Integer.parseInt(m.group(3));
        System.out.println("[reliability] tracer threads: " + handOffs + " processes moved to the second thread, "
                + m.group(2) + "/" + second + " stops served by the first/second");
        assertTrue("nothing moved to the second tracer thread:\n" + view.err(), handOffs > 0 && second > 0);
    }
}
