package org.viewos.core.internal.fuse;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;
import static org.junit.Assume.assumeTrue;

import java.io.File;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.util.List;

import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;
import org.viewos.core.api.Errno;
import org.viewos.core.api.FuseConnection;
import org.viewos.core.internal.ffi.Spawn;

/** A real libfuse3 daemon (squashfuse) on the socketpair: it answers FUSE_INIT and LOOKUP. */
public class FuseTransportTest {
    @Rule
    public TemporaryFolder tmp = new TemporaryFolder();

    private static byte[] request(int opcode, long unique, long nodeid, byte[] body) {
        ByteBuffer b = ByteBuffer.allocate(40 + body.length).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(40 + body.length).putInt(opcode).putLong(unique).putLong(nodeid).putInt(0).putInt(0).putInt(1)
                .putShort((short) 0).putShort((short) 0).put(body);
        return b.array();
    }

    private File image() throws Exception {
        assumeTrue("mksquashfs and squashfuse installed", Spawn.which("mksquashfs", System.getenv("PATH")) != null
                && Spawn.which("squashfuse", System.getenv("PATH")) != null);
        File tree = tmp.newFolder("tree");
        Files.writeString(tree.toPath().resolve("hello.txt"), "hello\n");
        File img = new File(tmp.getRoot(), "t.sqsh");
        Process p = new ProcessBuilder("mksquashfs", tree.getPath(), img.getPath(), "-noappend", "-quiet")
                .redirectErrorStream(true).redirectOutput(new File(tmp.getRoot(), "mk.log")).start();
        assertEquals(0, p.waitFor());
        return img;
    }

    @Test
    public void squashfuseAnswersInitAndLookup() throws Exception {
        File img = image();
        FuseTransportImpl t = new FuseTransportImpl();
        try (FuseConnection c = t.start(List.of("squashfuse", "-f", img.getPath(), "/dev/fd/3"), 3,
                new File(tmp.getRoot(), "daemon.log").getPath())) {
            ByteBuffer init = ByteBuffer.allocate(64).order(ByteOrder.LITTLE_ENDIAN);
            init.putInt(7).putInt(38).putInt(128 * 1024).putInt(0);
            c.send(request(26, 1, 0, init.array()));
            ByteBuffer r = ByteBuffer.wrap(c.receive(10_000)).order(ByteOrder.LITTLE_ENDIAN);
            assertEquals("error of INIT", 0, r.getInt(4));
            assertEquals("unique", 1L, r.getLong(8));
            assertEquals("major", 7, r.getInt(16));
            byte[] name = "hello.txt\0".getBytes();
            c.send(request(1, 2, 1, name)); // LOOKUP in the root
            ByteBuffer l = ByteBuffer.wrap(c.receive(10_000)).order(ByteOrder.LITTLE_ENDIAN);
            assertEquals("error of LOOKUP", 0, l.getInt(4));
            assertEquals("size of hello.txt in fuse_attr", 6L, l.getLong(16 + 40 + 8));
            c.send(request(1, 3, 1, "nope\0".getBytes()));
            assertEquals("ENOENT", -2, ByteBuffer.wrap(c.receive(10_000)).order(ByteOrder.LITTLE_ENDIAN).getInt(4));
            assertTrue(c.alive());
            c.close();
            assertFalse(c.alive());
            try {
                c.send(request(1, 4, 1, name));
                fail("send after close");
            } catch (Errno e) {
                assertEquals(Errno.ENODEV, e.code());
            }
        } finally {
            t.deactivate();
        }
    }

    @Test
    public void missingProgramIsEnoent() throws Exception {
        FuseTransportImpl t = new FuseTransportImpl();
        try {
            t.start(List.of("no-such-fuse-daemon"), 3, null);
            fail("started a missing program");
        } catch (Errno e) {
            assertEquals(Errno.ENOENT, e.code());
        } finally {
            t.deactivate();
        }
    }

    @Test
    public void deadDaemonIsEnodevNotAHang() throws Exception {
        FuseTransportImpl t = new FuseTransportImpl();
        try (FuseConnection c = t.start(List.of("true"), 3, null)) {
            long t0 = System.nanoTime();
            try {
                c.receive(10_000);
                fail("a reply from /bin/true");
            } catch (Errno e) {
                assertEquals(Errno.ENODEV, e.code());
            }
            assertTrue("not a timeout", System.nanoTime() - t0 < 9_000_000_000L);
        } finally {
            t.deactivate();
        }
    }
}
