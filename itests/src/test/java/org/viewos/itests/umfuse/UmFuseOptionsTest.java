package org.viewos.itests.umfuse;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.junit.Assume.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.Test;
import org.viewos.itests.modules.Launcher;

/** umview's umfuse options: merge, fuseuid=/fusegid=, debug; bad values refused with one line. */
public class UmFuseOptionsTest {
    @Test
    public void mergeFuseuidAndDebug() throws Exception {
        assumeTrue(UmFuseArchivesTest.onPath("squashfuse") && UmFuseArchivesTest.onPath("mksquashfs")
                && UmFuseArchivesTest.onPath("fuse2fs") && UmFuseArchivesTest.onPath("mke2fs"));
        Path dir = Launcher.workDir("options");
        Launcher.Result mk = UmFuseArchivesTest.sh(dir, String.join("\n",
                "set -e",
                "mkdir -p T/u over && echo image > T/both.txt && echo only-image > T/img.txt",
                "echo host > over/both.txt && echo only-host > over/host.txt",
                "mksquashfs T img.sqsh -quiet -noappend",
                "chown 1234:567 T/u && mke2fs -q -t ext2 -d T img.ext2 8M"));
        assertEquals(mk.err(), 0, mk.status());
        Launcher.Result v = Launcher.bash(dir, String.join("\n",
                "um_add_service umfuse || exit 1",
                // merge: the image's names win, the covered directory's show through where it has none
                "viewmount -t umfusesquashfs -o merge img.sqsh over && cat over/both.txt over/img.txt over/host.txt",
                "viewumount over",
                // without merge the covered directory is hidden
                "viewmount -t umfusesquashfs img.sqsh over && { cat over/host.txt 2>/dev/null; echo \"plain=$?\"; }",
                "viewumount over",
                // fuseuid/fusegid: fuse2fs is told the requests come from 1234:567 (it owns u/, not /)
                "mkdir mnt && viewmount -t umfuseext2 -o fuseuid=1234,fusegid=567 img.ext2 mnt && echo x > mnt/u/new",
                "viewumount mnt; echo \"umount=$?\"",
                // debug: one line per FUSE request on the daemon's stderr
                "viewmount -t umfusesquashfs -o debug img.sqsh mnt && cat mnt/img.txt >/dev/null && viewumount mnt",
                "viewmount -t umfusesquashfs -o fuseuid=me img.sqsh mnt; echo \"bad=$?\""));
        assertEquals("stderr: " + v.err(), 0, v.status());
        assertEquals("image\nonly-image\nonly-host\nplain=1\numount=0\nbad=1\n", v.out());
        assertTrue(v.err(), v.err().contains("umfuse: squashfuse ") && v.err().contains(" opcode 1 node 1: 128 bytes"));
        assertTrue(v.err(), v.err().contains("viewmount: mnt: Invalid argument (umfuse: bad fuseuid=me)"));
        Launcher.Result owner = UmFuseArchivesTest.sh(dir,
                "debugfs -R 'stat /u/new' img.ext2 2>/dev/null | grep -o 'User: *[0-9]*   Group: *[0-9]*'");
        assertEquals("User:  1234   Group:   567\n", owner.out());
        assertTrue(Files.readString(dir.resolve("over/both.txt")).equals("host\n"));
    }
}
