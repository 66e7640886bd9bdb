package org.viewos.umdevtap;

import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.viewos.core.api.Errno;
import org.viewos.core.api.OpenFile;
import org.viewos.umdev.api.Device;
import org.viewos.umdev.api.DeviceDriver;

/**
 * umdevtap: a virtual {@code /dev/net/tun} whose TAP interfaces are plugged into a VDE network.
 * {@code viewmount -t umdevtap URL /dev/net/tun} (any libvdeplug URL: vde:///path, vxvde://,
 * slirp://); each TUNSETIFF(IFF_TAP) starts the real {@code vde_plug URL}, which carries the
 * frames (2-byte big-endian length, then the frame, on its stdin and stdout).
 */
@Component(service = DeviceDriver.class)
public final class TapDriver implements DeviceDriver {
    /** Processes are started from this thread, never from the tracer's (it would reap them). */
    private final ExecutorService spawner = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "umdevtap-spawner");
        t.setDaemon(true);
        return t;
    });
    /** Interface names in use by open taps (of every mount of this driver). */
    final Set<String> names = ConcurrentHashMap.newKeySet();

    @Override
    public String name() {
        return "tap";
    }

    @Override
    public String description() {
        return "umdevtap: /dev/net/tun TAP interfaces on a VDE switch (needs umdev)";
    }

    @Override
    public Device create(String source, Map<String, String> options, boolean readOnly) throws Errno {
        if (!options.isEmpty()) {
            throw new Errno(Errno.EINVAL, "umdevtap: unknown option " + options.keySet().iterator().next());
        }
        if (!source.contains("://")) {
            throw new Errno(Errno.EINVAL, "umdevtap: the source is a VDE URL (vde:///path/to/switch, vxvde://, slirp://), not '" + source + "'");
        }
        String url = source;
        return new Device() {
            @Override
            public boolean block() {
                return false;
            }

            @Override
            public int major() {
                return 10; // misc, as Linux's /dev/net/tun
            }

            @Override
            public int minor() {
                return 200;
            }

            @Override
            public long size(int unit) {
                return 0;
            }

            @Override
            public OpenFile open(int unit, int flags) {
                return new TapFile(TapDriver.this, url);
            }
        };
    }

    ExecutorService spawner() {
        return spawner;
    }

    @Deactivate
    void deactivate() {
        spawner.shutdownNow();
    }
}
