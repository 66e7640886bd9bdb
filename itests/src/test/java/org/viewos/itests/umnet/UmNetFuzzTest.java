package org.viewos.itests.umnet;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.After;
import org.junit.Before;
import org.junit.Test;
import org.viewos.itests.modules.Launcher;
import org.viewos.itests.modules.VdeSwitch;

/**
 * Hostile netlink input from a traced program against a view's lwip stack (resources net/nlfuzz.py):
 * lying lengths, truncated buffers, overrunning attributes, unknown types, random bytes, bad
 * pointers. The calls end with the kernel's answers (errors, NLMSG_ERROR acks, EFAULT), the
 * daemon stays up, and the stack still lists its interfaces afterwards.
 */
public class UmNetFuzzTest {
    private Path dir;
    private long switchPid = -1;

    @Before
    public void startSwitch() throws Exception {
        dir = Launcher.workDir("nlfuzz");
        try (InputStream in = getClass().getResourceAsStream("/net/nlfuzz.py")) {
            Files.write(dir.resolve("nlfuzz.py"), in.readAllBytes());
        }
        switchPid = VdeSwitch.start(dir);
    }

    @After
    public void stopSwitch() {
        VdeSwitch.stop(switchPid); // the switch we started
    }

    @Test
    public void hostileNetlinkInputLeavesTheStackUp() throws Exception {
        Launcher.Result v = Launcher.bash(dir, String.join("\n",
                "um_add_service umnet && viewmount -t umnetlwipv6 -o vd0=vde://" + dir.resolve("sw")
                        + ",addr=10.123.46.1/24 none /dev/net/lwip || exit 1",
                "mstack /dev/net/lwip python3 nlfuzz.py 40 7 && echo survived"));
        assertEquals("stderr: " + v.err(), 0, v.status());
        String[] out = v.out().split("\n");
        assertTrue(v.out(), out[0].startsWith("inputs "));
        int inputs = Integer.parseInt(out[0].substring(7));
        assertEquals(40 * (10 + 6), inputs);
        assertTrue("the stack still lists its interfaces: " + v.out(), out[1].startsWith("links ") && out[1].contains("vd0")
                && out[1].contains("lo"));
        assertEquals("survived", out[2]);
        assertTrue(v.err(), v.err().contains("send-bad-pointer EFAULT") && v.err().contains("recv-bad-pointer EFAULT"));
        // lwip's parser, given such input, reads past the message ("malformed packet: extra -2 bytes"):
        // the module lets only well-formed requests reach it
        assertTrue(v.err(), !v.err().contains("malformed packet"));
        System.out.println("[reliability] hostile netlink inputs to an lwip stack: " + inputs + "; outcomes: "
                + v.err().strip().replace('\n', ';'));
    }
}
