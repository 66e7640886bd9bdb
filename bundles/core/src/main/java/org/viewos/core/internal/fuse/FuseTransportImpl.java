package org.viewos.core.internal.fuse;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.viewos.core.api.Errno;
import org.viewos.core.api.FuseConnection;
import org.viewos.core.api.FuseTransport;
import org.viewos.core.internal.ffi.Native;
import org.viewos.core.internal.ffi.NativeException;
import org.viewos.core.internal.ffi.Spawn;

/** The core's {@link FuseTransport}. */
@Component(service = FuseTransport.class)
public final class FuseTransportImpl implements FuseTransport {
    private static final int AF_UNIX = 1, SOCK_SEQPACKET = 5, SOCK_CLOEXEC = 0x80000;

    private final ExecutorService spawner = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "viewos-fuse-spawner");
        t.setDaemon(true);
        return t;
    });

    @Deactivate
    void deactivate() {
        spawner.shutdownNow();
        for (var e : listening.entrySet()) {
            Native.LIBC.close(e.getValue());
            new java.io.File(e.getKey()).delete();
        }
        listening.clear();
    }

    private static final int SOCK_NONBLOCK = 04000;
    /** Listening sockets for virtual /dev/fuse opens, by path. */
    private final java.util.Map<String, Integer> listening = new java.util.concurrent.ConcurrentHashMap<>();
    private java.nio.file.Path dir;
    private final java.util.concurrent.atomic.AtomicInteger names = new java.util.concurrent.atomic.AtomicInteger();

    @Override
    public String listen() throws Errno {
        String path;
        synchronized (this) {
            try {
                if (dir == null) {
                    dir = org.viewos.core.api.ModuleDirs.create("fusedev");
                }
            } catch (java.io.IOException e) {
                throw new Errno(Errno.EIO, "no private directory for /dev/fuse sockets: " + e.getMessage());
            }
            path = dir.resolve("fuse" + names.incrementAndGet()).toString();
        }
        byte[] addr = Native.sockaddrUn(path);
        if (addr == null) {
            throw new Errno(Errno.EIO, "socket path too long: " + path);
        }
        int fd = Native.LIBC.socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0) {
            throw new Errno(Errno.EIO, "socket: errno " + Native.errno());
        }
        if (Native.LIBC.bind(fd, addr, addr.length) != 0 || Native.LIBC.listen(fd, 4) != 0) {
            int e = Native.errno();
            Native.LIBC.close(fd);
            throw new Errno(Errno.EIO, "cannot listen at " + path + ": errno " + e);
        }
        listening.put(path, fd);
        return path;
    }

    @Override
    public FuseConnection accept(String path) throws Errno {
        Integer fd = path == null ? null : listening.remove(path);
        if (fd == null) {
            throw new Errno(Errno.EINVAL, "not a /dev/fuse channel of this view: " + path);
        }
        try {
            int c = Native.LIBC.accept4(fd, 0, 0, SOCK_CLOEXEC);
            if (c < 0) {
                throw new Errno(Errno.EINVAL, "nobody connected to " + path + " (errno " + Native.errno() + ")");
            }
            return new SeqpacketConnection(c, 0);
        } finally {
            Native.LIBC.close(fd);
            new java.io.File(path).delete();
        }
    }

    @Override
    public FuseConnection start(List<String> argv, int fd, String log) throws Errno {
        if (argv == null || argv.isEmpty() || fd < 3 || fd > 1000) {
            throw new Errno(Errno.EINVAL, "a FUSE daemon needs a command and an fd number above 2");
        }
        String program = Spawn.which(argv.get(0), System.getenv("PATH"));
        if (program == null) {
            throw new Errno(Errno.ENOENT, argv.get(0) + ": command not found");
        }
        int[] sv = new int[2];
        if (Native.LIBC.socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) {
            throw new Errno(Errno.EIO, "socketpair: errno " + Native.errno());
        }
        Spawn spawn = new Spawn(program, argv, environ())
                .open(0, "/dev/null", Spawn.O_RDONLY)
                .open(1, log == null ? "/dev/null" : log, Spawn.O_WRONLY | Spawn.O_CREAT | Spawn.O_APPEND)
                .dup(1, 2)
                .dup(sv[1], fd);
        Future<Integer> pid = spawner.submit(spawn::start);
        try {
            int p = pid.get();
            Native.LIBC.close(sv[1]);
            return new SeqpacketConnection(sv[0], p);
        } catch (ExecutionException e) {
            Native.LIBC.close(sv[0]);
            Native.LIBC.close(sv[1]);
            Throwable c = e.getCause();
            int errno = c instanceof NativeException n ? n.errno() : Errno.EIO;
            throw new Errno(errno, "cannot start " + argv.get(0) + ": " + c.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            Native.LIBC.close(sv[0]);
            Native.LIBC.close(sv[1]);
            throw new Errno(Errno.EINTR, "interrupted while starting " + argv.get(0));
        }
    }

    private static List<String> environ() {
        List<String> env = new ArrayList<>();
        System.getenv().forEach((k, v) -> env.add(k + "=" + v));
        return env;
    }
}
