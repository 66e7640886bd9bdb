package org.viewos.itests.umfuse;

import static org.junit.Assert.assertEquals;
import static org.junit.Assume.assumeTrue;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import org.junit.Test;
import org.viewos.itests.modules.Launcher;

/**
 * umfuse's read-only libfuse2 types with the real Debian daemons, on images made without root:
 * zip (fuse-zip), tar.gz (archivemount), ISO 9660 with Rock Ridge (fuseiso), FAT (fusefat). Each
 * mounted tree reads like the tree it was made from.
 */
public class UmFuseArchivesTest {
    static boolean onPath(String p) {
        for (String d : (System.getenv().getOrDefault("PATH", "/usr/bin:/bin") + ":/usr/sbin:/sbin").split(":")) {
            if (Files.isExecutable(Path.of(d, p))) {
                return true;
            }
        }
        return false;
    }

    /** bash -c SCRIPT natively in {@code dir}. */
    static Launcher.Result sh(Path dir, String script) throws Exception {
        Path out = Files.createTempFile(dir, "nat-out-", ".txt");
        Path err = Files.createTempFile(dir, "nat-err-", ".txt");
        Process p = new ProcessBuilder("bash", "-c", script).directory(dir.toFile())
                .redirectInput(new File("/dev/null")).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("did not end: " + script);
        }
        return new Launcher.Result(p.exitValue(), Files.readString(out), Files.readString(err));
    }

    /** Builds TREE (names in capitals, as FAT keeps them) and an image with {@code make}. */
    private static void check(String name, String type, String make, boolean links, String... tools) throws Exception {
        for (String t : tools) {
            assumeTrue(t + " missing", onPath(t));
        }
        assumeTrue(onPath("unshare") && onPath("python3"));
        Path dir = Launcher.workDir(name);
        Launcher.Result mk = sh(dir, String.join("\n",
                "set -e",
                "mkdir -p TREE/DIR/SUB TREE/EMPTY",
                "echo hello > TREE/HELLO.TXT; echo deep > TREE/DIR/SUB/DEEP.TXT; seq 1 300000 > TREE/BIG",
                links ? "ln -s HELLO.TXT TREE/LINK" : "true",
                make));
        assertEquals(mk.err(), 0, mk.status());
        String cmds = String.join("\n",
                "find D | sort",
                "(cd D && find . -type f | sort | xargs md5sum)",
                "cat D/DIR/SUB/DEEP.TXT",
                links ? "readlink D/LINK; cat D/LINK" : "true");
        Launcher.Result nat = sh(dir, cmds.replace("D", "TREE"));
        assertEquals(nat.err(), 0, nat.status());
        Launcher.Result v = Launcher.bash(dir, String.join("\n",
                "um_add_service umfuse && mkdir mnt && viewmount -t " + type + " img mnt || exit 1",
                cmds.replace("D", "mnt"),
                "touch mnt/new 2>/dev/null; echo \"touch=$?\"",
                "viewumount mnt; echo \"umount=$?\""));
        assertEquals("stderr: " + v.err(), 0, v.status());
        assertEquals(nat.out().replace("TREE", "mnt") + "touch=1\numount=0\n", v.out());
    }

    @Test
    public void zip() throws Exception {
        check("zip", "umfusezip", "(cd TREE && zip -qry ../img.zip .) && mv img.zip img", true, "zip", "fuse-zip");
    }

    @Test
    public void tarGz() throws Exception {
        check("tgz", "umfusearchive", "tar czf img -C TREE .", true, "archivemount");
    }

    @Test
    public void iso9660() throws Exception {
        check("iso", "umfuseiso9660", "genisoimage -quiet -R -J -o img TREE", true, "genisoimage", "fuseiso");
    }

    @Test
    public void fat() throws Exception {
        check("fat", "umfusefat", "mkfs.fat -C img 8192 >/dev/null && MTOOLS_SKIP_CHECK=1 mcopy -s -i img TREE/* ::/",
                false, "mkfs.fat", "mcopy", "fusefat");
    }
}
