package org.viewos.itests.reliability;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.nio.file.Path;

import org.junit.Ignore;
import org.junit.Test;

/**
 * The control channel (system call 1770) fuzzed from inside a view by
 * {@code c/reliability/ctlfuzz.c}: random bytes, bad lengths, bad request and reply pointers,
 * unknown words, known words with garbage arguments, from fixed seeds. The daemon survives (the
 * command ends with its own status and the in-view commands still work in the same view), every
 * call answers -1 with a sane errno or a proper length. Natively the same calls are all ENOSYS.
 */
public class ReliabilityControlFuzzTest {
    private static final int CALLS = 4000;

    private static Rel.Result fuzz(String seed, String mode, String... viewOpts) throws Exception {
        Path p = Rel.program("ctlfuzz");
        Path dir = Rel.workDir("ctlfuzz");
        return Rel.viewBash(dir, 300, String.join("\n",
                p + " " + seed + " " + CALLS + " " + mode + "; st=$?",
                "um_ls_service; echo \"ls=$?\"",
                "[ \"$(vuname -U)\" = \"$PPID\" ] && echo daemon-same",
                "exit $st"), viewOpts);
    }

    private static void check(Rel.Result r, String view) {
        assertEquals(view + ": " + r.all(), 0, r.status());
        assertEquals(r.all(), String.valueOf(CALLS), Rel.field(r.out(), "calls"));
        assertEquals(r.all(), "0", Rel.field(r.out(), "unexpected"));
        assertTrue(r.all(), r.out().contains("\nls=0\n"));
        assertTrue(r.all(), r.out().contains("daemon-same\n"));
        StringBuilder h = new StringBuilder();
        for (String line : r.out().split("\n")) {
            if (line.startsWith("errno ") || line.startsWith("ok ") || line.startsWith("silent") || line.startsWith("kinds")) {
                h.append(line.replace("errno ", "")).append("; ");
            }
        }
        Rel.report("control fuzz, " + view + " view, " + CALLS + " calls in " + r.millis() + " ms: " + h);
    }

    @Test
    public void idleViewSurvivesGarbageRequests() throws Exception {
        check(fuzz("1770", ""), "idle");
    }

    @Test
    public void viewWithAModuleSurvivesGarbageRequests() throws Exception {
        Rel.Result r = fuzz("4242", "", "-p", "unreal");
        check(r, "unreal");
        assertTrue(r.all(), r.out().contains("unreal: "));
    }

    @Test
    public void nativelyEveryCallIsEnosys() throws Exception {
        Path p = Rel.program("ctlfuzz");
        Rel.Result r = Rel.nativeBash(Rel.workDir("ctlfuzz"), 120, p + " 1770 500");
        assertEquals(r.all(), "500", Rel.field(r.out(), "calls"));
        assertEquals(r.all(), "0", Rel.field(r.out(), "ok"));
        assertEquals(r.all(), "ENOSYS 500", Rel.field(r.out(), "errno"));
    }

    @Test
    public void unwritableReplyIsEfault() throws Exception {
        check(fuzz("1770", "strict"), "idle, strict");
    }
}
