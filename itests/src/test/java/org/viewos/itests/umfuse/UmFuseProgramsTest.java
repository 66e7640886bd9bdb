package org.viewos.itests.umfuse;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.junit.Assume.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.Test;
import org.viewos.itests.modules.Launcher;

/**
 * Unmodified FUSE programs run inside a view, as a user runs them on a machine with FUSE: the
 * program opens the view's /dev/fuse (the host has none), mounts with mount(2), serves the mount
 * from inside the view, and `fusermount -u` ends it. No kernel FUSE, no root needed by the design.
 */
public class UmFuseProgramsTest {
    private static final String TREE = String.join("\n",
            "set -e",
            "mkdir -p TREE/dir/sub TREE/empty",
            "echo hello > TREE/hello.txt; echo deep > TREE/dir/sub/deep.txt; seq 1 300000 > TREE/big",
            "ln -s hello.txt TREE/link; printf '#!/bin/sh\\necho run-from-image\\n' > TREE/run.sh; chmod 755 TREE/run.sh");
    private static final String READ = String.join("\n",
            "find @D | sort",
            "(cd @D && find . -type f | sort | xargs md5sum)",
            "readlink @D/link; cat @D/link @D/dir/sub/deep.txt",
            "@D/run.sh",
            "python3 -c 'import mmap,sys; f=open(sys.argv[1],\"rb\"); m=mmap.mmap(f.fileno(),0,access=mmap.ACCESS_READ); print(len(m), m[:6])' @D/big");

    /**
     * squashfuse (libfuse3) started in the view, read with real tools (mmap and exec of files in
     * the image too), unmounted with fusermount3 -u. {@code -o ro}: umfuse learns that the mount takes
     * no writes from the mount flags (a write then fails at once with EROFS).
     */
    @Test
    public void squashfuseRunInsideTheView() throws Exception {
        assumeTrue(UmFuseArchivesTest.onPath("squashfuse") && UmFuseArchivesTest.onPath("mksquashfs")
                && UmFuseArchivesTest.onPath("fusermount3"));
        Path dir = Launcher.workDir("programs-sqfs");
        Launcher.Result mk = UmFuseArchivesTest.sh(dir, TREE + "\nmksquashfs TREE img -quiet -noappend");
        assertEquals(mk.err(), 0, mk.status());
        Launcher.Result nat = UmFuseArchivesTest.sh(dir, READ.replace("@D", "TREE"));
        assertEquals(nat.err(), 0, nat.status());
        Launcher.Result v = Launcher.bash(dir, String.join("\n",
                "um_add_service umfuse && stat -c '%a %F %t,%T' /dev/fuse && mkdir mnt",
                "squashfuse -o ro img mnt; echo \"squashfuse=$?\"",
                READ.replace("@D", "mnt"),
                "touch mnt/new 2>/dev/null; echo \"touch=$?\"",
                "fusermount3 -u mnt; echo \"fusermount=$?\"",
                "ls mnt | wc -l"));
        assertEquals("stderr: " + v.err(), 0, v.status());
        assertEquals("666 character special file a,e5\nsquashfuse=0\n" + nat.out().replace("TREE", "mnt")
                + "touch=1\nfusermount=0\n0\n", v.out());
    }

    /**
     * fuse2fs (libfuse2) started in the view, read-write: what the view wrote, renamed and deleted is
     * in the image once fusermount -u returns, and e2fsck finds it clean.
     */
    @Test
    public void fuse2fsRunInsideTheViewWritesTheImage() throws Exception {
        assumeTrue(UmFuseArchivesTest.onPath("fuse2fs") && UmFuseArchivesTest.onPath("mke2fs")
                && UmFuseArchivesTest.onPath("fusermount"));
        Path dir = Launcher.workDir("programs-ext2");
        Launcher.Result mk = UmFuseArchivesTest.sh(dir, TREE + "\nmke2fs -q -t ext2 -d TREE img 16M");
        assertEquals(mk.err(), 0, mk.status());
        Launcher.Result v = Launcher.bash(dir, String.join("\n",
                "um_add_service umfuse && mkdir mnt && fuse2fs img mnt && echo mounted || exit 1",
                "cat mnt/hello.txt; echo written > mnt/new.txt; mkdir mnt/newdir; mv mnt/hello.txt mnt/newdir/moved.txt",
                "rm mnt/dir/sub/deep.txt; truncate -s 100 mnt/big; seq 1 5000 >> mnt/newdir/moved.txt",
                "fusermount -u mnt; echo \"fusermount=$?\""));
        assertEquals("stderr: " + v.err(), 0, v.status());
        assertEquals("mounted\nhello\nfusermount=0\n", v.out());
        Launcher.Result fsck = UmFuseArchivesTest.sh(dir, "e2fsck -fn img");
        assertEquals(fsck.out() + fsck.err(), 0, fsck.status());
        Launcher.Result check = UmFuseArchivesTest.sh(dir, String.join("\n",
                "debugfs -R 'cat /new.txt' img 2>/dev/null",
                "debugfs -R 'cat /newdir/moved.txt' img 2>/dev/null | md5sum",
                "(echo hello; seq 1 5000) | md5sum",
                "debugfs -R 'ls /dir/sub' img 2>/dev/null | grep -c deep.txt",
                "debugfs -R 'stat /big' img 2>/dev/null | grep -o 'Size: [0-9]*'"));
        String[] l = check.out().split("\n");
        assertEquals(check.out(), "written", l[0]);
        assertEquals("moved file content", l[2], l[1]);
        assertEquals("deleted", "0", l[3]);
        assertEquals("Size: 100", l[4]);
    }

    /**
     * Bad input and a dying program: mount(2) of type fuse with a descriptor that is not the view's
     * /dev/fuse is EINVAL; a FUSE program killed in the view makes its mount answer ENODEV/EIO, and
     * the mount can still be removed.
     */
    @Test
    public void badDescriptorAndAProgramThatDies() throws Exception {
        assumeTrue(UmFuseArchivesTest.onPath("squashfuse") && UmFuseArchivesTest.onPath("mksquashfs"));
        Path dir = Launcher.workDir("programs-bad");
        Launcher.Result mk = UmFuseArchivesTest.sh(dir, TREE + "\nmksquashfs TREE img -quiet -noappend");
        assertEquals(mk.err(), 0, mk.status());
        Launcher.Result v = Launcher.bash(dir, String.join("\n",
                "um_add_service umfuse && mkdir mnt",
                "python3 -c 'import ctypes,os; l=ctypes.CDLL(None,use_errno=True); "
                        + "r=l.mount(b\"x\",b\"mnt\",b\"fuse.x\",0,b\"fd=0,rootmode=40000,user_id=0,group_id=0\"); "
                        + "print(\"mount\", r, os.strerror(ctypes.get_errno()) if r else \"\")'",
                "squashfuse -f img mnt & pid=$!",
                "for i in $(seq 100); do [ -e mnt/hello.txt ] && break; sleep 0.05; done; cat mnt/hello.txt",
                "kill -9 $pid; wait $pid",
                "cat mnt/dir/sub/deep.txt >/dev/null 2>&1; echo \"after-death=$?\"",
                "umount mnt; echo \"umount=$?\""));
        assertEquals("stderr: " + v.err(), 0, v.status());
        assertEquals("mount -1 Invalid argument\nhello\nafter-death=1\numount=0\n", v.out());
        assertTrue(Files.isDirectory(dir.resolve("mnt")));
    }

    /** The same as an ordinary user (root drops to nobody with setpriv): no privilege is needed. */
    @Test
    public void squashfuseAsAnOrdinaryUser() throws Exception {
        assumeTrue(UmFuseArchivesTest.onPath("squashfuse") && UmFuseArchivesTest.onPath("mksquashfs")
                && UmFuseArchivesTest.onPath("setpriv") && UmFuseArchivesTest.onPath("fusermount3"));
        assumeTrue("needs root to become nobody", "root".equals(System.getProperty("user.name")));
        Path dir = Files.createTempDirectory("viewos-fuse-nobody-");
        try {
            Launcher.Result mk = UmFuseArchivesTest.sh(dir, TREE + "\nmksquashfs TREE img -quiet -noappend"
                    + "\nchmod -R a+rX . && chmod 777 .");
            assertEquals(mk.err(), 0, mk.status());
            Launcher.Result v = UmFuseArchivesTest.sh(dir, "setpriv --reuid=65534 --regid=65534 --clear-groups env HOME="
                    + dir + " " + Launcher.viewos() + " bash -c 'id -u; um_add_service umfuse && mkdir mnt"
                    + " && squashfuse -o ro img mnt && cat mnt/dir/sub/deep.txt && md5sum < mnt/big"
                    + " && fusermount3 -u mnt && echo unmounted'");
            assertEquals("stderr: " + v.err(), 0, v.status());
            Launcher.Result nat = UmFuseArchivesTest.sh(dir, "md5sum < TREE/big");
            assertEquals("65534\ndeep\n" + nat.out() + "unmounted\n", v.out());
        } finally {
            UmFuseArchivesTest.sh(dir.getParent(), "rm -rf " + dir);
        }
    }

    /**
     * A hostile FUSE program in the view (itests resources umfuse/badfuse.py): correct INIT and root
     * attributes, then garbage for every request — replies shorter than a header, lengths that lie,
     * out-of-range error numbers, random bodies, stale uniques, its /dev/fuse closed. Every call of
     * the client ends with an error or an answer (no hang), the daemon stays up, the mount goes.
     */
    @Test
    public void garbageRepliesGiveErrorsNotHangs() throws Exception {
        Path dir = Launcher.workDir("programs-garbage");
        try (java.io.InputStream in = getClass().getResourceAsStream("/umfuse/badfuse.py")) {
            Files.copy(in, dir.resolve("badfuse.py"));
        }
        String modes = "short badlen longer errno body unique close random";
        Launcher.Result v = Launcher.bash(dir, String.join("\n",
                "um_add_service umfuse || exit 1",
                "ops=0",
                "for mode in " + modes + "; do",
                "  for seed in 1 2 3; do",
                "    m=m-$mode-$seed; mkdir $m",
                "    python3 badfuse.py $m $mode $seed > $m.out 2>> fuzz.log & pid=$!",
                "    for i in $(seq 200); do [ -s $m.out ] && break; sleep 0.02; done",
                "    for f in a b c d e; do stat $m/$f > /dev/null 2>&1; ls $m/ > /dev/null 2>&1; cat $m/$f > /dev/null 2>&1;"
                        + " ops=$((ops+3)); done",
                "    umount $m || echo \"umount $m failed\"",
                "    kill $pid 2>/dev/null; wait $pid 2>/dev/null",
                "  done",
                "done",
                "echo \"ops=$ops\"",
                "echo still-up"));
        assertEquals("stderr: " + v.err(), 0, v.status());
        assertEquals("ops=" + (8 * 3 * 5 * 3) + "\nstill-up\n", v.out());
        String log = Files.readString(dir.resolve("fuzz.log"));
        int garbage = 0;
        for (String l : log.split("\n")) {
            if (l.startsWith("garbage replies: ")) {
                garbage += Integer.parseInt(l.substring(17).strip());
            }
        }
        assertTrue("the hostile program answered requests with garbage: " + log, garbage > 50);
        System.out.println("[reliability] umfuse garbage FUSE replies: " + garbage + " in 24 mounts, "
                + (8 * 3 * 5 * 3) + " client calls, all answered");
    }

    /**
     * What a FUSE program was given reaches it without a later call: a file written in the view is
     * in the image after the program is ended with SIGTERM (umfuse writes changes back within 0.2 s;
     * the view waits 2 s), and e2fsck finds the image clean.
     */
    @Test
    public void aWriteReachesTheProgramBeforeItIsKilled() throws Exception {
        assumeTrue(UmFuseArchivesTest.onPath("fuse2fs") && UmFuseArchivesTest.onPath("mke2fs"));
        Path dir = Launcher.workDir("programs-term");
        Launcher.Result mk = UmFuseArchivesTest.sh(dir, "mke2fs -q -t ext2 img 8M");
        assertEquals(mk.err(), 0, mk.status());
        Launcher.Result v = Launcher.bash(dir, String.join("\n",
                "um_add_service umfuse && mkdir mnt && fuse2fs img mnt || exit 1",
                "echo data > mnt/f; seq 1 20000 > mnt/g; sleep 2",
                "pid=$(pgrep -n -x fuse2fs); kill -TERM $pid; while kill -0 $pid 2>/dev/null; do sleep 0.05; done",
                "echo ended"));
        assertEquals("stderr: " + v.err(), 0, v.status());
        assertEquals("ended\n", v.out());
        Launcher.Result fsck = UmFuseArchivesTest.sh(dir, "e2fsck -fn img");
        assertEquals(fsck.out() + fsck.err(), 0, fsck.status());
        Launcher.Result check = UmFuseArchivesTest.sh(dir, "debugfs -R 'cat /f' img 2>/dev/null;"
                + " debugfs -R 'cat /g' img 2>/dev/null | md5sum; seq 1 20000 | md5sum");
        String[] l = check.out().split("\n");
        assertEquals(check.out(), "data", l[0]);
        assertEquals(l[2], l[1]);
    }
}
