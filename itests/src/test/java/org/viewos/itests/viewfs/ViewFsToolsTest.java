package org.viewos.itests.viewfs;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.viewos.itests.viewfs.ViewOsRun.*;

import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.Before;
import org.junit.Test;

/** Real tools working in a cow tree (cp -a, mv, rm -r, find, tar x, git clone, gcc); TARGET unchanged. */
public class ViewFsToolsTest {
    private Path dir;
    private Path store;
    private Path tgt;

    @Before
    public void setUp() throws Exception {
        assumeViewos();
        dir = workDir(getClass().getSimpleName());
        store = dir.resolve("store");
        tgt = dir.resolve("project");
        Files.createDirectories(store);
        write(tgt.resolve("src/main.c"), "#include <stdio.h>\nint main(void){puts(\"built in a view\");return 0;}\n");
        write(tgt.resolve("docs/a.txt"), "a\n");
        write(tgt.resolve("docs/sub/b.txt"), "b\n");
        Files.createSymbolicLink(tgt.resolve("docs/link"), Path.of("a.txt"));
    }

    @Test
    public void toolsInACowTree() throws Exception {
        assumeTool("gcc");
        assumeTool("git");
        assumeTool("tar");
        Path repo = dir.resolve("repo");
        write(repo.resolve("README"), "repo\n");
        nativeRun(dir, "git", "-C", repo.toString(), "init", "-q").ok();
        nativeRun(dir, "git", "-C", repo.toString(), "-c", "user.name=t", "-c", "user.email=t@t", "add", ".").ok();
        nativeRun(dir, "git", "-C", repo.toString(), "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "one").ok();
        nativeRun(dir, "tar", "cf", dir.resolve("t.tar").toString(), "-C", repo.toString(), "README").ok();
        String before = checksums(tgt);
        Result r = shell(dir, "viewmount -t viewfs -o cow " + store + " " + tgt + "\ncd " + tgt + "\n"
                + "cp -a docs docs2\nmv docs2 docs3\nmv docs/a.txt docs/a2.txt\nrm -r docs/sub\n"
                + "echo find:$(find . | sort | tr '\\n' ' ')\n"
                + "mkdir x && tar xf " + dir + "/t.tar -C x && cat x/README\n"
                + "git clone -q " + repo + " clone && git -C clone log --oneline | wc -l\n"
                + "gcc -o src/main src/main.c && ./src/main\n"
                + "rm -r docs3 && echo removed\n").ok();
        assertEquals("cow changed TARGET", before, checksums(tgt));
        assertTrue(r.toString(), r.out().contains("find:. ./docs ./docs/a2.txt ./docs/link ./docs3 ./docs3/a.txt "
                + "./docs3/link ./docs3/sub ./docs3/sub/b.txt ./src ./src/main.c\n"));
        assertTrue(r.toString(), r.out().contains("repo\n1\nbuilt in a view\nremoved\n"));
        assertTrue(Files.isExecutable(store.resolve("src/main")));
        assertTrue(Files.exists(store.resolve("clone/.git/HEAD")));
        assertEquals("repo\n", Files.readString(store.resolve("x/README")));
        Result outside = nativeRun(dir, "ls", tgt.toString()).ok();
        assertEquals("docs\nsrc\n", outside.out());
    }
}
