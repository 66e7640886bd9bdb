package org.viewos.itests.modules;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/** A real vde_switch for a test: started in {@code dir} (socket dir/sw), ended by its pid. */
public final class VdeSwitch {
    private VdeSwitch() {
    }

    /** Starts {@code vde_switch -d} and returns its pid, read once the switch has written it. */
    public static long start(Path dir) throws Exception {
        Path pidFile = dir.resolve("sw.pid");
        Process sw = new ProcessBuilder("vde_switch", "-s", dir.resolve("sw").toString(), "-M",
                dir.resolve("mgmt").toString(), "-d", "-p", pidFile.toString()).redirectErrorStream(true).start();
        assertTrue("vde_switch -d returned", sw.waitFor(30, TimeUnit.SECONDS));
        assertEquals("vde_switch -d: " + new String(sw.getInputStream().readAllBytes()), 0, sw.exitValue());
        for (int i = 0; i < 500; i++) {
            String pid = Files.exists(pidFile) ? Files.readString(pidFile).strip() : "";
            if (pid.matches("[0-9]+")) {
                return Long.parseLong(pid);
            }
            Thread.sleep(10); // the daemon has not written it yet (the file may exist empty)
        }
        throw new AssertionError("vde_switch wrote no pid into " + pidFile);
    }

    /** Ends the switch {@link #start} started. */
    public static void stop(long pid) {
        if (pid > 0) {
            ProcessHandle.of(pid).ifPresent(ProcessHandle::destroy);
        }
    }
}
