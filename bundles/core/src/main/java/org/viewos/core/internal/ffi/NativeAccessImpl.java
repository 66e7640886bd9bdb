package org.viewos.core.internal.ffi;

import java.util.function.LongConsumer;
import java.util.logging.Level;
import java.util.logging.Logger;

import org.osgi.service.component.annotations.Component;
import org.viewos.core.api.Errno;
import org.viewos.core.api.NativeAccess;

import com.kenai.jffi.CallContext;
import com.kenai.jffi.CallingConvention;
import com.kenai.jffi.Closure;
import com.kenai.jffi.ClosureManager;
import com.kenai.jffi.Invoker;
import com.kenai.jffi.LastError;
import com.kenai.jffi.Library;
import com.kenai.jffi.MemoryIO;
import com.kenai.jffi.Type;

/** {@link NativeAccess} on jffi (the library under jnr-ffi, embedded in the core). */
@Component(service = NativeAccess.class)
public final class NativeAccessImpl implements NativeAccess {
    private static final Logger LOG = Logger.getLogger(NativeAccessImpl.class.getName());
    private static final CallContext[] CONTEXTS = new CallContext[7];
    private static final CallContext CALLBACK = CallContext.getCallContext(Type.VOID, new Type[] {Type.POINTER},
            CallingConvention.DEFAULT, false);

    static {
        Native.LIBC.getpid(); // jnr's runtime (and jffi's native stub) first, as the core loads them
        for (int n = 0; n <= 6; n++) {
            Type[] p = new Type[n];
            java.util.Arrays.fill(p, Type.SINT64);
            CONTEXTS[n] = CallContext.getCallContext(Type.SINT64, p, CallingConvention.DEFAULT, true);
        }
    }

    @Override
    public NativeLibrary open(String path) throws Errno {
        Library lib = Library.getCachedInstance(path, Library.LAZY | Library.GLOBAL);
        if (lib == null) {
            throw new Errno(Errno.ENOENT, "cannot load " + path + ": " + Library.getLastError());
        }
        return name -> {
            long a = lib.getSymbolAddress(name);
            if (a == 0) {
                throw new Errno(Errno.ENOENT, path + " has no " + name);
            }
            return a;
        };
    }

    @Override
    public long call(long f, long... a) {
        Invoker i = Invoker.getInstance();
        return switch (a.length) {
            case 0 -> i.invokeN0(CONTEXTS[0], f);
            case 1 -> i.invokeN1(CONTEXTS[1], f, a[0]);
            case 2 -> i.invokeN2(CONTEXTS[2], f, a[0], a[1]);
            case 3 -> i.invokeN3(CONTEXTS[3], f, a[0], a[1], a[2]);
            case 4 -> i.invokeN4(CONTEXTS[4], f, a[0], a[1], a[2], a[3]);
            case 5 -> i.invokeN5(CONTEXTS[5], f, a[0], a[1], a[2], a[3], a[4]);
            case 6 -> i.invokeN6(CONTEXTS[6], f, a[0], a[1], a[2], a[3], a[4], a[5]);
            default -> throw new IllegalArgumentException("at most 6 arguments");
        };
    }

    @Override
    public int errno() {
        return LastError.getInstance().get();
    }

    @Override
    public long malloc(long size) {
        return MemoryIO.getInstance().allocateMemory(size, true);
    }

    @Override
    public void free(long address) {
        if (address != 0) {
            MemoryIO.getInstance().freeMemory(address);
        }
    }

    @Override
    public byte[] read(long address, int length) {
        byte[] b = new byte[length];
        MemoryIO.getInstance().getByteArray(address, b, 0, length);
        return b;
    }

    @Override
    public void write(long address, byte[] data) {
        MemoryIO.getInstance().putByteArray(address, data, 0, data.length);
    }

    @Override
    public Callback callback(LongConsumer cb) {
        Closure c = buffer -> {
            try {
                cb.accept(buffer.getAddress(0));
            } catch (RuntimeException | Error e) {
                LOG.log(Level.WARNING, "viewos: native callback failed", e);
            }
        };
        Closure.Handle h = ClosureManager.getInstance().newClosure(c, CALLBACK);
        return new Callback() {
            @Override
            public long address() {
                return h.getAddress();
            }

            @Override
            public void release() {
                h.dispose();
            }
        };
    }
}
