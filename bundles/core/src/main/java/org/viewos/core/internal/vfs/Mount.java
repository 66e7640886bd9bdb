package org.viewos.core.internal.vfs;

import org.viewos.core.api.FileSystem;

/**
 * One mount of a view: where, what, and the module's {@link FileSystem} serving it. {@code user}
 * mounts were made by a traced program (mount(2), viewmount) and keep their module busy.
 */
public record Mount(String source, String target, String fstype, String options, String module,
        FileSystem fs, Object owner, boolean user) {
    /** Whether the view path {@code path} (canonical) is at or below this mount's target. */
    boolean covers(String path) {
        if (target.equals("/")) {
            return true;
        }
        if (!path.startsWith(target)) {
            return false;
        }
        return path.length() == target.length() || path.charAt(target.length()) == '/' || subdevice(path) > 0;
    }

    /** N when {@code path} is the mount point followed by N, a subdevice the file system serves; else 0. */
    private int subdevice(String path) {
        String n = path.substring(target.length());
        if (n.isEmpty() || n.length() > 4 || !n.chars().allMatch(Character::isDigit) || n.charAt(0) == '0') {
            return 0;
        }
        int sub;
        try {
            sub = fs.subdevices();
        } catch (RuntimeException e) {
            return 0;
        }
        int i = Integer.parseInt(n);
        return i <= sub ? i : 0;
    }

    /** The part of {@code path} below the target, without a leading slash ({@code "#N"}: subdevice N). */
    public String relative(String path) {
        if (target.equals("/")) {
            return path.substring(1);
        }
        if (path.length() == target.length()) {
            return "";
        }
        return path.charAt(target.length()) == '/' ? path.substring(target.length() + 1)
                : "#" + path.substring(target.length());
    }
}
