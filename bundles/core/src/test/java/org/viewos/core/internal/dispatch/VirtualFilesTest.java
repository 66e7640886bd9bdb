package org.viewos.core.internal.dispatch;

import static org.junit.Assert.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.After;
import org.junit.Test;
import org.viewos.core.api.FileStat;
import org.viewos.core.api.OpenFile;
import org.viewos.core.api.VirtualFile;
import org.viewos.core.internal.vfs.Mount;

/**
 * When {@link VirtualFiles#collect} closes an entry: the view's processes here are real child
 * processes (their /proc/PID/fd is what collect walks), the entries streams like accepted sockets.
 */
public class VirtualFilesTest {
    private final Set<Integer> viewTids = java.util.concurrent.ConcurrentHashMap.newKeySet();
    private final VirtualFiles files = new VirtualFiles(() -> Set.copyOf(viewTids));
    private final java.util.List<Process> processes = new java.util.ArrayList<>();
    private final Mount mount = new Mount("none", "/dev/net/test", "test", "", "test", null, null, false);

    /** A stream (a socket's kind of open file) that counts its closes. */
    private static final class Stream implements OpenFile {
        final AtomicInteger closes = new AtomicInteger();

        @Override
        public long size() {
            return -1;
        }

        @Override
        public void close() {
            closes.incrementAndGet();
        }
    }

    private VirtualFiles.Entry adopt(Stream s) throws Exception {
        VirtualFile vf = new VirtualFile() {
            @Override
            public FileStat stat() {
                return new FileStat(0140777, 0, 0, 0, 0, 0);
            }

            @Override
            public OpenFile open(int flags) {
                return s;
            }
        };
        return files.adopt(vf, s, mount, "socket:/dev/net/test", VirtualFile.O_RDWR);
    }

    /** A process of the view: {@code bash -c script} (the placeholder as $0). */
    private int viewProcess(String script, String placeholder) throws Exception {
        Process p = new ProcessBuilder("bash", "-c", script, placeholder).start();
        processes.add(p);
        viewTids.add((int) p.pid());
        return (int) p.pid();
    }

    @After
    public void end() throws Exception {
        for (Process p : processes) {
            p.destroyForcibly().waitFor(); // our own children, by handle
        }
        files.closeAll();
    }

    /**
     * An accepted socket whose placeholder the caller is still opening is in no descriptor table:
     * a collect then (another thread's close) must not close it under the caller.
     */
    @Test
    public void anEntryBeingOpenedOutlivesACollect() throws Exception {
        Stream s = new Stream();
        VirtualFiles.Entry e = adopt(s);
        int opener = viewProcess("exec sleep 60", e.placeholder);
        files.opening(e, opener);
        files.collect();
        assertEquals("closed while its placeholder was being opened", 0, s.closes.get());
        // the open: a process holds the placeholder on descriptor 3 (a FIFO: O_RDWR does not block)
        int holder = viewProcess("exec 3<>\"$0\"; exec sleep 60", e.placeholder);
        Path fd3 = Path.of("/proc/" + holder + "/fd/3");
        for (int i = 0; i < 500 && !(Files.isSymbolicLink(fd3) && Files.readSymbolicLink(fd3).toString().equals(e.placeholder)); i++) {
            Thread.sleep(10);
        }
        assertEquals(e.placeholder, Files.readSymbolicLink(fd3).toString());
        files.opened(e, 3);
        files.collect();
        assertEquals("closed while a descriptor holds it", 0, s.closes.get());
        processes.get(1).destroyForcibly().waitFor();
        files.collect();
        assertEquals("not closed once nobody holds it", 1, s.closes.get());
    }

    @Test
    public void aFailedOpenReleasesTheEntry() throws Exception {
        Stream s = new Stream();
        VirtualFiles.Entry e = adopt(s);
        files.opening(e, viewProcess("exec sleep 60", e.placeholder));
        files.opened(e, -2); // ENOENT, say
        assertEquals(1, s.closes.get());
    }

    @Test
    public void anOpenerThatDiedLeavesNothingBehind() throws Exception {
        Stream s = new Stream();
        VirtualFiles.Entry e = adopt(s);
        int gone = Integer.MAX_VALUE; // no such thread in the view
        files.opening(e, gone);
        files.collect();
        assertEquals(1, s.closes.get());
    }
}
