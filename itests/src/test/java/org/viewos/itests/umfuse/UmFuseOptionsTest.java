package org.viewos.itests.umfuse;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.junit.Assume.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.Test;
import org.viewos.itests.modules.Launcher;

/** umview's umfuse options: merge, fuseuid=/fusegid=, debug, um_fsalias; bad values refused with one line. */
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
                "viewmount -t umfusesquashfs -o fuseuid=me img.sqsh mnt; echo \"bad=$?\"",
                // um_fsalias: mount -t squashfs means umfusesquashfs in this view
                "um_fsalias squashfs umfusesquashfs && viewmount -t squashfs img.sqsh mnt && cat mnt/img.txt && viewumount mnt"));
        assertEquals("stderr: " + v.err(), 0, v.status());
        assertEquals("image\nonly-image\nonly-host\nplain=1\numount=0\nbad=1\nonly-image\n", v.out());
        assertTrue(v.err(), v.err().contains("umfuse: squashfuse ") && v.err().contains(" opcode 1 node 1: 128 bytes"));
        assertTrue(v.err(), v.err().contains("viewmount: mnt: Invalid argument (umfuse: bad fuseuid=me)"));
        Launcher.Result owner = UmFuseArchivesTest.sh(dir,
                "debugfs -R 'stat /u/new' img.ext2 2>/dev/null | grep -o 'User: *[0-9]*   Group: *[0-9]*'");
        assertEquals("User:  1234   Group:   567\n", owner.out());
        assertTrue(Files.readString(dir.resolve("over/both.txt")).equals("host\n"));
    }

    /**
     * umfusessh: the real sshfs on HOST:DIR. No ssh server here, so sshfs's ssh_command= runs the real
     * sftp-server directly (what sshd would run at the other end): read, write, unmount; the files
     * written are in the directory afterwards.
     */
    @Test
    public void sshfsThroughAnSftpServer() throws Exception {
        assumeTrue(UmFuseArchivesTest.onPath("sshfs") && Files.isExecutable(Path.of("/usr/lib/openssh/sftp-server")));
        Path dir = Launcher.workDir("sshfs");
        Launcher.Result mk = UmFuseArchivesTest.sh(dir, String.join("\n",
                "set -e",
                "mkdir -p remote/sub && echo remote-hello > remote/a.txt && seq 1 100000 > remote/sub/n",
                "printf '#!/bin/sh\\nexec /usr/lib/openssh/sftp-server\\n' > sftp.sh && chmod 755 sftp.sh"));
        assertEquals(mk.err(), 0, mk.status());
        Path remote = dir.resolve("remote").toRealPath();
        Launcher.Result v = Launcher.bash(dir, String.join("\n",
                "um_add_service umfuse && mkdir mnt || exit 1",
                "viewmount -t umfusessh -o ssh_command=" + dir.toRealPath() + "/sftp.sh localhost:" + remote + " mnt || exit 1",
                "cat mnt/a.txt; md5sum < mnt/sub/n; echo written > mnt/new.txt; mkdir mnt/d; ls mnt",
                "viewumount mnt; echo \"umount=$?\"",
                "viewmount -t umfusessh nohost mnt; echo \"bad=$?\""));
        assertEquals("stderr: " + v.err(), 0, v.status());
        String md5 = UmFuseArchivesTest.sh(dir, "md5sum < remote/sub/n").out();
        assertEquals("remote-hello\n" + md5 + "a.txt\nd\nnew.txt\nsub\numount=0\nbad=1\n", v.out());
        assertEquals("written\n", Files.readString(remote.resolve("new.txt")));
        assertTrue(Files.isDirectory(remote.resolve("d")));
    }
}
