package org.viewos.itests.reliability;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import java.nio.file.Path;

import org.junit.Test;

/**
 * Bad path pointers on translated calls (c/reliability/badptr.c: raw open, openat, creat, stat,
 * lstat, newfstatat, statx, access, faccessat, readlink(at), rename(at2), link, symlink, mkdir,
 * rmdir, unlink(at), chdir, chmod, truncate, utimensat, statfs, getxattr, execve, umount2,
 * mount(2), bind, connect with pointers 1, 0xdeadbeef000, an unterminated 8 KiB buffer and an
 * unterminated string running into an inaccessible page): in a view with mounts the errors are the
 * kernel's own, byte for byte as natively, and the daemon lives on.
 */
public class ReliabilityBadPointerTest {

    @Test
    public void sameErrorsAsNativelyInAViewWithMounts() throws Exception {
        Path p = Rel.program("badptr");
        Path dir = Rel.workDir("badptr");
        Rel.Result nat = Rel.nativeBash(dir, 60, p.toString());
        assertEquals(nat.all(), 0, nat.status());
        assertTrue(nat.all(), nat.out().contains("errno=EFAULT") && nat.out().contains("errno=ENAMETOOLONG"));
        String calls = Rel.field(nat.out(), "calls");
        // unreal's /unreal, plus a viewfs bind: two modules' mounts in the path
        String[][] views = {{"-p", "unreal"}, {"-p", "unreal", "-b", dir + ":" + dir}};
        for (String[] v : views) {
            Rel.Result r = Rel.viewBash(dir, 120, p + "; echo \"status=$?\"; vuname -U >/dev/null && echo daemon-alive", v);
            assertEquals(r.all(), 0, r.status());
            assertEquals(String.join(" ", v), nat.out() + "status=0\ndaemon-alive\n", r.out());
            assertEquals(r.all(), "", r.err());
        }
        Rel.report("bad pointers: " + calls + " calls, same errors as natively in 2 views ("
                + histogram(nat.out()) + ")");
    }

    @Test
    public void virtualMountWithBadPointersIsRefused() throws Exception {
        Path p = Rel.program("badptr");
        Path dir = Rel.workDir("badptr");
        Rel.Result r = Rel.viewBash(dir, 120, p + " unreal; echo \"status=$?\"; um_ls_service", "-p", "unreal");
        assertEquals(r.all(), 0, r.status());
        assertFalse(r.all(), r.out().contains("UNEXPECTED"));
        assertEquals(r.all(), 12, r.out().lines().filter(l -> l.endsWith(" refused")).count());
        assertTrue(r.all(), r.out().contains("status=0\nunreal: "));
    }

    private static String histogram(String out) {
        java.util.Map<String, Integer> h = new java.util.TreeMap<>();
        for (String l : out.split("\n")) {
            int i = l.indexOf("errno=");
            if (i >= 0) {
                h.merge(l.substring(i + 6), 1, Integer::sum);
            }
        }
        return h.toString();
    }
}
