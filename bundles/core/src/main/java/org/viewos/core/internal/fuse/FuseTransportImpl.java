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
