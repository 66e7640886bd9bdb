package org.viewos.umfuse;

import org.viewos.core.api.Errno;
import org.viewos.core.api.FileStat;
import org.viewos.core.api.FileSystem;
import org.viewos.core.api.FuseTransport;
import org.viewos.core.api.OpenFile;
import org.viewos.core.api.VirtualFile;

/**
 * The view's {@code /dev/fuse} (character device 10,229), mounted while umfuse is loaded: opening
 * it gives a FUSE program a socket connected to a fresh listening socket of the core's, and the
 * program's mount(2) with {@code fd=N} hands the other end to umfuse. No kernel FUSE is involved.
 */
final class DevFuse implements FileSystem {
    static final String TYPE = "umfusedev";
    private static final int MAJOR = 10, MINOR = 229;

    private final FuseTransport transport;

    DevFuse(FuseTransport transport) {
        this.transport = transport;
    }

    @Override
    public String hostPath(String relative, Access access) throws Errno {
        if (!relative.isEmpty()) {
            throw new Errno(Errno.ENOTDIR);
        }
        return VIRTUAL;
    }

    @Override
    public VirtualFile virtualFile(String relative) throws Errno {
        if (!relative.isEmpty()) {
            throw new Errno(Errno.ENOTDIR);
        }
        return new VirtualFile() {
            @Override
            public FileStat stat() {
                return new FileStat(S_IFCHR | 0666, FileStat.makedev(MAJOR, MINOR), 0, 0, 0, 0);
            }

            @Override
            public OpenFile open(int flags) throws Errno {
                throw new Errno(Errno.ENXIO); // opened through connectTo
            }

            @Override
            public String connectTo() throws Errno {
                return transport.listen();
            }
        };
    }
}
