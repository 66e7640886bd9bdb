package org.viewos.core.internal.vfs;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;

import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.Test;
import org.viewos.core.api.FileSystem;

/** The walk outside every mount: symlinks spliced in, and the no-symlink memory forgotten on demand. */
public class PathResolverTest {
    /** A mount elsewhere that claims nothing: the walk remembers only where a view has mounts. */
    private static final MountTable TABLE = MountTable.EMPTY.plus(
            new Mount("none", "/nonexistent-mount", "test", "", "test", (rel, access) -> null, null, false));

    private static PathResolver.Resolution walk(String path) throws Exception {
        return PathResolver.resolve(TABLE, null, path, true, FileSystem.Access.LOOKUP);
    }

    @Test
    public void aDirectoryTurnedIntoASymlinkIsFollowedOnceForgotten() throws Exception {
        Path d = Files.createTempDirectory("pathresolver").toRealPath();
        try {
            Files.createDirectories(d.resolve("a/b"));
            Files.createDirectories(d.resolve("c"));
            Files.writeString(d.resolve("a/b/f"), "b");
            Files.writeString(d.resolve("c/f"), "c");
            PathResolver.Resolution first = walk(d + "/a/./b/../b/f");
            assertEquals(d + "/a/b/f", first.viewPath());
            assertFalse(first.crossed());

            Files.move(d.resolve("a/b"), d.resolve("a/old"));
            Files.createSymbolicLink(d.resolve("a/b"), Path.of("../c"));
            TABLE.plainDirs().forget(); // what the dispatcher does at symlink/rename/link
            assertEquals(d + "/c/f", walk(d + "/a/b/f").viewPath());
            assertEquals(d.toString(), walk(d + "/a/b/..").viewPath()); // ".." after the symlink, as the kernel
        } finally {
            for (String p : new String[] {"a/old/f", "a/old", "a/b", "c/f", "c", "a", ""}) {
                Files.deleteIfExists(d.resolve(p));
            }
        }
    }
}
