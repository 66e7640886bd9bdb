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
        return path.startsWith(target) && (path.length() == target.length() || path.charAt(target.length()) == '/');
    }

    /** The part of {@code path} below the target, without a leading slash. */
    String relative(String path) {
        if (target.equals("/")) {
            return path.substring(1);
        }
        return path.length() == target.length() ? "" : path.substring(target.length() + 1);
    }
}
