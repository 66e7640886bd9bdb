package org.viewos.umfuse;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;

import org.junit.Test;
import org.viewos.core.api.Errno;
import org.viewos.core.api.FuseConnection;

/** The wire format against linux/fuse.h 7.38 sizes and offsets, and the session's reply matching. */
public class FuseTest {
    @Test
    public void requestHeaderAndInit() {
        byte[] body = Fuse.initIn(Fuse.KERNEL_FLAGS, 131072);
        assertEquals(64, body.length);
        byte[] r = Fuse.request(Fuse.INIT, 7, 0, 1000, 100, 0, body);
        ByteBuffer b = Fuse.le(r);
        assertEquals(104, b.getInt());
        assertEquals(26, b.getInt());
        assertEquals(7, b.getLong());
        assertEquals(0, b.getLong());
        assertEquals(1000, b.getInt());
        assertEquals(100, b.getInt());
        b.position(40);
        assertEquals(7, b.getInt());
        assertEquals(38, b.getInt());
        assertEquals(131072, b.getInt());
        int flags = b.getInt();
        assertTrue((flags & (1 << 30)) != 0); // INIT_EXT: flags2 follows
        assertTrue((flags & (1 << 23)) != 0); // CACHE_SYMLINKS
        assertEquals(0, b.getInt());
    }

    @Test
    public void initReplyOfLibfuse3AndLibfuse2() throws Exception {
        ByteBuffer b = Fuse.le(64);
        b.putInt(7).putInt(31).putInt(131072).putInt(0x40001).putShort((short) 12).putShort((short) 9).putInt(131072)
                .putInt(1).putShort((short) 32).putShort((short) 0).putInt(0);
        Fuse.InitOut o = Fuse.initOut(b.array());
        assertEquals(31, o.minor());
        assertEquals(0x40001, o.flags());
        assertEquals(131072, o.maxWrite());
        assertEquals(32, o.maxPages());
        ByteBuffer c = Fuse.le(24);
        c.putInt(7).putInt(19).putInt(4096).putInt(1).putShort((short) 0).putShort((short) 0).putInt(4096);
        assertEquals(19, Fuse.initOut(c.array()).minor());
    }

    @Test
    public void entryAttrAndDirents() throws Exception {
        ByteBuffer b = Fuse.le(128);
        b.putLong(42).putLong(1).putLong(1).putLong(1).putInt(0).putInt(0);
        b.putLong(42).putLong(5_000_000).putLong(9770).putLong(10).putLong(20).putLong(30).putInt(1).putInt(2).putInt(3)
                .putInt(0100644).putInt(1).putInt(1000).putInt(100).putInt(0).putInt(4096).putInt(0);
        Fuse.Entry e = Fuse.entryOut(b.array());
        assertEquals(42, e.nodeid());
        assertEquals(5_000_000, e.attr().size());
        assertEquals(20, e.attr().mtime());
        assertEquals(2, e.attr().mtimensec());
        assertTrue(e.attr().isReg());
        assertEquals(1000, e.attr().uid());

        ByteBuffer d = Fuse.le(64);
        d.putLong(1).putLong(1).putInt(1).putInt(4).put((byte) '.').position(32);
        d.putLong(2).putLong(2).putInt(5).putInt(8).put("hello".getBytes(StandardCharsets.US_ASCII));
        List<Fuse.Dirent> ds = Fuse.dirents(d.array());
        assertEquals(2, ds.size());
        assertEquals("hello", ds.get(1).name());
        assertEquals(2, ds.get(1).off());
        assertArrayEquals(new byte[] {'a', 'b', 0}, Fuse.name("ab"));
        assertEquals(40, Fuse.readIn(1, 2, 3, 0).length);
        assertEquals(24, Fuse.releaseIn(1, 0).length);
    }

    /** Replies: a stale one (earlier unique) and a notification are skipped; errors become Errno. */
    @Test
    public void sessionMatchesUniquesAndMapsErrors() throws Exception {
        Deque<byte[]> replies = new ArrayDeque<>();
        FuseConnection c = new FuseConnection() {
            @Override
            public int pid() {
                return 1;
            }

            @Override
            public void send(byte[] request) {
                long u = Fuse.le(request).getLong(8);
                replies.add(reply(0, u - 1, new byte[] {9}));
                replies.add(reply(0, 0, new byte[] {8}));
                replies.add(Fuse.le(request).getInt(4) == Fuse.READLINK ? reply(0, u, "tgt".getBytes(StandardCharsets.US_ASCII))
                        : reply(-2, u, new byte[0]));
            }

            @Override
            public byte[] receive(long timeoutMillis) throws Errno {
                if (replies.isEmpty()) {
                    throw new Errno(Errno.ETIMEDOUT);
                }
                return replies.poll();
            }

            @Override
            public boolean alive() {
                return true;
            }

            @Override
            public void close() {
            }
        };
        FuseSession s = new FuseSession(c, "test", 100, 0, 0);
        assertEquals("tgt", s.readlink(5));
        try {
            s.lookup(1, "x");
            throw new AssertionError("no ENOENT");
        } catch (Errno e) {
            assertEquals(Errno.ENOENT, e.code());
        }
    }

    private static byte[] reply(int error, long unique, byte[] body) {
        return Fuse.le(16 + body.length).putInt(16 + body.length).putInt(error).putLong(unique).put(body).array();
    }
}
