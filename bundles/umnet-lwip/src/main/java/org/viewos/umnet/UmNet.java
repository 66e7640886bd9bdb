package org.viewos.umnet;

import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.viewos.core.api.Errno;
import org.viewos.core.api.FileStat;
import org.viewos.core.api.FileSystem;
import org.viewos.core.api.FileSystemType;
import org.viewos.core.api.NativeAccess;
import org.viewos.core.api.NetworkStack;
import org.viewos.core.api.OpenFile;
import org.viewos.core.api.SocketFile;
import org.viewos.core.api.ViewModule;
import org.viewos.core.api.VirtualFile;

/**
 * umview's umnet: network stacks of the view, each a mount whose mount point names it
 * ({@code mstack /dev/net/lwip COMMAND} chooses one).
 * <ul>
 * <li>{@code viewmount -t umnetlwipv6 -o vd0=vde:///tmp/sw,addr=10.0.0.2/24,gw=10.0.0.1 none
 * /dev/net/lwip}: an LWIPv6 stack (liblwipv6) on VDE switches;</li>
 * <li>{@code viewmount -t umnetnull none /dev/net/null}: no network at all (EAFNOSUPPORT);</li>
 * <li>{@code viewmount -t umnetcurrent none /dev/net/host}: the host's own stack.</li>
 * </ul>
 */
@Component(service = {ViewModule.class, FileSystemType.class}, property = ViewModule.NAME_PROPERTY + "=umnet")
public final class UmNet implements ViewModule, FileSystemType {
    private final NativeAccess nativeAccess;
    private final Set<LwipStack> stacks = ConcurrentHashMap.newKeySet();
    private Lwip lwip;

    @Activate
    public UmNet(@Reference NativeAccess nativeAccess) {
        this.nativeAccess = nativeAccess;
    }

    @Override
    public String name() {
        return "umnet";
    }

    @Override
    public String description() {
        return "virtual network stacks: umnetlwipv6 (LWIPv6 on VDE), umnetnull, umnetcurrent (mstack chooses)";
    }

    @Override
    public boolean handles(String fstype) {
        return switch (fstype) {
            case "umnetlwipv6", "umnetnull", "umnetcurrent", "umnetnative" -> true;
            default -> false;
        };
    }

    @Override
    public boolean servesMountPoint() {
        return true;
    }

    private synchronized Lwip lwip() throws Errno {
        if (lwip == null) {
            lwip = new Lwip(nativeAccess);
        }
        return lwip;
    }

    /** Whether liblwipv6's semaphore use-after-free is guarded (the tests check it). */
    synchronized boolean lwipGuarded() {
        return lwip != null && lwip.guarded();
    }

    @Override
    public FileSystem mount(String source, String target, String fstype, Map<String, String> options) throws Errno {
        switch (fstype) {
            case "umnetlwipv6": {
                LwipStack s = LwipStack.create(lwip(), target, options);
                stacks.add(s);
                return new StackFs(s, () -> {
                    stacks.remove(s);
                    s.free();
                });
            }
            case "umnetnull":
                refuseOptions(fstype, options);
                return new StackFs(NULL, () -> { });
            case "umnetcurrent":
            case "umnetnative":
                refuseOptions(fstype, options);
                return new StackFs(HOST, () -> { });
            default:
                throw new Errno(Errno.ENODEV, fstype);
        }
    }

    private static void refuseOptions(String fstype, Map<String, String> options) throws Errno {
        for (String k : options.keySet()) {
            if (!k.equals("rw") && !k.equals("ro") && !k.equals("defaults")) {
                throw new Errno(Errno.EINVAL, fstype + " takes no option '" + k + "'");
            }
        }
    }

    /** Frees every stack still mounted (module removal). */
    @Deactivate
    public synchronized void deactivate() {
        for (LwipStack s : stacks) {
            s.free();
        }
        stacks.clear();
        if (lwip != null) {
            lwip.release();
            lwip = null;
        }
    }

    /** umnetnull: a stack where every socket() fails. */
    static final NetworkStack NULL = (domain, type, protocol) -> {
        throw new Errno(Errno.EAFNOSUPPORT, "umnetnull: no network");
    };

    /** umnetcurrent: the host's stack (the core leaves these sockets to the kernel). */
    static final NetworkStack HOST = new NetworkStack() {
        @Override
        public SocketFile socket(int domain, int type, int protocol) throws Errno {
            throw new Errno(Errno.EAFNOSUPPORT, "umnetcurrent: the host's stack serves this");
        }

        @Override
        public boolean serves(int domain) {
            return false;
        }
    };

    /** A stack mount: the mount point is a character device node naming the stack. */
    static final class StackFs implements FileSystem {
        private final NetworkStack stack;
        private final Runnable onUnmount;
        private final long created = System.currentTimeMillis() / 1000;

        StackFs(NetworkStack stack, Runnable onUnmount) {
            this.stack = stack;
            this.onUnmount = onUnmount;
        }

        @Override
        public NetworkStack networkStack() {
            return stack;
        }

        @Override
        public String hostPath(String relative, Access access) {
            return relative.isEmpty() ? VIRTUAL : null;
        }

        @Override
        public VirtualFile virtualFile(String relative) throws Errno {
            if (!relative.isEmpty()) {
                throw new Errno(Errno.ENOENT);
            }
            return new VirtualFile() {
                @Override
                public FileStat stat() {
                    return new FileStat(S_IFCHR | 0666, 0, 0, 0, 0, created);
                }

                @Override
                public OpenFile open(int flags) throws Errno {
                    throw new Errno(Errno.ENXIO, "a network stack is not opened: use mstack");
                }
            };
        }

        @Override
        public void unmount() {
            onUnmount.run();
        }
    }
}
