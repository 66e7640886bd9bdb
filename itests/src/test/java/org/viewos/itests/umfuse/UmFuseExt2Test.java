package org.viewos.itests.umfuse;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.junit.Assume.assumeTrue;

import java.io.File;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.BeforeClass;
import org.junit.Test;
import org.viewos.itests.modules.Launcher;

/**
 * umfuse with the real fuse2fs (a libfuse2 daemon, started with umfuse's stand-in fusermount):
 * ext2 images made without root by {@code mke2fs -d}, changed in a view with real tools, then
 * checked from outside with e2fsck and debugfs against the same changes made natively.
 */
public class UmFuseExt2Test {
    @BeforeClass
    public static void tools() {
        for (String t : List.of("mke2fs", "fuse2fs", "e2fsck", "debugfs", "unshare", "python3")) {
            assumeTrue(t + " missing", UmFuseArchivesTest.onPath(t));
        }
    }

    /** A source tree: files, an unread one, a deep unread directory, a symlink, an empty directory. */
    private static Path sourceTree(Path dir) throws Exception {
        Launcher.Result r = UmFuseArchivesTest.sh(dir, String.join("\n",
                "set -e",
                "mkdir -p src/sub src/emptydir src/tree/a/b src/keep/x/y",
                "echo hello > src/a.txt; echo x > src/sub/x.txt; echo y > src/sub/y.txt",
                "for i in 1 2 3; do echo $i > src/tree/a/b/$i; echo k$i > src/keep/x/y/$i; done",
                "echo t > src/trunc.txt; echo shrinkme > src/shrink.txt; echo m > src/mode.txt; echo old > src/over.txt",
                "seq 1 30000 > src/untouched.txt; ln -s a.txt src/link",
                "touch -d @999 src/a.txt"));
        assertEquals(r.err(), 0, r.status());
        return dir.resolve("src");
    }

    private static void mkfs(Path dir, String src, String img) throws Exception {
        Launcher.Result r = UmFuseArchivesTest.sh(dir, "mke2fs -q -t ext2 -d " + src + " " + img + " 32M");
        assertEquals(r.err(), 0, r.status());
    }

    /** find listing (type, mode, size, link target) and md5 of every file, as text. */
    private static String describe(Path dir, String tree) throws Exception {
        Launcher.Result r = UmFuseArchivesTest.sh(dir, "cd " + tree + " && find . ! -type p ! -name lost+found"
                + " -printf '%p %M %s %l\\n' | sort && find . -type f ! -path './lost+found*' | sort | xargs md5sum");
        assertEquals(r.err(), 0, r.status());
        return r.out();
    }

    @Test
    public void changesMadeInTheViewAreInTheImageAfterItEnds() throws Exception {
        Path dir = Launcher.workDir("ext2rw");
        sourceTree(dir);
        mkfs(dir, "src", "img");
        try (InputStream in = UmFuseExt2Test.class.getResourceAsStream("/umfuse/ext2-ops.sh")) {
            Files.copy(in, dir.resolve("ops.sh"));
        }
        Launcher.Result nat = UmFuseArchivesTest.sh(dir, "cp -a src native && bash ops.sh native && md5sum native/big.bin"
                + " && echo last >> native/a.txt");
        assertEquals(nat.err(), 0, nat.status());
        // the view ends with the mount still there: the write-back happens on the way out
        Launcher.Result v = Launcher.bash(dir, String.join("\n",
                "set -e",
                "um_add_service umfuse && mkdir mnt && viewmount -t umfuseext2 -o rw img mnt",
                "bash ops.sh mnt",
                "md5sum mnt/big.bin",
                "cat mnt/m1/moved.txt mnt/renamed-unread.txt mnt/kept/x/y/2 | md5sum",
                "echo last >> mnt/a.txt")); // no call reaches the mount after this one: only the exit writes it back
        assertEquals("stderr: " + v.err(), 0, v.status());
        String natSums = UmFuseArchivesTest.sh(dir, "cat native/m1/moved.txt native/renamed-unread.txt native/kept/x/y/2 | md5sum").out();
        assertEquals(nat.out().replace("native/", "mnt/") + natSums, v.out());

        Launcher.Result fsck = UmFuseArchivesTest.sh(dir, "e2fsck -fn img");
        assertEquals("e2fsck: " + fsck.out() + fsck.err(), 0, fsck.status());
        Launcher.Result dump = UmFuseArchivesTest.sh(dir, "mkdir dump && debugfs -R 'rdump / dump' img");
        assertEquals(dump.err(), 0, dump.status());
        assertEquals(describe(dir, "native"), describe(dir, "dump"));
        // what rdump does not show: the hard link, the fifo, a time set in the view
        Launcher.Result ls = UmFuseArchivesTest.sh(dir, "debugfs -R 'ls -l /' img 2>/dev/null"
                + " | awk '$NF == \"new.txt\" || $NF == \"hard\" {print $1, $2, $NF} $NF == \"fifo\" {print $2, $NF}'"
                + " && debugfs -R 'stat /m1/moved.txt' img 2>/dev/null | grep -E '^ *mtime'");
        String[] lines = ls.out().strip().split("\n");
        assertEquals(ls.out(), 4, lines.length);
        String ino = null;
        for (String l : lines) {
            if (l.endsWith(" new.txt") || l.endsWith(" hard")) {
                String[] f = l.split(" ");
                assertEquals(l, "100644", f[1]);
                if (ino == null) {
                    ino = f[0];
                } else {
                    assertEquals("one inode for both names: " + ls.out(), ino, f[0]);
                }
            }
        }
        assertTrue(ls.out(), ls.out().contains("10644 fifo"));
        assertTrue(ls.out(), ls.out().contains("mtime: 0x3b9aca00"));
    }

    @Test
    public void readOnlyMountShowsTheSourceTreeAndChangesNothing() throws Exception {
        Path dir = Launcher.workDir("ext2ro");
        sourceTree(dir);
        mkfs(dir, "src", "img");
        String cmds = String.join("\n",
                "ls -lR -I lost+found --time-style=+%s D | grep -v '^total '"
                        + " | awk '$1 ~ /^d/ {$5=\"-\"} {$1=$1; print}'",
                "md5sum D/untouched.txt D/a.txt",
                "readlink D/link; cat D/link",
                "find D ! -name lost+found | sort",
                "(cd D && tar cf - --exclude=./lost+found --sort=name --owner=0 --group=0 .) | md5sum");
        Launcher.Result nat = UmFuseArchivesTest.sh(dir, "md5sum img > img.md5 && " + cmds.replace("D", "src"));
        assertEquals(nat.err(), 0, nat.status());
        Launcher.Result v = Launcher.bash(dir, String.join("\n",
                "um_add_service umfuse && mkdir mnt && viewmount -t umfuseext2 -o ro img mnt || exit 1",
                cmds.replace("D", "mnt"),
                "touch mnt/x 2>/dev/null; echo \"touch=$?\"",
                "rm mnt/a.txt 2>/dev/null; echo \"rm=$?\"",
                "viewumount mnt; echo \"umount=$?\""));
        assertEquals("stderr: " + v.err(), 0, v.status());
        assertEquals(nat.out().replace("src", "mnt") + "touch=1\nrm=1\numount=0\n", v.out());
        assertEquals(0, UmFuseArchivesTest.sh(dir, "md5sum -c --quiet img.md5").status());
    }

    @Test
    public void badMountsAndABusyMountGiveTheirErrors() throws Exception {
        Path dir = Launcher.workDir("ext2err");
        sourceTree(dir);
        mkfs(dir, "src", "img");
        Launcher.Result v = Launcher.bash(dir, String.join("\n",
                "um_add_service umfuse && mkdir mnt && head -c 100000 /dev/zero > junk",
                "viewmount -t umfuseext9 img mnt; echo \"typo=$?\"",
                "viewmount -t umfuseext2 junk mnt; echo \"junk=$?\"",
                "viewmount -t umfuseext2 img mnt && echo written > mnt/w.txt",
                "exec 3< mnt/a.txt",
                "viewumount mnt; echo \"open=$?\"",
                "exec 3<&-",
                "cd mnt/sub && viewumount ..; echo \"cwd=$?\"; cd ../..",
                "viewumount mnt; echo \"umount=$?\"",
                "ls mnt | wc -l"));
        assertEquals("stderr: " + v.err(), 0, v.status());
        assertEquals("typo=1\njunk=1\nopen=1\ncwd=1\numount=0\n0\n", v.out());
        String[] err = v.err().strip().split("\n");
        assertEquals(v.err(), 4, err.length);
        assertTrue(v.err(), err[0].contains("No such device"));
        assertTrue(v.err(), err[1].contains("Input/output error") && err[1].contains("Bad magic number"));
        assertTrue(v.err(), err[2].contains("Device or resource busy"));
        assertTrue(v.err(), err[3].contains("Device or resource busy"));
        assertEquals("written\n", UmFuseArchivesTest.sh(dir, "debugfs -R 'cat /w.txt' img 2>/dev/null").out());
    }

    /** The daemon killed under a mount: calls that need it fail with EIO, the view goes on and ends. */
    @Test
    public void aDaemonThatDiesGivesEio() throws Exception {
        Path dir = Launcher.workDir("ext2dies");
        sourceTree(dir);
        mkfs(dir, "src", "img");
        Path img = dir.resolve("img").toRealPath();
        Path out = dir.resolve("out.txt");
        Process p = Launcher.start(dir, null, "bash", "-c", String.join("\n",
                "um_add_service umfuse && mkdir mnt && viewmount -t umfuseext2 img mnt && cat mnt/a.txt > out.txt",
                "touch ready",
                "while [ ! -e killed ]; do sleep 0.05; done",
                "cat mnt/sub/x.txt; echo \"cat=$?\" >> out.txt",
                "echo new > mnt/new.txt; echo \"write=$?\" >> out.txt",
                "viewumount mnt; echo \"umount=$?\" >> out.txt"));
        try {
            fuse2fsOnceReady(dir, p, img).destroyForcibly(); // SIGKILL: it stays a zombie until umfuse notices
            Files.createFile(dir.resolve("killed"));
            assertTrue("the view ended", p.waitFor(60, TimeUnit.SECONDS));
        } finally {
            p.destroyForcibly();
        }
        assertEquals(0, p.exitValue());
        assertEquals("hello\ncat=1\nwrite=1\numount=0\n", Files.readString(out));
        assertTrue(new File(dir.toFile(), "killed").exists());
    }

    /**
     * The daemon stopped (SIGSTOP) under a mount: the process reading from it waits, every other
     * process of the view goes on; the read fails with EIO when umfuse's 10 s answer timeout passes;
     * once the daemon continues, the mount serves again.
     */
    @Test
    public void aDaemonThatHangsKeepsOnlyItsCallersWaiting() throws Exception {
        Path dir = Launcher.workDir("ext2hangs");
        sourceTree(dir);
        mkfs(dir, "src", "img");
        Path img = dir.resolve("img").toRealPath();
        Path order = dir.resolve("order");
        Process p = Launcher.start(dir, null, "bash", "-c", String.join("\n",
                "um_add_service umfuse && mkdir mnt && viewmount -t umfuseext2 img mnt && cat mnt/a.txt > /dev/null",
                "touch ready",
                "while [ ! -e stopped ]; do sleep 0.05; done",
                "(cat mnt/sub/x.txt 2>x.err; echo \"cat=$?\" >> order) &",
                "sleep 0.5; ls / > /dev/null && echo others-ran >> order",
                "touch waiting",
                "wait; while [ ! -e continued ]; do sleep 0.05; done",
                "cat mnt/sub/y.txt >> order",
                "viewumount mnt; echo \"umount=$?\" >> order"));
        ProcessHandle daemon = null;
        try {
            daemon = fuse2fsOnceReady(dir, p, img);
            signal("STOP", daemon.pid());
            Files.createFile(dir.resolve("stopped"));
            for (int i = 0; i < 400 && !Files.exists(dir.resolve("waiting")) && p.isAlive(); i++) {
                Thread.sleep(50);
            }
            assertTrue("the view went on while its FUSE daemon was stopped", Files.exists(dir.resolve("waiting")));
            assertEquals("others-ran\n", Files.readString(order));
            for (int i = 0; i < 600 && !Files.readString(order).contains("cat=") && p.isAlive(); i++) {
                Thread.sleep(50);
            }
            signal("CONT", daemon.pid());
            daemon = null;
            Files.createFile(dir.resolve("continued"));
            assertTrue("the view ended", p.waitFor(60, TimeUnit.SECONDS));
        } finally {
            if (daemon != null) {
                signal("CONT", daemon.pid());
            }
            p.destroyForcibly();
        }
        assertEquals(0, p.exitValue());
        assertEquals("others-ran\ncat=1\ny\numount=0\n", Files.readString(order));
        assertTrue(Files.readString(dir.resolve("x.err")), Files.readString(dir.resolve("x.err")).contains("Input/output error"));
    }

    /**
     * Write-back sends what changed, not the whole file: appending a line to a 2 MB file costs one
     * or two WRITE requests (counted with -o debug), and editing a byte in the middle one; the image
     * has the right content afterwards.
     */
    @Test
    public void writeBackSendsOnlyChangedPieces() throws Exception {
        Path dir = Launcher.workDir("ext2pieces");
        Launcher.Result mk = UmFuseArchivesTest.sh(dir, "set -e; mkdir T; head -c 2097152 /dev/urandom > T/big;"
                + " mke2fs -q -t ext2 -d T img 16M; cp T/big expect; echo appended >> expect;"
                + " printf X | dd of=expect bs=1 seek=1000000 conv=notrunc status=none");
        assertEquals(mk.err(), 0, mk.status());
        Launcher.Result v = Launcher.bash(dir, String.join("\n",
                "um_add_service umfuse && mkdir mnt || exit 1",
                "viewmount -t umfuseext2 -o debug img mnt 2>/dev/null && md5sum < mnt/big > /dev/null || exit 1",
                "echo appended >> mnt/big; ls mnt > /dev/null; echo first-write-back >&2",
                "printf X | dd of=mnt/big bs=1 seek=1000000 conv=notrunc status=none; ls mnt > /dev/null",
                "echo second-write-back >&2; viewumount mnt"));
        assertEquals("stderr: " + v.err(), 0, v.status());
        String err = v.err();
        String first = err.substring(0, err.indexOf("first-write-back"));
        String second = err.substring(err.indexOf("first-write-back"), err.indexOf("second-write-back"));
        assertTrue(first, count(first, " opcode 16 ") >= 1 && count(first, " opcode 16 ") <= 2);
        assertEquals(second, 1, count(second, " opcode 16 "));
        Launcher.Result check = UmFuseArchivesTest.sh(dir, "debugfs -R 'cat /big' img 2>/dev/null | md5sum; md5sum < expect");
        String[] l = check.out().split("\n");
        assertEquals(l[1], l[0]);
    }

    private static int count(String s, String what) {
        int n = 0;
        for (int i = s.indexOf(what); i >= 0; i = s.indexOf(what, i + 1)) {
            n++;
        }
        return n;
    }

    /** Waits for the view's file "ready", then finds the one fuse2fs serving {@code img}. */
    private static ProcessHandle fuse2fsOnceReady(Path dir, Process view, Path img) throws InterruptedException {
        for (int i = 0; i < 1200 && !Files.exists(dir.resolve("ready")) && view.isAlive(); i++) {
            Thread.sleep(50);
        }
        assertTrue("the view mounted", Files.exists(dir.resolve("ready")));
        List<ProcessHandle> daemons = ProcessHandle.allProcesses().filter(h -> h.info().arguments()
                .map(a -> List.of(a).contains(img.toString())).orElse(false)
                && h.info().command().orElse("").endsWith("fuse2fs")).toList();
        assertEquals("one fuse2fs on " + img, 1, daemons.size());
        return daemons.get(0);
    }

    private static void signal(String sig, long pid) throws Exception {
        assertEquals(0, new ProcessBuilder("kill", "-" + sig, Long.toString(pid)).inheritIO().start().waitFor());
    }
}
