package org.viewos.umdev;

import java.nio.ByteBuffer;
import java.util.Map;

import org.viewos.core.api.Errno;
import org.viewos.core.api.OpenFile;
import org.viewos.umdev.api.Device;
import org.viewos.umdev.api.DeviceDriver;

/** The character devices of umdev: null and zero. */
final class Drivers {
    private Drivers() {
    }

    static void noOptions(String driver, Map<String, String> options) throws Errno {
        if (!options.isEmpty()) {
            throw new Errno(Errno.EINVAL, "umdev" + driver + ": unknown option " + options.keySet().iterator().next());
        }
    }

    /**
     * umdevnull (reads give end of file, writes vanish: 1,3 like /dev/null) and umdevzero (reads
     * give zeros: 1,5 like /dev/zero).
     */
    record Char(String name, int major, int minor, boolean zeros) implements DeviceDriver {
        static Char nullDevice() {
            return new Char("null", 1, 3, false);
        }

        static Char zero() {
            return new Char("zero", 1, 5, true);
        }

        @Override
        public Device create(String source, Map<String, String> options, boolean readOnly) throws Errno {
            noOptions(name, options);
            return new CharDevice(major, minor, zeros);
        }
    }

    private record CharDevice(int major, int minor, boolean zeros) implements Device {
        @Override
        public boolean block() {
            return false;
        }

        @Override
        public long size(int unit) {
            return 0;
        }

        @Override
        public OpenFile open(int unit, int flags) {
            return new OpenFile() {
                @Override
                public int read(long position, ByteBuffer dst) {
                    if (!zeros) {
                        return 0;
                    }
                    int n = dst.remaining();
                    for (int i = 0; i < n; i++) {
                        dst.put((byte) 0);
                    }
                    return n;
                }

                @Override
                public int write(long position, ByteBuffer src) {
                    int n = src.remaining();
                    src.position(src.limit());
                    return n;
                }
            };
        }
    }
}
