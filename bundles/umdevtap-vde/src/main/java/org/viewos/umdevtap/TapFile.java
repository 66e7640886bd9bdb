package org.viewos.umdevtap;

import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.logging.Logger;

import org.viewos.core.api.Errno;
import org.viewos.core.api.OpenFile;

/**
 * One open {@code /dev/net/tun}: unattached until TUNSETIFF, then one TAP interface whose frames
 * travel through a {@code vde_plug} process. Reads give one frame each (EAGAIN when none: the
 * core then waits for readiness, or returns EAGAIN to a non-blocking reader); writes send one.
 */
final class TapFile implements OpenFile {
    private static final Logger LOG = Logger.getLogger(TapFile.class.getName());
    static final int TUNSETIFF = 0x400454ca, TUNGETIFF = 0x800454d2, TUNGETFEATURES = 0x800454cf,
            TUNSETPERSIST = 0x400454cb, TUNSETOWNER = 0x400454cc, TUNSETGROUP = 0x400454ce,
            TUNSETNOCSUM = 0x400454c8, TUNSETDEBUG = 0x400454c9, TUNSETLINK = 0x400454cd,
            TUNGETSNDBUF = 0x800454d3, TUNSETSNDBUF = 0x400454d4;
    static final short IFF_TUN = 0x1, IFF_TAP = 0x2, IFF_NO_PI = 0x1000, IFF_ONE_QUEUE = 0x2000,
            IFF_MULTI_QUEUE = 0x100, IFF_VNET_HDR = 0x4000;
    private static final int IFREQ = 40, IFNAMSIZ = 16;
    private static final int EBADFD = 77;
    private static final int MAX_QUEUE = 1024;
    private static final int MAX_FRAME = 65535;

    private final TapDriver driver;
    private final String url;
    private final ArrayDeque<byte[]> incoming = new ArrayDeque<>();
    private final LinkedBlockingQueue<byte[]> outgoing = new LinkedBlockingQueue<>(MAX_QUEUE);
    private Readiness readiness = r -> { };
    private Process plug;
    private String name;
    private short flags;
    private volatile boolean gone;
    private volatile String goneWhy;

    TapFile(TapDriver driver, String url) {
        this.driver = driver;
        this.url = url;
    }

    @Override
    public long size() {
        return -1; // a stream
    }

    @Override
    public void watch(Readiness r) {
        this.readiness = r;
    }

    @Override
    public int read(long position, ByteBuffer dst) throws Errno {
        if (name == null) {
            throw new Errno(EBADFD, "no interface attached (TUNSETIFF first)");
        }
        byte[] f;
        synchronized (incoming) {
            f = incoming.poll();
            if (incoming.isEmpty() && !gone) {
                readiness.readable(false);
            }
        }
        if (f == null) {
            if (gone) {
                throw new Errno(Errno.EIO, "the VDE network is gone: " + goneWhy);
            }
            throw new Errno(Errno.EAGAIN);
        }
        int off = 0;
        if ((flags & IFF_NO_PI) == 0) {
            // struct tun_pi: flags, then the protocol (the frame's EtherType), big endian
            byte[] pi = {0, 0, f.length > 13 ? f[12] : 0, f.length > 13 ? f[13] : 0};
            int n = Math.min(4, dst.remaining());
            dst.put(pi, 0, n);
            off = n;
        }
        int n = Math.min(f.length, dst.remaining());
        dst.put(f, 0, n);
        return off + n;
    }

    @Override
    public int write(long position, ByteBuffer src) throws Errno {
        if (name == null) {
            throw new Errno(EBADFD, "no interface attached (TUNSETIFF first)");
        }
        if (gone) {
            throw new Errno(Errno.EIO, "the VDE network is gone: " + goneWhy);
        }
        int len = src.remaining();
        if ((flags & IFF_NO_PI) == 0) {
            if (len < 4) {
                throw new Errno(Errno.EINVAL);
            }
            src.position(src.position() + 4);
        }
        byte[] f = new byte[src.remaining()];
        src.get(f);
        if (f.length < 14 || f.length > MAX_FRAME) {
            throw new Errno(Errno.EINVAL, "not an Ethernet frame (" + f.length + " bytes)");
        }
        if (!outgoing.offer(f)) {
            return len; // the queue is full: dropped, as a NIC drops when its ring is full
        }
        return len;
    }

    @Override
    public long ioctl(int request, long arg, Memory memory) throws Errno {
        if (request == TUNGETFEATURES) {
            memory.write(arg, le4(IFF_TAP | IFF_NO_PI | IFF_ONE_QUEUE));
            return 0;
        }
        if (request == TUNSETIFF) {
            if (name != null) {
                throw new Errno(Errno.EEXIST, "this descriptor already has " + name);
            }
            ByteBuffer ifr = ByteBuffer.wrap(memory.read(arg, IFREQ)).order(ByteOrder.LITTLE_ENDIAN);
            short fl = ifr.getShort(IFNAMSIZ);
            if ((fl & IFF_TUN) != 0 || (fl & IFF_TAP) == 0) {
                throw new Errno(Errno.EINVAL, "only IFF_TAP interfaces (Ethernet frames) are served");
            }
            String asked = cname(ifr.array());
            String n = claimName(asked.isEmpty() ? "tap%d" : asked);
            attach(n, fl);
            byte[] out = ifr.array();
            java.util.Arrays.fill(out, 0, IFNAMSIZ, (byte) 0);
            byte[] nb = n.getBytes(StandardCharsets.US_ASCII);
            System.arraycopy(nb, 0, out, 0, Math.min(nb.length, IFNAMSIZ - 1));
            memory.write(arg, out);
            return 0;
        }
        if (name == null) {
            throw new Errno(EBADFD);
        }
        switch (request) {
            case TUNGETIFF -> {
                byte[] out = new byte[IFREQ];
                byte[] nb = name.getBytes(StandardCharsets.US_ASCII);
                System.arraycopy(nb, 0, out, 0, nb.length);
                ByteBuffer.wrap(out).order(ByteOrder.LITTLE_ENDIAN).putShort(IFNAMSIZ, flags);
                memory.write(arg, out);
            }
            case TUNSETPERSIST, TUNSETOWNER, TUNSETGROUP, TUNSETNOCSUM, TUNSETDEBUG, TUNSETSNDBUF -> {
                // accepted: nothing of it matters for a VDE port
            }
            case TUNGETSNDBUF -> memory.write(arg, le4(Integer.MAX_VALUE));
            default -> throw new Errno(Errno.EINVAL);
        }
        return 0;
    }

    private String claimName(String pattern) throws Errno {
        if (pattern.length() >= IFNAMSIZ || pattern.contains("/") || pattern.isBlank()) {
            throw new Errno(Errno.EINVAL, "bad interface name " + pattern);
        }
        if (!pattern.contains("%d")) {
            if (!driver.names.add(pattern)) {
                throw new Errno(Errno.EBUSY, pattern + " is in use");
            }
            return pattern;
        }
        for (int i = 0; i < 4096; i++) {
            String n = pattern.replace("%d", Integer.toString(i));
            if (driver.names.add(n)) {
                return n;
            }
        }
        throw new Errno(Errno.ENFILE);
    }

    private void attach(String n, short fl) throws Errno {
        try {
            plug = driver.spawner().submit(() -> new ProcessBuilder("vde_plug", url)
                    .redirectError(ProcessBuilder.Redirect.PIPE).start()).get(10, TimeUnit.SECONDS);
        } catch (ExecutionException | TimeoutException | InterruptedException | RuntimeException e) {
            driver.names.remove(n);
            Throwable c = e instanceof ExecutionException ? e.getCause() : e;
            throw new Errno(Errno.ENODEV, "cannot start vde_plug " + url + ": " + c.getMessage());
        }
        name = n;
        flags = (short) (fl & (IFF_TAP | IFF_NO_PI | IFF_ONE_QUEUE | IFF_VNET_HDR | IFF_MULTI_QUEUE));
        Process p = plug;
        Thread rx = new Thread(() -> receive(p), "umdevtap-rx-" + n);
        Thread tx = new Thread(() -> send(p), "umdevtap-tx-" + n);
        Thread er = new Thread(() -> stderr(p), "umdevtap-err-" + n);
        for (Thread t : List.of(rx, tx, er)) {
            t.setDaemon(true);
            t.start();
        }
    }

    private void receive(Process p) {
        try (DataInputStream in = new DataInputStream(p.getInputStream())) {
            while (true) {
                int len = in.readUnsignedShort();
                byte[] f = new byte[len];
                in.readFully(f);
                synchronized (incoming) {
                    if (incoming.size() >= MAX_QUEUE) {
                        incoming.poll(); // a full receive ring drops the oldest
                    }
                    incoming.add(f);
                    readiness.readable(true);
                }
            }
        } catch (EOFException e) {
            lost("vde_plug ended (exit " + exitOf(p) + ")");
        } catch (IOException e) {
            lost(e.getMessage());
        }
    }

    private void send(Process p) {
        try (OutputStream out = p.getOutputStream()) {
            while (!gone) {
                byte[] f = outgoing.poll(200, TimeUnit.MILLISECONDS);
                if (f == null) {
                    continue;
                }
                byte[] frame = new byte[f.length + 2];
                frame[0] = (byte) (f.length >> 8);
                frame[1] = (byte) f.length;
                System.arraycopy(f, 0, frame, 2, f.length);
                out.write(frame);
                out.flush();
            }
        } catch (IOException | InterruptedException e) {
            lost("sending: " + e.getMessage());
        }
    }

    private void stderr(Process p) {
        try (InputStream err = p.getErrorStream()) {
            byte[] b = err.readAllBytes();
            if (b.length > 0) {
                LOG.info("umdevtap: vde_plug " + url + ": " + new String(b, StandardCharsets.UTF_8).strip());
            }
        } catch (IOException e) {
            // gone
        }
    }

    private void lost(String why) {
        if (!gone) {
            goneWhy = why;
            gone = true;
            synchronized (incoming) {
                readiness.readable(true); // readers wake up and get the error
            }
        }
    }

    private static String exitOf(Process p) {
        try {
            return p.waitFor(1, TimeUnit.SECONDS) ? Integer.toString(p.exitValue()) : "?";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "?";
        }
    }

    @Override
    public void close() {
        gone = true;
        goneWhy = "closed";
        if (plug != null) {
            plug.destroy(); // the vde_plug we started, by its handle
        }
        if (name != null) {
            driver.names.remove(name);
        }
    }

    private static String cname(byte[] b) {
        int n = 0;
        while (n < IFNAMSIZ && b[n] != 0) {
            n++;
        }
        return new String(b, 0, n, StandardCharsets.US_ASCII);
    }

    private static byte[] le4(int v) {
        return ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(v).array();
    }
}
