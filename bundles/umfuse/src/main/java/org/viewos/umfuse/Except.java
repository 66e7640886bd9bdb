package org.viewos.umfuse;

import java.util.ArrayList;
import java.util.List;

import org.viewos.core.api.Errno;
import org.viewos.core.api.FileSystem;

/**
 * umview's {@code except=PATH}: paths of the mount (relative to it, or absolute view paths below
 * its target; repeatable) that umfuse does not serve: they pass to the next older mount or to the
 * host, as if the file system had a hole there.
 */
final class Except implements FileSystem {
    private final FileSystem fs;
    private final List<String> holes;

    private Except(FileSystem fs, List<String> holes) {
        this.fs = fs;
        this.holes = holes;
    }

    /** {@code fs} with the holes of the {@code except=} value (':'-joined), or {@code fs} itself. */
    static FileSystem wrap(FileSystem fs, String target, String except) throws Errno {
        if (except == null) {
            return fs;
        }
        List<String> holes = new ArrayList<>();
        for (String e : except.split(":")) {
            String rel = e;
            if (e.startsWith("/")) {
                if (!e.startsWith(target + "/")) {
                    throw new Errno(Errno.EINVAL, "umfuse: except=" + e + " is not below " + target);
                }
                rel = e.substring(target.length() + 1);
            }
            while (rel.endsWith("/")) {
                rel = rel.substring(0, rel.length() - 1);
            }
            if (rel.isEmpty() || rel.contains("/../") || rel.startsWith("../") || rel.equals("..")) {
                throw new Errno(Errno.EINVAL, "umfuse: bad except=" + e);
            }
            holes.add(rel);
        }
        return new Except(fs, holes);
    }

    private boolean inHole(String relative) {
        for (String h : holes) {
            if (relative.equals(h) || relative.startsWith(h + "/")) {
                return true;
            }
        }
        return false;
    }

    @Override
    public String hostPath(String relative, Access access) throws Errno {
        return inHole(relative) ? null : fs.hostPath(relative, access);
    }

    @Override
    public String relativeOf(String hostPath) {
        String r = fs.relativeOf(hostPath);
        return r == null || inHole(r) ? null : r;
    }

    @Override
    public void unmount() throws Errno {
        fs.unmount();
    }
}
