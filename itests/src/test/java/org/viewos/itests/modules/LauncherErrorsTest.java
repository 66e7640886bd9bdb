package org.viewos.itests.modules;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

import org.junit.Test;

/**
 * Bad input to the launcher: one line on stderr, prefixed {@code viewos: }, and the exit status a
 * shell would give (2 usage, 127 not found, 126 not executable, 1 other); nothing on stdout.
 */
public class LauncherErrorsTest {
    private static void oneLineError(Launcher.Result r, int status, String contains) {
        assertEquals("exit status; stderr: " + r.err(), status, r.status());
        assertEquals("nothing on stdout", "", r.out());
        String err = r.err();
        assertTrue("one line: [" + err + "]", err.endsWith("\n") && err.indexOf('\n') == err.length() - 1);
        assertTrue(err, err.startsWith("viewos: "));
        assertTrue(err, err.contains(contains));
    }

    @Test
    public void unknownOptionIsAUsageError() throws Exception {
        Path dir = Launcher.workDir("err");
        oneLineError(Launcher.run(dir, null, "-Z", "true"), 2, "usage: viewos");
        oneLineError(Launcher.run(dir, null, "--bogus", "true"), 2, "unrecognized option '--bogus'");
    }

    @Test
    public void missingCommandIsAUsageError() throws Exception {
        Path dir = Launcher.workDir("err");
        oneLineError(Launcher.run(dir, null), 2, "missing command");
        oneLineError(Launcher.run(dir, null, "-V"), 2, "requires an argument");
    }

    @Test
    public void commandNotFoundIs127() throws Exception {
        Path dir = Launcher.workDir("err");
        oneLineError(Launcher.run(dir, null, "no-such-command-xyz"), 127, "no-such-command-xyz: command not found");
        oneLineError(Launcher.run(dir, null, "./no-such-file"), 127, "No such file or directory");
    }

    @Test
    public void nonExecutableIs126() throws Exception {
        Path dir = Launcher.workDir("err");
        Path f = dir.resolve("plain.txt");
        Files.writeString(f, "echo hi\n");
        oneLineError(Launcher.run(dir, null, f.toString()), 126, "Permission denied");
        oneLineError(Launcher.run(dir, null, dir.toString()), 126, "Permission denied");
    }

    @Test
    public void unreadableOrMissingRcFileIs1() throws Exception {
        Path dir = Launcher.workDir("err");
        oneLineError(Launcher.run(dir, null, "-f", dir.resolve("nonexistent-rc").toString(), "true"), 1, "nonexistent-rc");
        Path rc = dir.resolve("rc");
        Files.writeString(rc, "echo from-rc\n");
        Files.setPosixFilePermissions(rc, PosixFilePermissions.fromString("---------"));
        if (!Files.isReadable(rc)) { // root reads everything: then only the missing case applies
            oneLineError(Launcher.run(dir, null, "-f", rc.toString(), "true"), 1, "rc");
        }
    }

    @Test
    public void rcFileRunsInTheViewBeforeTheCommand() throws Exception {
        Path dir = Launcher.workDir("rc");
        Path rc = dir.resolve("rc");
        Files.writeString(rc, "#!/bin/sh\necho \"rc in view: $(vuname -o)\"\n");
        Files.setPosixFilePermissions(rc, PosixFilePermissions.fromString("rwx------"));
        Launcher.Result r = Launcher.run(dir, null, "-f", rc.toString(), "sh", "-c", "echo command");
        assertEquals("stderr: " + r.err(), 0, r.status());
        assertEquals("rc in view: GNU/Linux/View-OS\ncommand\n", r.out());
        Launcher.Result x = Launcher.run(dir, null, "-x", "sh", "-c", "echo only");
        assertEquals("only\n", x.out());
    }

    @Test
    public void unknownPreloadedModuleIs1() throws Exception {
        Path dir = Launcher.workDir("err");
        oneLineError(Launcher.run(dir, null, "-p", "nosuchmodule", "true"), 1, "nosuchmodule");
    }

    @Test
    public void versionAndHelp() throws Exception {
        Path dir = Launcher.workDir("err");
        Launcher.Result v = Launcher.run(dir, null, "--version");
        assertEquals(0, v.status());
        assertEquals("viewos (View-OS/J) 0.1.0\n", v.out());
        Launcher.Result h = Launcher.run(dir, null, "--help");
        assertEquals(0, h.status());
        assertTrue(h.out(), h.out().startsWith("usage: viewos"));
    }
}
