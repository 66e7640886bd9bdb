package org.viewos.itests.modules;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import org.junit.Test;

/**
 * The in-view commands and the Gogo shell, end to end through the real launcher: umview's
 * commands, messages and errors; a module loaded, used, refused removal while busy, removed and
 * loaded again inside one running view; views isolated from each other.
 */
public class ServiceManagementTest {
    private static final String HOSTNAME = "/etc/hostname";

    @Test
    public void inViewCommandsWithUmviewErrors() throws Exception {
        Path dir = Launcher.workDir("um");
        String host = Files.readString(Path.of(HOSTNAME));
        Launcher.Result r = Launcher.bash(dir, String.join("\n",
                "um_ls_service; echo \"ls0=$?\"",
                "um_add_service unreal; echo \"add=$?\"",
                "um_ls_service",
                "cat /unreal" + HOSTNAME,
                "um_add_service unreal; echo \"again=$?\"",
                "um_del_service nosuch; echo \"delunknown=$?\"",
                "um_add_service nosuch; echo \"addunknown=$?\"",
                "mkdir -p mp && viewmount -t unreal /etc mp && cat mp/hostname",
                "um_del_service unreal; echo \"busy=$?\"",
                "viewumount mp; echo \"umount=$?\"",
                "um_del_service unreal; echo \"del=$?\"",
                "cat /unreal" + HOSTNAME + " 2>/dev/null; echo \"gone=$?\"",
                "um_add_service -p unreal; um_del_service unreal; echo \"permanent=$?\"",
                "um_mov_service unreal 1; echo \"mov=$?\"; um_mov_service unreal 9; echo \"mov9=$?\"",
                "viewname lab; viewname; vuname -N; vuname -o",
                "viewmount -t unreal /nonexistent-src mp2 2>/dev/null; echo \"nomp=$?\""));
        assertEquals("stderr: " + r.err(), 0, r.status());
        assertEquals(String.join("\n",
                "ls0=0",
                "add=0",
                "unreal: Extra Mega Ultra Light Unreal File System (/unreal shows /)",
                host.strip(),
                "again=1",
                "delunknown=1",
                "addunknown=1",
                host.strip(),
                "busy=1",
                "umount=0",
                "del=0",
                "gone=1",
                "permanent=1",
                "mov=0",
                "mov9=1",
                "lab",
                "lab",
                "GNU/Linux/View-OS",
                "nomp=1", ""), r.out());
        assertTrue(r.err(), r.err().contains("um_add_service: File exists (module unreal is already loaded)"));
        assertTrue(r.err(), r.err().contains("um_del_service: No such file or directory (module nosuch is not loaded)"));
        assertTrue(r.err(), r.err().contains("um_del_service: Device or resource busy (module unreal still serves "));
        assertTrue(r.err(), r.err().contains("um_del_service: Operation not permitted (module unreal is permanent)"));
        assertTrue(r.err(), r.err().contains("um_mov_service: Invalid argument (position 9 out of 1..1)"));
    }

    @Test
    public void inViewCommandsOutsideAViewSayOnlyInside() throws Exception {
        Path bin = Launcher.viewos().getParent();
        for (String c : new String[] {"um_ls_service", "um_add_service", "viewname", "vuname", "umshutdown"}) {
            ProcessBuilder pb = new ProcessBuilder(bin.resolve(c).toString()).redirectErrorStream(true);
            if (c.equals("um_add_service")) {
                pb.command().add("unreal");
            }
            Process p = pb.start();
            String out = new String(p.getInputStream().readAllBytes());
            assertTrue(p.waitFor(30, TimeUnit.SECONDS));
            assertEquals(c + ": " + out, 1, p.exitValue());
            assertEquals(c + ": works only inside a View-OS view\n", out);
        }
    }

    @Test
    public void secondViewSeesNoneOfTheFirstsModulesOrMounts() throws Exception {
        Path dir = Launcher.workDir("two");
        Path ready = dir.resolve("ready");
        Path release = dir.resolve("release");
        // view A loads unreal and mounts, then waits for B to look
        Process a = Launcher.start(dir, null, "-V", "alpha", "bash", "-c",
                "um_add_service unreal && mkdir -p mp && viewmount -t unreal /etc mp && touch ready && "
                        + "while [ ! -e release ]; do sleep 0.05; done; vuname -N > a.name; um_ls_service > a.ls");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!Files.exists(ready) && a.isAlive() && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertTrue("view A got ready", Files.exists(ready));
        Launcher.Result b = Launcher.bash(dir, "um_ls_service; vuname -N; ls mp | wc -l; cat /unreal/etc/hostname 2>/dev/null || echo no-unreal",
                "-V", "beta");
        Files.createFile(release);
        assertTrue(a.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, a.exitValue());
        assertEquals("stderr: " + b.err(), "beta\n0\nno-unreal\n", b.out());
        assertEquals("alpha\n", Files.readString(dir.resolve("a.name")));
        assertTrue(Files.readString(dir.resolve("a.ls")).startsWith("unreal: "));
    }

    @Test
    public void gogoShellFromOutsideDrivesTheView() throws Exception {
        Path dir = Launcher.workDir("gogo");
        String name = "gogo" + ProcessHandle.current().pid();
        Process view = Launcher.start(dir, null, "-V", name, "bash", "-c",
                "touch started; while [ ! -e stop ]; do cat /unreal/etc/hostname > seen 2>/dev/null && touch used; sleep 0.05; done");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!Files.exists(dir.resolve("started")) && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        Thread.sleep(300); // the shell socket is made while the command starts
        Launcher.Result r = Launcher.run(dir, "um:add_service unreal\num:ls_service\num:viewname\n", "--shell", name);
        assertEquals("stderr: " + r.err(), 0, r.status());
        assertTrue(r.out(), r.out().contains("added unreal\nunreal: Extra Mega Ultra Light"));
        assertTrue(r.out(), r.out().contains(name));
        while (!Files.exists(dir.resolve("used")) && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertTrue("the running view used the module added from outside", Files.exists(dir.resolve("used")));
        Launcher.Result bad = Launcher.run(dir, null, "--shell", "no-such-view-" + name);
        assertEquals(1, bad.status());
        assertTrue(bad.err(), bad.err().startsWith("viewos: no running view named no-such-view-"));
        Files.createFile(dir.resolve("stop"));
        assertTrue(view.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, view.exitValue());
    }

    /**
     * A contested claim: unreal and viewfs both serve mount type "bind"; the module first in service
     * order gets it, and um_mov_service changes the winner, while the view runs.
     */
    @Test
    public void umMovServiceChangesWhoWinsAContestedClaim() throws Exception {
        Path dir = Launcher.workDir("contest");
        Launcher.Result r = Launcher.bash(dir, String.join("\n",
                "mkdir -p src a b && echo hi > src/f",
                "um_add_service unreal && um_add_service viewfs",
                "um_ls_service | cut -d: -f1 | tr '\\n' ' '; echo",
                "viewmount -t bind " + dir.resolve("src") + " a && cat a/f",
                "um_mov_service viewfs 1",
                "um_ls_service | cut -d: -f1 | tr '\\n' ' '; echo",
                "viewmount -t bind " + dir.resolve("src") + " b && cat b/f",
                "perl -e 'my $b = \"\\0\" x 4096; my $q = \"mounts\"; my $n = syscall(1770, $q, length($q), $b, 4096); print substr($b, 0, $n)' | grep ' bind '"));
        assertEquals("stderr: " + r.err(), 0, r.status());
        assertEquals(String.join("\n", "unreal viewfs ", "hi", "viewfs unreal ", "hi",
                dir.resolve("src") + " " + dir.resolve("a") + " bind defaults (unreal)",
                dir.resolve("src") + " " + dir.resolve("b") + " bind defaults (viewfs)", ""), r.out());
    }

    /**
     * Regression: once the view's last mount is gone, mount(2) must still reach the view (the path
     * filter once hid it from the dispatcher and the kernel answered ENODEV).
     */
    @Test
    public void mountAgainAfterTheLastUmount() throws Exception {
        Path dir = Launcher.workDir("remount");
        Launcher.Result r = Launcher.bash(dir, String.join("\n",
                "mkdir m src && echo x > src/f && um_add_service viewfs", // viewfs mounts nothing by itself
                "for i in 1 2 3; do viewmount -t viewfs src m && cat m/f >/dev/null && viewumount m && echo ok$i; done"),
                "-x");
        assertEquals("stderr: " + r.err(), 0, r.status());
        assertEquals("ok1\nok2\nok3\n", r.out());
    }

    /** um_attach: a process started outside any view is brought into one and sees its modules. */
    @Test
    public void umAttachBringsAnOutsideProcessIntoTheView() throws Exception {
        Path dir = Launcher.workDir("attach");
        ProcessBuilder pb = new ProcessBuilder("sh", "-c",
                "while [ ! -e stop ]; do if cat /unreal/etc/hostname > got 2>/dev/null; then touch seen; fi; sleep 0.05; done")
                .directory(dir.toFile()).redirectErrorStream(true)
                .redirectOutput(dir.resolve("outside.log").toFile());
        Process outside = pb.start();
        try {
            Thread.sleep(300);
            assertTrue("outside a view /unreal does not exist", !Files.exists(dir.resolve("seen")));
            Launcher.Result r = Launcher.bash(dir, "um_attach " + outside.pid() + "; echo attach=$?; "
                    + "um_attach " + outside.pid() + "; echo again=$?; um_attach 999999999; echo none=$?; "
                    + "n=0; while [ ! -e seen ] && [ $n -lt 200 ]; do sleep 0.05; n=$((n+1)); done; "
                    + "[ -e seen ] && echo seen; touch stop", "-p", "unreal");
            assertEquals("stderr: " + r.err(), 0, r.status());
            assertEquals("attach=0\nagain=1\nnone=1\nseen\n", r.out());
            assertTrue(r.err(), r.err().contains("um_attach: File exists"));
            assertEquals(Files.readString(Path.of("/etc/hostname")), Files.readString(dir.resolve("got")));
            assertTrue("the attached process ended normally", outside.waitFor(60, TimeUnit.SECONDS));
        } finally {
            outside.destroyForcibly();
        }
    }

    @Test
    public void umshutdownEndsTheWholeView() throws Exception {
        Path dir = Launcher.workDir("shutdown");
        long t0 = System.nanoTime();
        Launcher.Result r = Launcher.bash(dir, "trap '' TERM; (trap '' TERM; sleep 300) & sleep 300 & umshutdown 1; wait");
        // bash ignores TERM, so only the KILL after 1 s ends it: 128 + 9
        assertEquals("stderr: " + r.err(), 137, r.status());
        assertTrue("ended long before the sleeps would", System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(100));
    }
}
