package org.viewos.itests.umdevtap;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import org.junit.After;
import org.junit.Before;
import org.junit.Test;
import org.viewos.itests.modules.Launcher;
import org.viewos.itests.modules.VdeSwitch;

/**
 * umdevtap: programs in a view open /dev/net/tun, attach a TAP and exchange Ethernet frames over a
 * real vde_switch with a real vde_plug peer outside, or with another view.
 */
public class UmDevTapTest {
    private Path dir;
    private long switchPid = -1;
    private Process peer;

    @Before
    public void startSwitch() throws Exception {
        dir = Launcher.workDir("tap");
        for (String r : new String[] {"peer.py", "tapview.py", "tapudp.py"}) {
            try (InputStream in = getClass().getResourceAsStream("/tap/" + r)) {
                Files.write(dir.resolve(r), in.readAllBytes());
            }
        }
        switchPid = VdeSwitch.start(dir);
    }

    @After
    public void stop() throws Exception {
        if (peer != null) {
            peer.destroy();
            peer.waitFor(10, TimeUnit.SECONDS);
        }
        VdeSwitch.stop(switchPid); // the switch we started
    }

    private String url() {
        return "vde://" + dir.resolve("sw");
    }

    @Test
    public void framesGoBothWaysWithAVdePlugPeerAndTheSwitchDyingIsAnError() throws Exception {
        peer = new ProcessBuilder("python3", dir.resolve("peer.py").toString(), url())
                .redirectErrorStream(true).redirectOutput(dir.resolve("peer.log").toFile()).start();
        for (int i = 0; i < 250 && !Files.readString(dir.resolve("peer.log")).contains("peer up"); i++) {
            Thread.sleep(20);
        }
        Path ready = dir.resolve("ready");
        Process view = Launcher.start(dir, null, "bash", "-c", String.join("\n",
                "um_add_service umdev && um_add_service umdevtap || exit 1",
                "viewmount -t umdevtap " + url() + " /dev/net/tun || exit 1",
                "stat -c '%F %t:%T' /dev/net/tun",
                "python3 tapview.py 300 " + ready,
                "echo view-still-up"));
        for (int i = 0; i < 1500 && !Files.exists(ready) && view.isAlive(); i++) {
            Thread.sleep(20);
        }
        assertTrue("the program in the view got through its exchange", Files.exists(ready));
        ProcessHandle.of(switchPid).ifPresent(ProcessHandle::destroy);
        assertTrue("the view ends after the switch is gone", view.waitFor(60, TimeUnit.SECONDS));
        String out = Files.readString(newest("stdout-"));
        assertEquals("stderr: " + Files.readString(newest("stderr-")), 0, view.exitValue());
        assertEquals(String.join("\n",
                "character special file a:c8",
                "before EBADFD EBADFD", "tun EINVAL", "name vtap0", "again EEXIST", "get vtap0 0x1002",
                "nonblocking EAGAIN", "echoed 300 identical True", "blocking True", "interrupted",
                "switch gone EIO", "view-still-up", ""), out);
    }

    @Test
    public void twoViewsTalkOverOneSwitch() throws Exception {
        String open = "import fcntl, os, struct, hashlib, sys\n"
                + "f = os.open('/dev/net/tun', os.O_RDWR)\n"
                + "fcntl.ioctl(f, 0x400454ca, struct.pack('16sH22x', b'', 0x1002))\n";
        Files.writeString(dir.resolve("rx.py"), open
                + "open(sys.argv[1], 'w').close()\n"
                + "h = hashlib.md5(); n = 0\n"
                + "import select\n"
                + "while n < 200 and select.select([f], [], [], 10)[0]:\n"
                + "    fr = os.read(f, 2000)\n"
                + "    if fr[12:14] == b'\\x88\\xb6': h.update(fr); n += 1\n"
                + "print(n, h.hexdigest())\n");
        Files.writeString(dir.resolve("tx.py"), open
                + "import time\nh = hashlib.md5()\n"
                + "for i in range(200):\n"
                + "    fr = b'\\xff' * 6 + bytes.fromhex('020000000009') + b'\\x88\\xb6' + os.urandom(60 + i * 7)\n"
                + "    h.update(fr); os.write(f, fr)\n"
                + "    time.sleep(0.005)  # a gentle rate: a switch may drop frames it cannot queue\n"
                + "print(200, h.hexdigest())\n");
        String mount = "um_add_service umdev && um_add_service umdevtap && viewmount -t umdevtap " + url()
                + " /dev/net/tun || exit 1\n";
        Path ready = dir.resolve("rx-ready");
        Process rx = Launcher.start(dir, null, "bash", "-c", mount + "python3 rx.py " + ready);
        for (int i = 0; i < 1500 && !Files.exists(ready) && rx.isAlive(); i++) {
            Thread.sleep(20);
        }
        assertTrue("receiver attached", Files.exists(ready));
        Launcher.Result tx = Launcher.bash(dir, mount + "python3 tx.py");
        assertEquals("sender: " + tx.err(), 0, tx.status());
        assertTrue("receiver done", rx.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, rx.exitValue());
        String got = Files.readString(newest("stdout-"));
        assertEquals("frames arrive byte-identical in the other view", tx.out(), got);
    }

    /** A tap user in one view and a umnet (liblwipv6) stack in another: ARP, then UDP echoes. */
    @Test
    public void aTapTalksToAUmnetStackOfAnotherView() throws Exception {
        Path ready = dir.resolve("lw-ready"), stop = dir.resolve("lw-stop");
        Files.writeString(dir.resolve("echo.py"), "import os, socket, sys\n"
                + "u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind(('10.123.46.1', 9000))\n"
                + "u.settimeout(0.5); open(sys.argv[1], 'w').close()\n"
                + "while not os.path.exists(sys.argv[2]):\n"
                + "    try:\n"
                + "        d, a = u.recvfrom(65536); u.sendto(d, a)\n"
                + "    except socket.timeout:\n"
                + "        pass\n");
        Process lw = Launcher.start(dir, null, "bash", "-c", "um_add_service umnet && viewmount -t umnetlwipv6 -o vd0="
                + url() + ",addr=10.123.46.1/24 none /dev/net/lwip || exit 1\n"
                + "mstack /dev/net/lwip python3 echo.py " + ready + " " + stop);
        for (int i = 0; i < 1500 && !Files.exists(ready) && lw.isAlive(); i++) {
            Thread.sleep(20);
        }
        assertTrue("the umnet view listens", Files.exists(ready));
        Launcher.Result tap;
        try {
            tap = Launcher.bash(dir, "um_add_service umdev && um_add_service umdevtap && viewmount -t umdevtap "
                    + url() + " /dev/net/tun || exit 1\npython3 tapudp.py 10.123.46.9 10.123.46.1");
        } finally {
            Files.writeString(stop, "");
        }
        assertTrue(lw.waitFor(60, TimeUnit.SECONDS));
        assertEquals("tap view: " + tap.err(), 0, tap.status());
        assertEquals("arp reply True\nudp echoes 20\n", tap.out());
    }

    private Path newest(String prefix) throws Exception {
        try (var s = Files.list(dir)) {
            return s.filter(p -> p.getFileName().toString().startsWith(prefix))
                    .max((a, b) -> a.getFileName().toString().compareTo(b.getFileName().toString())).orElseThrow();
        }
    }
}
