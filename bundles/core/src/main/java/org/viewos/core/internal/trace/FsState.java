package org.viewos.core.internal.trace;

/**
 * The part of a process's {@code struct fs_struct} the view must know: its cwd as a view path when
 * it differs from the kernel's (after a chdir into a mount). Null means the kernel's cwd
 * ({@code /proc/PID/cwd}) is the view's: the cheap and common case.
 */
public final class FsState {
    private volatile String viewCwd;
    /** The process's default network stack (mstack): the view path of a stack mount, or null. */
    private volatile String netStack;

    public String netStack() {
        return netStack;
    }

    public void setNetStack(String stack) {
        this.netStack = stack;
    }

    public String viewCwd() {
        return viewCwd;
    }

    public void setViewCwd(String cwd) {
        this.viewCwd = cwd;
    }

    FsState copy() {
        FsState c = new FsState();
        c.viewCwd = viewCwd;
        c.netStack = netStack;
        return c;
    }
}
