package org.viewos.itests.viewfs;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;
import static org.viewos.itests.viewfs.ViewOsRun.*;

import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.Before;
import org.junit.Test;

/** merge, cow and mincow semantics, checked inside the view and from outside afterwards; bad input. */
public class ViewFsModesTest {
    private Path dir;
    private Path store;
    private Path tgt;

    @Before
    public void setUp() throws Exception {
        assumeViewos();
        dir = workDir(getClass().getSimpleName());
        store = dir.resolve("store");
        tgt = dir.resolve("tgt");
        Files.createDirectories(store);
        write(tgt.resolve("lower"), "lower\n");
        write(tgt.resolve("both"), "lower both\n");
        write(tgt.resolve("d/deep/x"), "x\n");
        write(tgt.resolve("d/y"), "y\n");
        Files.createSymbolicLink(tgt.resolve("sym"), Path.of("lower"));
    }

    @Test
    public void mergeShowsBothLayersAndSrcWins() throws Exception {
        write(store.resolve("both"), "upper both\n");
        write(store.resolve("upper"), "upper\n");
        write(store.resolve("d/z"), "z\n");
        Result r = shell(dir, "viewmount -t viewfs -o merge " + store + " " + tgt + "\ncd " + tgt + "\n"
                + "echo ls:$(ls | tr '\\n' ' ')\necho d:$(ls d | tr '\\n' ' ')\ncat both\n"
                + "echo new > d/new\necho more >> lower\nrm upper\n").ok();
        assertTrue(r.toString(), r.out().contains("ls:both d lower sym upper\n"));
        assertTrue(r.toString(), r.out().contains("d:deep y z\n"));
        assertTrue(r.toString(), r.out().contains("upper both\n"));
        // new names go to SRC when the parent exists there; TARGET-only names are written in place
        assertTrue(Files.exists(store.resolve("d/new")));
        assertEquals("lower\nmore\n", Files.readString(tgt.resolve("lower")));
        assertFalse(Files.exists(store.resolve("upper")));
    }

    @Test
    public void cowNeverChangesTargetAndHidesWhiteouts() throws Exception {
        String before = checksums(tgt);
        Result r = shell(dir, "viewmount -t viewfs -o cow " + store + " " + tgt + "\ncd " + tgt + "\n"
                + "echo appended >> lower\nrm both\nrm -r d/deep\nmv d/y d/y2\nchmod 700 sym\n"
                + "mkdir -p newdir/a && echo n > newdir/a/n\nln -s lower lnk\nln lower hard\necho links:$(stat -c %h hard)\n"
                + "echo ls:$(ls -A | tr '\\n' ' ')\necho d:$(ls -A d | tr '\\n' ' ')\ncat lower\n"
                + "test ! -e both && echo both-gone\nfind . | sort | tr '\\n' ' '; echo\n"
                + "rmdir d 2>&1 || echo rmdir-refused\n"
                + "rm -r d && mkdir d && echo ls-d:$(ls -A d | wc -l)\n"
                + "ls .- 2>&1 || echo dotdash-hidden\n").ok();
        assertEquals("cow changed TARGET", before, checksums(tgt));
        assertTrue(r.toString(), r.out().contains("ls:d hard lnk lower newdir sym\n"));
        assertTrue(r.toString(), r.out().contains("d:y2\n"));
        assertTrue(r.toString(), r.out().contains("links:2\n") && r.out().contains("lower\nappended\n"));
        assertTrue(r.toString(), r.out().contains("both-gone"));
        assertTrue(r.toString(), r.out().contains("rmdir-refused"));
        assertTrue("a directory made again over a deleted one is empty (opaque)\n" + r, r.out().contains("ls-d:0\n"));
        assertTrue(r.toString(), r.out().contains("dotdash-hidden"));
        assertFalse(r.toString(), r.out().contains("./.-"));
        assertTrue(Files.isRegularFile(store.resolve(".-/both")));
        assertEquals("lower\nappended\n", Files.readString(store.resolve("lower")));
        assertTrue(Files.exists(store.resolve("newdir/a/n")));
        // after the view: TARGET as it was, outside sees no mount
        assertEquals("lower both\n", Files.readString(tgt.resolve("both")));
    }

    @Test
    public void cowSurvivesASecondView() throws Exception {
        shell(dir, "viewmount -t viewfs -o cow " + store + " " + tgt + "\nrm " + tgt + "/lower\necho 2 > " + tgt + "/new\n").ok();
        Result r = shell(dir, "viewmount -t viewfs -o cow " + store + " " + tgt + "\nls " + tgt + " | tr '\\n' ' '\n").ok();
        assertEquals("both d new sym ", r.out());
    }

    @Test
    public void mincowWritesInPlaceWhereWritable() throws Exception {
        // the tests may run as root, who may write everywhere: then mincow writes in place
        org.junit.Assume.assumeTrue("root may write everywhere", "root".equals(System.getProperty("user.name")));
        Result r = shell(dir, "viewmount -t viewfs -o mincow " + store + " " + tgt + "\n"
                + "echo more >> " + tgt + "/lower\necho n > " + tgt + "/made\nls " + tgt + " | tr '\\n' ' '\n").ok();
        assertTrue(r.toString(), r.out().contains("lower made"));
        assertEquals("lower\nmore\n", Files.readString(tgt.resolve("lower")));
        assertTrue(Files.exists(tgt.resolve("made")));
        assertFalse(Files.exists(store.resolve("lower")));
    }

    @Test
    public void badInputIsRefusedAndMountsNothing() throws Exception {
        String s = "cd " + dir + "\n"
                + "try() { if viewmount -t viewfs \"$@\" 2>err; then echo \"MOUNTED $*\"; else echo \"refused: $(cat err)\"; fi; }\n"
                + "try -o sideways store tgt\n"
                + "try -o cow,merge " + store + " " + tgt + "\n"
                + "try -o cow " + dir + "/missing " + tgt + "\n"
                + "try -o cow " + tgt + "/d " + tgt + "\n"
                + "try -o cow " + dir + " " + tgt + "\n"
                + "try -o cow,,ro " + store + " " + tgt + "\n"
                + "try -o vstat,cow " + store + " " + tgt + "\n"
                + "try -o cow=1 " + store + " " + tgt + "\n"
                + "try -o cow,except= " + store + " " + tgt + "\n"
                + "try -o cow,except=/elsewhere " + store + " " + tgt + "\n"
                + "try -o cow nosuchdir " + tgt + "\n"
                + "try -o cow " + tgt + "/lower " + tgt + "/d\n"
                + "echo ls:$(ls " + tgt + " | tr '\\n' ' ')\n"
                // a relative source is a path of the caller's cwd (the core resolves it)
                + "try -o cow,wok store " + tgt + "\n";
        Result r = shell(dir, s).ok();
        String[] lines = r.out().split("\n");
        for (int i = 0; i < 12; i++) {
            assertTrue("line " + i + " should be refused:\n" + r, lines[i].startsWith("refused: "));
        }
        assertTrue(r.toString(), lines[0].contains("Invalid argument"));
        assertTrue(r.toString(), lines[1].contains("Invalid argument"));
        assertTrue(r.toString(), lines[2].contains("No such file or directory"));
        assertTrue(r.toString(), lines[3].contains("Invalid argument"));
        assertTrue(r.toString(), lines[4].contains("Invalid argument"));
        assertTrue(r.toString(), lines[6].contains("Invalid argument"));
        assertTrue(r.toString(), lines[11].contains("Not a directory"));
        assertEquals("nothing was mounted by the refused calls", "ls:both d lower sym", lines[12]);
        assertTrue(r.toString(), lines[13].startsWith("MOUNTED"));
    }
}
