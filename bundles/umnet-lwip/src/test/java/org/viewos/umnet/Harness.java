package org.viewos.umnet;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

import org.viewos.core.api.Errno;
import org.viewos.core.api.OpenFile;
import org.viewos.core.api.SocketFile;

/**
 * What the core does with a {@link SocketFile}, for the tests: calls that throw EAGAIN are retried
 * when readiness says so (receiving, accept) or shortly after (sending, connect). A real
 * {@code vde_switch} connects the stacks.
 */
final class Harness {
    static final int AF_INET = 2, AF_INET6 = 10, AF_NETLINK = 16;
    static final int SOCK_STREAM = 1, SOCK_DGRAM = 2, SOCK_RAW = 3;
    private static final long DEADLINE_NS = TimeUnit.SECONDS.toNanos(60);

    private Harness() {
    }

    /** A readiness the core would keep: a waiter sleeps until the module says readable. */
    static final class Ready implements OpenFile.Readiness {
        private boolean readable;

        @Override
        public synchronized void readable(boolean r) {
            readable = r;
            if (r) {
                notifyAll();
            }
        }

        synchronized boolean readable() {
            return readable;
        }

        /** Waits at most {@code millis} for readability; whether it came. */
        synchronized boolean awaitFor(long millis) throws InterruptedException {
            long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
            while (!readable) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return false;
                }
                TimeUnit.NANOSECONDS.timedWait(this, left);
            }
            return true;
        }

        synchronized void await(long deadline) throws InterruptedException {
            while (!readable) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    throw new AssertionError("timed out waiting for readability");
                }
                TimeUnit.NANOSECONDS.timedWait(this, left);
            }
        }
    }

    /** A socket with the readiness the core gave it. */
    record Sock(SocketFile file, Ready ready) {
        static Sock of(SocketFile f) {
            Ready r = new Ready();
            f.watch(r);
            return new Sock(f, r);
        }

        void connect(byte[] addr) throws Errno {
            long deadline = System.nanoTime() + DEADLINE_NS;
            while (true) {
                try {
                    file.connect(addr);
                    return;
                } catch (Errno e) {
                    if (e.code() != Errno.EAGAIN) {
                        throw e;
                    }
                }
                pause(deadline);
            }
        }

        Sock accept(byte[][] peer) throws Errno, InterruptedException {
            long deadline = System.nanoTime() + DEADLINE_NS;
            while (true) {
                try {
                    return of(file.accept(peer));
                } catch (Errno e) {
                    if (e.code() != Errno.EAGAIN) {
                        throw e;
                    }
                }
                ready.await(deadline);
            }
        }

        int receive(ByteBuffer dst, int flags, byte[][] from) throws Errno, InterruptedException {
            long deadline = System.nanoTime() + DEADLINE_NS;
            while (true) {
                try {
                    return file.receive(dst, flags, from);
                } catch (Errno e) {
                    if (e.code() != Errno.EAGAIN) {
                        throw e;
                    }
                }
                ready.await(deadline);
            }
        }

        /** Reads exactly n bytes (fewer only at the end of the stream). */
        byte[] readFully(int n) throws Errno, InterruptedException {
            ByteBuffer b = ByteBuffer.allocate(n);
            while (b.hasRemaining()) {
                if (receive(b, 0, null) == 0) {
                    break;
                }
            }
            return java.util.Arrays.copyOf(b.array(), b.position());
        }

        void sendAll(byte[] data) throws Errno {
            ByteBuffer b = ByteBuffer.wrap(data);
            long deadline = System.nanoTime() + DEADLINE_NS;
            while (b.hasRemaining()) {
                try {
                    file.send(b, 0, null);
                    deadline = System.nanoTime() + DEADLINE_NS;
                    continue;
                } catch (Errno e) {
                    if (e.code() != Errno.EAGAIN) {
                        throw e;
                    }
                }
                pause(deadline);
            }
        }

        int sendTo(byte[] data, byte[] addr) throws Errno {
            return file.send(ByteBuffer.wrap(data), 0, addr);
        }
    }

    /** The core's "poll again shortly" for sending calls and connect. */
    static void pause(long deadline) {
        if (System.nanoTime() > deadline) {
            throw new AssertionError("timed out retrying");
        }
        LockSupport.parkNanos(200_000);
    }

    static byte[] in4(int port, int a, int b, int c, int d) {
        return new byte[] {2, 0, (byte) (port >> 8), (byte) port, (byte) a, (byte) b, (byte) c, (byte) d,
            0, 0, 0, 0, 0, 0, 0, 0};
    }

    static byte[] in6(int port, byte[] addr16) {
        byte[] s = new byte[28];
        s[0] = 10;
        s[2] = (byte) (port >> 8);
        s[3] = (byte) port;
        System.arraycopy(addr16, 0, s, 8, 16);
        return s;
    }

    static int port(byte[] sockaddr) {
        return (sockaddr[2] & 0xff) << 8 | (sockaddr[3] & 0xff);
    }

    /** A real vde_switch in a temporary directory, ended by its pid. */
    static final class Switch implements AutoCloseable {
        final Path dir;
        final String url;
        private final long pid;

        Switch() throws IOException, InterruptedException {
            dir = Files.createTempDirectory("umnet-test");
            Path pidFile = dir.resolve("pid");
            Process p = new ProcessBuilder("vde_switch", "-s", dir.resolve("sw").toString(), "-d", "-p",
                    pidFile.toString()).redirectErrorStream(true).start();
            if (!p.waitFor(20, TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new IOException("vde_switch did not start: " + new String(p.getInputStream().readAllBytes()));
            }
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (!Files.exists(pidFile) || Files.readString(pidFile).isBlank()) {
                if (System.nanoTime() > deadline) {
                    throw new IOException("vde_switch wrote no pid file");
                }
                Thread.sleep(10);
            }
            pid = Long.parseLong(Files.readString(pidFile).trim());
            url = "vde://" + dir.resolve("sw");
        }

        @Override
        public void close() throws IOException {
            ProcessHandle.of(pid).ifPresent(h -> {
                h.destroy();
                try {
                    h.onExit().get(10, TimeUnit.SECONDS);
                } catch (Exception e) {
                    h.destroyForcibly();
                }
            });
            try (var s = Files.walk(dir)) {
                s.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
            } catch (IOException | java.io.UncheckedIOException e) {
                // the switch removed its own files meanwhile
            }
        }
    }
}
