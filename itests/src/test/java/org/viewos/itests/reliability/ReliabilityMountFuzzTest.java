package org.viewos.itests.reliability;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.Ignore;
import org.junit.Test;

/**
 * viewmount fuzzed (c/reliability/mountfuzz.pl, fixed seeds): random option strings (commas,
 * equals, long values, 4 KiB strings, bytes >= 0x80, control characters) and sources for
 * {@code -t viewfs}, {@code -t unreal}, {@code -t ummiscuname}. Each is refused with one line or
 * mounts and then unmounts; the view keeps working throughout.
 */
public class ReliabilityMountFuzzTest {
    private static final int CASES = 120;

    private static Path script() {
        return Path.of(System.getProperty("viewos.csrc", "src/test/c"), "reliability", "mountfuzz.pl").toAbsolutePath();
    }

    @Test
    public void garbageOptionsAreRefusedInOneLineOrMountAndUnmount() throws Exception {
        for (String seed : new String[] {"7", "1770"}) {
            Path dir = Rel.workDir("mountfuzz");
            Rel.Result r = Rel.view(dir, 600, "-x", "-p", "viewfs", "-p", "unreal", "-p", "ummisc",
                    "perl", script().toString(), seed, String.valueOf(CASES), dir.toString());
            assertEquals(r.all(), 0, r.status());
            assertEquals(r.all(), "0", Rel.field(r.out(), "bad"));
            assertEquals(r.all(), "", r.err());
            int total = 0;
            StringBuilder sb = new StringBuilder();
            for (String t : new String[] {"viewfs", "unreal", "ummiscuname"}) {
                String f = Rel.field(r.out(), t);
                assertTrue(r.all(), f != null && f.matches("mounted \\d+ refused \\d+"));
                String[] w = f.split(" ");
                total += Integer.parseInt(w[1]) + Integer.parseInt(w[3]);
                sb.append(t).append(": ").append(f).append("; ");
            }
            assertEquals(3 * CASES, total);
            for (String line : r.out().split("\n")) {
                if (line.startsWith("message ")) {
                    sb.append(line.substring(8).trim()).append("; ");
                }
            }
            Rel.report("mount fuzz seed " + seed + ", " + total + " viewmounts in " + r.millis() + " ms: " + sb);
        }
    }

    @Test
    public void longOptionsAreNotBadAddress() throws Exception {
        Path dir = Rel.workDir("mountlong");
        Files.createDirectories(dir.resolve("mp"));
        Rel.Result r = Rel.viewBash(dir, 60, String.join("\n",
                "viewmount -t unreal -o $(printf %05000d 0) " + dir + " mp",
                "viewmount -t viewfs -o except=$(printf %05000d 0) " + dir + " mp",
                "viewmount -t unreal /$(printf %04100d 0) mp",
                "true"), "-p", "unreal", "-p", "viewfs");
        assertEquals(r.all(), 0, r.status());
        assertEquals(r.all(), 3, r.err().lines().count());
        assertFalse(r.all(), r.err().contains("Bad address"));
    }

    @Test
    public void refusalIsOneLineEvenWithANewlineInTheOptions() throws Exception {
        Path dir = Rel.workDir("mountnl");
        Files.createDirectories(dir.resolve("mp"));
        Rel.Result r = Rel.viewBash(dir, 60, String.join("\n",
                "viewmount -t viewfs -o \"$(printf 'a,,b\\nc')\" " + dir + " mp",
                "viewmount -t ummiscuname -o \"$(printf 'x\\ny')\" none mp",
                "true"), "-p", "viewfs", "-p", "ummisc");
        assertEquals(r.all(), 0, r.status());
        assertEquals(r.all(), 2, r.err().lines().count());
    }
}
