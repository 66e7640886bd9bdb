package org.viewos.itests.modules;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.Test;

/** ummisc: the view's own host name and clock; the host's stay as they are. */
public class UmmiscTest {
    @Test
    public void unameAndHostnameAreTheViews() throws Exception {
        Path dir = Launcher.workDir("uname");
        String hostBefore = Files.readString(Path.of("/proc/sys/kernel/hostname")).strip();
        Launcher.Result r = Launcher.bash(dir, String.join("\n",
                "uname -n",
                "um_add_service ummisc && mkdir u && viewmount -t ummiscuname none u",
                "ls u | tr '\\n' ' '; echo",
                "uname -n",
                "echo box > u/nodename; uname -n; hostname",
                "hostname other; cat u/nodename; uname -n",
                "python3 -c 'import os, socket; print(os.uname().nodename, socket.gethostname())'",
                "echo rel-9 > u/release; uname -r",
                "touch u/newfile 2>/dev/null; echo \"create=$?\"",
                "viewumount u; uname -n"));
        assertEquals("stderr: " + r.err(), 0, r.status());
        assertEquals(String.join("\n", hostBefore,
                "domainname machine nodename release sysname version ",
                hostBefore, "box", "box", "other", "other", "other other", "rel-9", "create=1", hostBefore, ""),
                r.out());
        assertEquals("the host's name is untouched", hostBefore,
                Files.readString(Path.of("/proc/sys/kernel/hostname")).strip());
    }

    @Test
    public void clockOffsetMovesDateButNotTheHost() throws Exception {
        Path dir = Launcher.workDir("time");
        Launcher.Result r = Launcher.bash(dir, String.join("\n",
                "um_add_service ummisc && mkdir t && viewmount -t ummisctime none t",
                "a=$(date +%s); echo 86400 > t/offset; b=$(date +%s)",
                "p=$(python3 -c 'import time; print(int(time.time()))')",
                "echo $(( b - a )) $(( p - a ))",
                "echo 0 > t/offset; c=$(date +%s); echo $(( c - a ))"));
        assertEquals("stderr: " + r.err(), 0, r.status());
        String[] lines = r.out().split("\n");
        String[] d = lines[0].split(" ");
        long dateShift = Long.parseLong(d[0]);
        long pyShift = Long.parseLong(d[1]);
        assertTrue("date one day ahead: " + r.out(), dateShift >= 86400 && dateShift < 86400 + 30);
        assertTrue("python's time.time() one day ahead: " + r.out(), pyShift >= 86400 && pyShift < 86400 + 30);
        long back = Long.parseLong(lines[1]);
        assertTrue("offset 0 is real time again: " + r.out(), back >= 0 && back < 30);
        long now = System.currentTimeMillis() / 1000;
        Launcher.Result host = Launcher.run(dir, null, "date", "+%s");
        assertTrue("a new view has the real clock", Math.abs(Long.parseLong(host.out().strip()) - now) < 30);
    }
}
