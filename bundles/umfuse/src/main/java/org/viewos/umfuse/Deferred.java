package org.viewos.umfuse;

import org.viewos.core.api.Errno;
import org.viewos.core.api.FileSystem;
import org.viewos.core.api.NetworkStack;
import org.viewos.core.api.VirtualFile;

/**
 * A mount whose file system comes into being at its first use: a FUSE program in the view is
 * inside mount(2) when umfuse mounts it, and answers INIT only once that call has returned. A
 * failure at that first use is the answer to every later call too.
 */
final class Deferred implements FileSystem {
    /** Makes the file system (the FUSE handshake): runs once. */
    @FunctionalInterface
    interface Opener {
        FileSystem open() throws Errno;
    }

    private final Opener opener;
    private final Runnable discard;
    /** Read without the lock by relativeOf, which must answer while the handshake waits. */
    private volatile FileSystem fs;
    private Errno failed;
    private boolean gone;

    Deferred(Opener opener, Runnable discard) {
        this.opener = opener;
        this.discard = discard;
    }

    private synchronized FileSystem fs() throws Errno {
        if (gone) {
            throw new Errno(Errno.ENODEV, "unmounted");
        }
        if (failed != null) {
            throw new Errno(failed.code(), failed.getMessage());
        }
        if (fs == null) {
            try {
                fs = opener.open();
            } catch (Errno e) {
                failed = e;
                throw e;
            }
        }
        return fs;
    }

    @Override
    public String hostPath(String relative, Access access) throws Errno {
        return fs().hostPath(relative, access);
    }

    @Override
    public VirtualFile virtualFile(String relative) throws Errno {
        return fs().virtualFile(relative);
    }

    @Override
    public NetworkStack networkStack() {
        return null;
    }

    @Override
    public String relativeOf(String hostPath) {
        FileSystem f = fs;
        return f == null ? null : f.relativeOf(hostPath); // before its first use nothing maps here
    }

    @Override
    public void unmount() throws Errno {
        FileSystem f;
        synchronized (this) {
            f = fs;
            if (f == null) {
                gone = true;
            }
        }
        if (f == null) {
            discard.run(); // never used: the program sees its /dev/fuse close
        } else {
            f.unmount();
        }
    }
}
