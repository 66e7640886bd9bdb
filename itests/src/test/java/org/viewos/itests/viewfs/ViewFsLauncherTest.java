package org.viewos.itests.viewfs;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;
import static org.viewos.itests.viewfs.ViewOsRun.*;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.Before;
import org.junit.Ignore;
import org.junit.Test;

/** The launcher's viewfs shortcuts, isolation between views, and escape attempts against --hide. */
public class ViewFsLauncherTest {
    /** Attempts the core does not block yet: /proc/self magic links are read in the daemon (see report). */
    static final List<String> CORE_GAPS = List.of();
    private Path dir;

    @Before
    public void setUp() throws Exception {
        assumeViewos();
        dir = workDir(getClass().getSimpleName());
    }

    @Test
    public void bindHideCow() throws Exception {
        write(dir.resolve("src/file"), "bound\n");
        write(dir.resolve("secret/data"), "TOPSECRET\n");
        write(dir.resolve("proj/p"), "p\n");
        Files.createDirectories(dir.resolve("store"));
        Files.createDirectories(dir.resolve("b"));
        Result r = viewos(dir, "-b", "src:b", "--hide", "secret", "--cow", "proj:store", "bash", "-c",
                "cat b/file; ls secret | wc -l; cat secret/data 2>&1; echo w > proj/w; ls proj | tr '\\n' ' '").ok();
        assertTrue(r.toString(), r.out().startsWith("bound\n0\ncat: secret/data: No such file or directory\np w "));
        assertTrue(Files.exists(dir.resolve("store/w")));
        assertFalse(Files.exists(dir.resolve("proj/w")));
        Result bad = viewos(dir, "--cow", "proj", "true");
        assertEquals(bad.toString(), 1, bad.status());
        assertTrue(bad.toString(), bad.err().contains("contain each other"));
        Result usage = viewos(dir, "--bind", ":x", "true");
        assertEquals(usage.toString(), 2, usage.status());
    }

    @Test
    public void rootLikeProot() throws Exception {
        Path root = dir.resolve("root");
        for (String d : new String[] {"usr/bin", "usr/lib/x86_64-linux-gnu", "usr/lib64", "etc", "proc", "dev", "sys", "tmp"}) {
            Files.createDirectories(root.resolve(d));
        }
        Files.createSymbolicLink(root.resolve("bin"), Path.of("usr/bin"));
        Files.createSymbolicLink(root.resolve("lib"), Path.of("usr/lib"));
        Files.createSymbolicLink(root.resolve("lib64"), Path.of("usr/lib64"));
        for (String b : new String[] {"bash", "ls", "cat"}) {
            Files.copy(Path.of("/usr/bin", b), root.resolve("usr/bin/" + b));
            root.resolve("usr/bin/" + b).toFile().setExecutable(true);
            for (String line : nativeRun(dir, "ldd", "/usr/bin/" + b).ok().out().split("\n")) {
                int at = line.indexOf('/');
                if (at < 0) {
                    continue;
                }
                Path lib = Path.of(line.substring(at).split(" ")[0]);
                Path to = lib.getFileName().toString().startsWith("ld-linux") ? root.resolve("usr/lib64/" + lib.getFileName())
                        : root.resolve("usr/lib/x86_64-linux-gnu/" + lib.getFileName());
                if (!Files.exists(to)) {
                    Files.copy(lib.toRealPath(), to);
                }
            }
        }
        write(root.resolve("etc/marker"), "inside the new root\n");
        Result r = viewos(dir, "--root", root.toString(), "bash", "-c",
                "pwd; echo $(ls /); cat /etc/marker; ls /proc/self/ >/dev/null && echo proc-ok").ok();
        assertEquals(r.toString(), "/\nbin dev etc lib lib64 proc sys tmp usr\ninside the new root\nproc-ok\n", r.out());
    }

    @Test
    public void mountsAreInvisibleOutsideAndInAnotherView() throws Exception {
        write(dir.resolve("secret/data"), "TOPSECRET\n");
        Path flag = dir.resolve("flag");
        List<String> argv = new ArrayList<>(List.of(VIEWOS.toString(), "-x", "--hide", dir.resolve("secret").toString(),
                "bash", "-c", "ls " + dir + "/secret | wc -l > " + dir + "/a-saw; while [ ! -e " + flag + " ]; do sleep 0.1; done"));
        Process a = new ProcessBuilder(argv).directory(dir.toFile()).redirectInput(new java.io.File("/dev/null"))
                .redirectOutput(dir.resolve("a.out").toFile()).redirectError(dir.resolve("a.err").toFile()).start();
        try {
            for (int i = 0; i < 300 && !Files.exists(dir.resolve("a-saw")); i++) {
                Thread.sleep(100);
            }
            assertTrue("view A did not start: " + Files.readString(dir.resolve("a.err")), Files.exists(dir.resolve("a-saw")));
            Result b = viewos(dir, "cat", dir.resolve("secret/data").toString()).ok();
            assertEquals("TOPSECRET\n", b.out());
            assertEquals("TOPSECRET\n", Files.readString(dir.resolve("secret/data")));
            assertEquals("0", Files.readString(dir.resolve("a-saw")).strip());
        } finally {
            Files.createFile(flag);
            if (!a.waitFor(60, TimeUnit.SECONDS)) {
                a.destroyForcibly();
            }
        }
        assertEquals(0, a.exitValue());
    }

    private Path compileEscape() throws Exception {
        assumeTool("gcc");
        Path c = Path.of(System.getProperty("viewos.csrc", "src/test/c"), "viewfs/escape.c").toAbsolutePath();
        Path exe = dir.resolve("escape");
        nativeRun(dir, "gcc", "-O", "-o", exe.toString(), c.toString()).ok();
        write(dir.resolve("p/hid/data"), "TOPSECRET\n");
        Files.createSymbolicLink(dir.resolve("before"), dir.resolve("p/hid"));
        Files.createDirectories(dir.resolve("scratch"));
        return exe;
    }

    private List<String> escape(Path exe, boolean hidden) throws Exception {
        List<String> cmd = List.of(exe.toString(), dir.resolve("p/hid").toString(), "TOPSECRET",
                dir.resolve("before").toString(), dir.resolve("scratch").toString());
        Result r;
        if (hidden) {
            List<String> v = new ArrayList<>(List.of("--hide", dir.resolve("p/hid").toString()));
            v.addAll(cmd);
            r = viewos(dir, v.toArray(new String[0])).ok();
        } else {
            r = nativeRun(dir, cmd.toArray(new String[0])).ok();
        }
        assertEquals(r.toString(), 17, r.out().split("\n").length);
        List<String> leaked = new ArrayList<>();
        for (String l : r.out().split("\n")) {
            if (l.contains(": LEAKED")) {
                leaked.add(l.substring(0, l.indexOf(':')));
            }
        }
        return leaked;
    }

    @Test
    public void escapeAttemptsLeakNativelyButNotUnderHide() throws Exception {
        Path exe = compileEscape();
        List<String> natively = escape(exe, false);
        assertTrue("natively the plain routes must leak (else the test proves nothing): " + natively,
                natively.containsAll(List.of("open", "openat2", "dotdot", "symlink_before", "proc_self_root", "hardlink")));
        List<String> viewed = escape(exe, true);
        viewed.removeAll(CORE_GAPS);
        assertEquals("hidden file read under --hide through", List.of(), viewed);
    }

    @Test
    public void procMagicLinksDoNotLeak() throws Exception {
        Path exe = compileEscape();
        List<String> viewed = escape(exe, true);
        assertEquals(List.of(), viewed);
    }

    /**
     * The path walk remembers directories it found to be no symlinks; a directory the view's own
     * programs replace by a symlink into a hidden place must be walked afresh (leaks if not).
     */
    @Test
    public void aDirectoryReplacedByASymlinkInTheViewIsWalkedAgain() throws Exception {
        write(dir.resolve("secret/data"), "TOPSECRET\n");
        write(dir.resolve("d/x/data"), "plain\n");
        Files.createSymbolicLink(dir.resolve("d/s"), Path.of("../secret"));
        Result r = viewos(dir, "--hide", "secret", "bash", "-c",
                "cat \"$PWD/d/x/data\" d/x/data\n" // walks d and d/x: no symlinks
                        + "mv d/x d/old && ln -s ../secret d/x && cat \"$PWD/d/x/data\" 2>&1\n" // rename, symlink
                        + "cat d/x/data 2>&1\n"
                        + "rm d/x && mkdir d/x && cat d/x/none 2>&1\n" // d/x a directory again, walked
                        + "rmdir d/x && ln -P d/s d/x && cat d/x/data 2>&1\n" // link: a symlink where it was
                        + "true").ok();
        assertEquals(r.toString(), 2, r.out().split("plain", -1).length - 1);
        assertFalse(r.toString(), r.out().contains("TOPSECRET"));
        assertEquals(r.toString(), 4, r.out().split("No such file or directory", -1).length - 1);
    }
}
