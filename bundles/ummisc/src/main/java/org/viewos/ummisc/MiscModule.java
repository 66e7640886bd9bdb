package org.viewos.ummisc;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.viewos.core.api.Errno;
import org.viewos.core.api.FileSystem;
import org.viewos.core.api.FileSystemType;
import org.viewos.core.api.SyscallCall;
import org.viewos.core.api.SyscallHook;
import org.viewos.core.api.ViewModule;

/**
 * umview's ummisc: a view of its own for the host name and the clock.
 *
 * <ul>
 * <li>{@code viewmount -t ummiscuname none DIR}: files sysname, nodename, release, version, machine,
 * domainname; what they say is what uname(2) says in this view; sethostname(2) and
 * setdomainname(2) change them (virtually, also for non-root).
 * <li>{@code viewmount -t ummisctime none DIR}: files {@code offset} (seconds added to the real-time
 * clocks) and {@code frequency} (how fast the view's clock runs, 1 = real time, from the mount on).
 * clock_gettime, gettimeofday and time follow them; programs started after the mount make real
 * system calls for the clock (the core hides the vDSO from them), programs already running keep
 * reading the vDSO.
 * </ul>
 * The most recent mount of each kind wins.
 */
@Component(service = {ViewModule.class, FileSystemType.class, SyscallHook.class}, property = {
        ViewModule.NAME_PROPERTY + "=ummisc", FileSystemType.DIRECT_PROPERTY + "=true",
        SyscallHook.SYSCALLS_PROPERTY + "=uname", SyscallHook.SYSCALLS_PROPERTY + "=sethostname",
        SyscallHook.SYSCALLS_PROPERTY + "=setdomainname", SyscallHook.SYSCALLS_PROPERTY + "=clock_gettime",
        SyscallHook.SYSCALLS_PROPERTY + "=gettimeofday", SyscallHook.SYSCALLS_PROPERTY + "=time"})
public final class MiscModule implements ViewModule, FileSystemType, SyscallHook {
    static final String[] UTS_FIELDS = {"sysname", "nodename", "release", "version", "machine", "domainname"};
    private static final int UTS_LEN = 65;
    private static final int CLOCK_REALTIME = 0, CLOCK_REALTIME_COARSE = 5, CLOCK_TAI = 11;

    private final List<MiscFiles> unames = new CopyOnWriteArrayList<>();
    private final List<TimeMount> times = new CopyOnWriteArrayList<>();

    /** A time mount: its files and the real time it was made (the origin of frequency scaling). */
    private record TimeMount(MiscFiles files, long originNanos) {
    }

    @Override
    public String name() {
        return "ummisc";
    }

    @Override
    public String description() {
        return "misc: uname and time of the view (ummiscuname, ummisctime)";
    }

    @Override
    public boolean handles(String fstype) {
        return fstype.equals("ummiscuname") || fstype.equals("ummisctime");
    }

    @Override
    public FileSystem mount(String source, String target, String fstype, Map<String, String> options) throws Errno {
        for (String o : options.keySet()) {
            if (!o.equals("ro") && !o.equals("rw")) {
                throw new Errno(Errno.EINVAL, "unknown option " + o + " for " + fstype);
            }
        }
        if (fstype.equals("ummiscuname")) {
            Map<String, String> init = new LinkedHashMap<>();
            MiscFiles current = latestUname();
            String[] host = hostUname();
            for (int i = 0; i < UTS_FIELDS.length; i++) {
                init.put(UTS_FIELDS[i], current != null ? current.get(UTS_FIELDS[i]) : host[i]);
            }
            MiscFiles f = new MiscFiles("uname", init);
            unames.add(f);
            return new Unmounting(f, () -> unames.remove(f));
        }
        MiscFiles f = new MiscFiles("time", Map.of("offset", "0", "frequency", "1"));
        TimeMount m = new TimeMount(f, realNanos());
        times.add(m);
        return new Unmounting(f, () -> times.remove(m));
    }

    /** A mount's files that also forget the mount when it goes. */
    private record Unmounting(MiscFiles files, Runnable gone) implements FileSystem {
        @Override
        public String hostPath(String relative, Access access) throws Errno {
            return files.hostPath(relative, access);
        }

        @Override
        public String relativeOf(String hostPath) {
            return files.relativeOf(hostPath);
        }

        @Override
        public void unmount() {
            gone.run();
            files.unmount();
        }
    }

    @Deactivate
    void deactivate() {
        for (MiscFiles f : unames) {
            f.unmount();
        }
        for (TimeMount t : times) {
            t.files().unmount();
        }
        unames.clear();
        times.clear();
    }

    private MiscFiles latestUname() {
        return unames.isEmpty() ? null : unames.get(unames.size() - 1);
    }

    private TimeMount latestTime() {
        return times.isEmpty() ? null : times.get(times.size() - 1);
    }

    // ---- the hook -----------------------------------------------------------------------------

    @Override
    public long enter(SyscallCall call) throws Errno {
        switch (call.name()) {
            case "uname" -> {
                MiscFiles u = latestUname();
                if (u == null) {
                    return PASS;
                }
                long buf = call.arg(0);
                call.atExit((c, r) -> {
                    if (r == 0) {
                        byte[] uts = new byte[UTS_FIELDS.length * UTS_LEN];
                        for (int i = 0; i < UTS_FIELDS.length; i++) {
                            byte[] v = u.get(UTS_FIELDS[i]).getBytes(StandardCharsets.UTF_8);
                            System.arraycopy(v, 0, uts, i * UTS_LEN, Math.min(v.length, UTS_LEN - 1));
                        }
                        c.write(buf, uts);
                    }
                    return r;
                });
                return PASS;
            }
            case "sethostname", "setdomainname" -> {
                MiscFiles u = latestUname();
                if (u == null) {
                    return PASS;
                }
                long len = call.arg(1);
                if (len < 0 || len > UTS_LEN - 1) {
                    throw new Errno(Errno.EINVAL);
                }
                String v = new String(call.read(call.arg(0), (int) len), StandardCharsets.UTF_8);
                int nul = v.indexOf('\0');
                u.set(call.name().equals("sethostname") ? "nodename" : "domainname", nul >= 0 ? v.substring(0, nul) : v);
                return 0;
            }
            case "clock_gettime" -> {
                Clock clock = clock();
                int id = (int) call.arg(0);
                if (clock == null || (id != CLOCK_REALTIME && id != CLOCK_REALTIME_COARSE && id != CLOCK_TAI)) {
                    return PASS;
                }
                long ts = call.arg(1);
                call.atExit((c, r) -> {
                    if (r == 0) {
                        ByteBuffer b = ByteBuffer.wrap(c.read(ts, 16)).order(ByteOrder.LITTLE_ENDIAN);
                        long ns = clock.shift(b.getLong(0) * 1_000_000_000L + b.getLong(8));
                        b.putLong(0, Math.floorDiv(ns, 1_000_000_000L)).putLong(8, Math.floorMod(ns, 1_000_000_000L));
                        c.write(ts, b.array());
                    }
                    return r;
                });
                return PASS;
            }
            case "gettimeofday" -> {
                Clock clock = clock();
                long tv = call.arg(0);
                if (clock == null || tv == 0) {
                    return PASS;
                }
                call.atExit((c, r) -> {
                    if (r == 0) {
                        ByteBuffer b = ByteBuffer.wrap(c.read(tv, 16)).order(ByteOrder.LITTLE_ENDIAN);
                        long ns = clock.shift(b.getLong(0) * 1_000_000_000L + b.getLong(8) * 1000);
                        b.putLong(0, Math.floorDiv(ns, 1_000_000_000L)).putLong(8, Math.floorMod(ns, 1_000_000_000L) / 1000);
                        c.write(tv, b.array());
                    }
                    return r;
                });
                return PASS;
            }
            case "time" -> {
                Clock clock = clock();
                if (clock == null) {
                    return PASS;
                }
                long tloc = call.arg(0);
                call.atExit((c, r) -> {
                    if (r < 0) {
                        return r;
                    }
                    long s = Math.floorDiv(clock.shift(r * 1_000_000_000L), 1_000_000_000L);
                    if (tloc != 0) {
                        c.write(tloc, ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, s).array());
                    }
                    return s;
                });
                return PASS;
            }
            default -> {
                return PASS;
            }
        }
    }

    @Override
    public boolean needsSyscallsForTime() {
        return clock() != null;
    }

    /** The view's clock: virtual = origin + (real - origin) * frequency + offset. */
    private record Clock(long originNanos, double frequency, long offsetNanos) {
        long shift(long realNanos) {
            long scaled = frequency == 1.0 ? realNanos
                    : originNanos + (long) ((realNanos - originNanos) * frequency);
            return scaled + offsetNanos;
        }
    }

    /** The clock of the latest time mount, or null when it runs as the real one. */
    private Clock clock() {
        TimeMount t = latestTime();
        if (t == null) {
            return null;
        }
        double offset = parse(t.files().get("offset"), 0);
        double freq = parse(t.files().get("frequency"), 1);
        if (offset == 0 && freq == 1) {
            return null;
        }
        return new Clock(t.originNanos(), freq, (long) (offset * 1e9));
    }

    private static double parse(String s, double dflt) {
        try {
            double d = Double.parseDouble(s.strip());
            return Double.isFinite(d) ? d : dflt;
        } catch (NumberFormatException e) {
            return dflt;
        }
    }

    private static long realNanos() {
        java.time.Instant now = java.time.Instant.now();
        return now.getEpochSecond() * 1_000_000_000L + now.getNano();
    }

    /** The daemon's own uname fields (the host's), in UTS_FIELDS order. */
    private static String[] hostUname() {
        String[] v = new String[UTS_FIELDS.length];
        String[] files = {"ostype", "hostname", "osrelease", "version", null, "domainname"};
        for (int i = 0; i < v.length; i++) {
            if (files[i] == null) {
                v[i] = System.getProperty("os.arch").equals("amd64") ? "x86_64" : System.getProperty("os.arch");
                continue;
            }
            try {
                v[i] = java.nio.file.Files.readString(java.nio.file.Path.of("/proc/sys/kernel", files[i])).strip();
            } catch (java.io.IOException e) {
                v[i] = "";
            }
        }
        return v;
    }
}
