package org.viewos.itests.umfuse;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;
import static org.junit.Assume.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Random;

import org.junit.BeforeClass;
import org.viewos.itests.modules.Launcher;
import org.junit.Test;

/** umfuse with a real libfuse3 daemon (squashfuse) over the core's FuseTransport: read-only images. */
public class UmFuseSquashfsTest {
    @BeforeClass
    public static void tools() {
        assumeTrue("mksquashfs missing", onPath("mksquashfs"));
        assumeTrue("squashfuse missing", onPath("squashfuse"));
    }

    private static boolean onPath(String p) {
        for (String d : System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(":")) {
            if (Files.isExecutable(Path.of(d, p))) {
                return true;
            }
        }
        for (String d : new String[] {"/usr/sbin", "/sbin"}) {
            if (Files.isExecutable(Path.of(d, p))) {
                return true;
            }
        }
        return false;
    }

    private static final String COMMANDS = String.join("\n",
            // directory sizes are the file system's own (the shadow's are tmpfs's): masked, and
            // the columns re-spaced so ls's width for them does not show either
            "ls -lR --time-style=+%s D | grep -v '^total ' | awk '$1 ~ /^d/ {$5=\"-\"} {$1=$1; print}'",
            "md5sum D/big | cut -d' ' -f1",
            "readlink D/link",
            "find D | sort",
            "(cd D && tar cf - --sort=name --mtime=@0 --owner=0 --group=0 .) | md5sum | cut -d' ' -f1",
            "D/script.sh",
            "cat D/dir/sub/deep.txt",
            "cat D/link",
            "stat -c '%s %a %F' D/big D/link D/script.sh; stat -c '%a %F' D/dir");

    @Test
    public void squashfsImageReadsLikeItsTree() throws Exception {
        Path dir = Launcher.workDir("squash");
        Path tree = dir.resolve("tree");
        Files.createDirectories(tree.resolve("dir/sub"));
        Files.createDirectories(tree.resolve("empty"));
        byte[] big = new byte[5 * 1024 * 1024 + 123];
        new Random(42).nextBytes(big);
        Files.write(tree.resolve("big"), big);
        Files.writeString(tree.resolve("hello.txt"), "hello, world\n");
        Files.writeString(tree.resolve("dir/sub/deep.txt"), "deep\n");
        Files.writeString(tree.resolve("dir/a"), "");
        Files.createSymbolicLink(tree.resolve("link"), Path.of("hello.txt"));
        Files.createSymbolicLink(tree.resolve("dangling"), Path.of("/nonexistent/x"));
        Path script = tree.resolve("script.sh");
        Files.writeString(script, "#!/bin/sh\necho script runs: $(basename \"$0\")\n");
        Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.setPosixFilePermissions(tree.resolve("dir/a"), PosixFilePermissions.fromString("r--r-----"));
        Process mk = new ProcessBuilder("mksquashfs", "tree", "img", "-noappend", "-quiet").directory(dir.toFile())
                .redirectErrorStream(true).redirectOutput(dir.resolve("mksquashfs.log").toFile()).start();
        assertEquals("mksquashfs", 0, mk.waitFor());

        Launcher.Result nat = Launcher.run(dir, null, "bash", "-c", COMMANDS.replace("D", "tree"));
        assertEquals("native stderr: " + nat.err(), 0, nat.status());
        Launcher.Result v = Launcher.bash(dir, String.join("\n",
                "set -e",
                "um_add_service umfuse && mkdir mnt && viewmount -t umfusesquashfs img mnt",
                "set +e",
                COMMANDS.replace("D", "mnt"),
                "touch mnt/x 2>/dev/null; echo \"touch=$?\"",
                "{ echo data >> mnt/hello.txt; } 2>/dev/null; echo \"append=$?\"",
                "rm -f mnt/hello.txt 2>/dev/null; echo \"rm=$?\"",
                "mkdir mnt/newdir 2>/dev/null; echo \"mkdir=$?\"",
                "python3 -c 'import os,errno\ntry: os.open(\"mnt/y\", os.O_CREAT|os.O_WRONLY)\n"
                        + "except OSError as e: print(errno.errorcode[e.errno])'",
                "viewumount mnt; echo \"umount=$?\"",
                "ls mnt | wc -l"));
        assertEquals("stderr: " + v.err(), 0, v.status());
        String expected = nat.out().replace("tree", "mnt")
                + "touch=1\nappend=1\nrm=1\nmkdir=1\nEROFS\numount=0\n0\n";
        assertEquals("stderr: " + v.err(), expected, v.out());
        assertTrue("md5 of big present", nat.out().contains("script runs: script.sh"));
    }

    /** umview's except=: a hole in the mount through which the host (or an older mount) shows. */
    @Test
    public void exceptLeavesAHoleToTheHost() throws Exception {
        assumeTrue(onPath("mksquashfs") && onPath("squashfuse"));
        Path dir = Files.createTempDirectory(Path.of(System.getProperty("java.io.tmpdir")), "umfuse-except-");
        Files.createDirectories(dir.resolve("tree/sub"));
        Files.writeString(dir.resolve("tree/keep.txt"), "from the image\n");
        Files.writeString(dir.resolve("tree/sub/img.txt"), "hidden by except\n");
        Files.createDirectories(dir.resolve("mnt/sub"));
        Files.writeString(dir.resolve("mnt/sub/host.txt"), "the host's\n");
        assertEquals(0, new ProcessBuilder("mksquashfs", "tree", "img", "-noappend", "-quiet").directory(dir.toFile())
                .redirectErrorStream(true).redirectOutput(dir.resolve("mk.log").toFile()).start().waitFor());
        Launcher.Result r = Launcher.bash(dir, String.join("\n",
                "um_add_service umfuse || exit 1",
                "viewmount -t umfusesquashfs -o except=sub img mnt || exit 1",
                "cat mnt/keep.txt; ls mnt/sub; cat mnt/sub/host.txt; viewumount mnt",
                "viewmount -t umfusesquashfs -o except=\"$PWD/mnt/sub\" img mnt && ls mnt/sub && viewumount mnt",
                "viewmount -t umfusesquashfs img mnt && ls mnt/sub && viewumount mnt",
                "viewmount -t umfusesquashfs -o except=/elsewhere img mnt; echo bad=$?"));
        assertEquals("stderr: " + r.err(), 0, r.status());
        assertEquals("from the image\nhost.txt\nthe host's\nhost.txt\nimg.txt\nbad=1\n", r.out());
    }

    /** -t umfuse -o cmd=: any libfuse3 program, here squashfuse again, started from a template. */
    @Test
    public void anyLibfuse3ProgramThroughCmd() throws Exception {
        assumeTrue(onPath("mksquashfs") && onPath("squashfuse"));
        Path dir = Files.createTempDirectory(Path.of(System.getProperty("java.io.tmpdir")), "umfuse-cmd-");
        Files.createDirectories(dir.resolve("tree"));
        Files.writeString(dir.resolve("tree/f"), "through cmd\n");
        assertEquals(0, new ProcessBuilder("mksquashfs", "tree", "img", "-noappend", "-quiet").directory(dir.toFile())
                .redirectErrorStream(true).redirectOutput(dir.resolve("mk.log").toFile()).start().waitFor());
        Launcher.Result r = Launcher.bash(dir, String.join("\n",
                "um_add_service umfuse && mkdir mnt",
                "viewmount -t umfuse -o cmd='squashfuse -f %S %M' img mnt && cat mnt/f && viewumount mnt",
                "viewmount -t umfuse -o cmd='squashfuse -f %S' img mnt; echo \"nomp=$?\""));
        assertEquals("stderr: " + r.err(), 0, r.status());
        assertEquals("through cmd\nnomp=1\n", r.out());
        assertTrue(r.err(), r.err().contains("cmd must name the mountpoint as %M"));
    }

    @Test
    public void missingImageFailsWithOneLineAndMountsNothing() throws Exception {
        Path dir = Launcher.workDir("missing");
        Files.writeString(dir.resolve("notanimage"), "this is not squashfs\n");
        Launcher.Result v = Launcher.bash(dir, String.join("\n",
                "um_add_service umfuse && mkdir mnt",
                "viewmount -t umfusesquashfs nothere mnt; echo \"status=$?\"",
                "ls mnt | wc -l",
                "viewmount -t umfusesquashfs notanimage mnt; echo \"status=$?\"",
                "ls mnt | wc -l; touch mnt/ok && echo writable"));
        assertEquals("stderr: " + v.err(), 0, v.status());
        assertEquals("status=1\n0\nstatus=1\n0\nwritable\n", v.out());
        String[] errLines = v.err().strip().split("\n");
        assertEquals("two one-line messages: " + v.err(), 2, errLines.length);
        assertTrue(v.err(), errLines[0].contains("nothere"));
        assertFalse(v.err(), errLines[1].isBlank());
    }
}
