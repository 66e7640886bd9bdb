package org.viewos.itests.reliability;

import static org.junit.Assert.assertEquals;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.Test;
import org.viewos.itests.modules.Launcher;

/**
 * Job control at a terminal, as a user types it (resources reliability/ptyjobs.py drives a
 * pseudo-terminal): in an interactive bash, Ctrl-Z stops a foreground sleep, jobs lists it, fg
 * continues it, Ctrl-C ends it (status 130), a background job brought back with fg too — the same
 * natively and with that bash in a view.
 */
public class ReliabilityTerminalTest {
    @Test
    public void ctrlZJobsFgAndCtrlCInAnInteractiveBash() throws Exception {
        Path dir = Launcher.workDir("pty");
        try (InputStream in = getClass().getResourceAsStream("/reliability/ptyjobs.py")) {
            Files.write(dir.resolve("ptyjobs.py"), in.readAllBytes());
        }
        String bash = "bash --norc --noprofile -i";
        Launcher.Result nat = shell(dir, "python3 ptyjobs.py " + bash);
        Launcher.Result view = shell(dir, "python3 ptyjobs.py " + Launcher.viewos() + " " + bash);
        String expected = "ctrl-z: stopped\njobs: sleep stopped\nafter fg and ctrl-c: status=130\n"
                + "background job, fg, ctrl-c: status=130 jobs-left=0\nexit: 0\n";
        assertEquals("natively; stderr: " + nat.err(), expected, nat.out());
        assertEquals("in a view; stderr: " + view.err(), expected, view.out());
    }

    private static Launcher.Result shell(Path dir, String cmd) throws Exception {
        Process p = new ProcessBuilder("bash", "-c", cmd).directory(dir.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
        String out = new String(p.getInputStream().readAllBytes());
        String err = new String(p.getErrorStream().readAllBytes());
        p.waitFor();
        return new Launcher.Result(p.exitValue(), out, err);
    }
}
