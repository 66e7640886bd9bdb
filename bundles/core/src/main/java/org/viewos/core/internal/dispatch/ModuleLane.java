package org.viewos.core.internal.dispatch;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.viewos.core.api.Errno;
import org.viewos.core.api.FileSystem;
import org.viewos.core.api.NetworkStack;
import org.viewos.core.api.OpenFile;
import org.viewos.core.api.SocketFile;
import org.viewos.core.api.VirtualFile;
import org.viewos.core.internal.trace.Tracer;

/**
 * The thread of one mount of a module that may keep a caller waiting (a FUSE daemon's answer, a
 * module bug): its calls run there, one at a time and in order, while the tracer thread serves the
 * view's other processes ({@link Tracer#await}). A call that the watchdog gives up on leaves its
 * thread behind; the next call gets a fresh one.
 *
 * <p>{@link #wrap} puts a mount's {@link FileSystem} behind the lane: every object of the module
 * API it hands out (virtual files, open files, sockets, stacks) is wrapped the same way, so no call
 * of the core into that module runs on the tracer thread. Calls from other threads (the Gogo shell,
 * shutdown) run directly, as before.
 */
public final class ModuleLane {
    private static final AtomicInteger COUNT = new AtomicInteger();
    /** Wrapped: these API types. Everything else a module returns (records, strings) goes as it is. */
    private static final List<Class<?>> API = List.of(FileSystem.class, VirtualFile.class, SocketFile.class,
            OpenFile.class, NetworkStack.class);
    /** Answers a module gives at once, from memory: asked directly. */
    private static final Set<String> PROMPT = Set.of("relativeOf", "subdevices", "networkStack", "serves", "size", "watch",
            "backing", "toString");

    private final String name;
    private ThreadPoolExecutor executor;
    /** Calls submitted and not yet answered (cancelled when the module goes). */
    private final Set<Future<?>> inflight = java.util.concurrent.ConcurrentHashMap.newKeySet();
    private volatile boolean removed;

    public ModuleLane(String name) {
        this.name = name + "-" + COUNT.incrementAndGet();
        this.executor = newExecutor();
    }

    private ThreadPoolExecutor newExecutor() {
        ThreadPoolExecutor e = new ThreadPoolExecutor(1, 1, 30, TimeUnit.SECONDS, new LinkedBlockingQueue<>(), r -> {
            Thread t = new Thread(r, "viewos-module-" + name);
            t.setDaemon(true);
            return t;
        });
        e.allowCoreThreadTimeOut(true);
        return e;
    }

    /** A call the module makes for the code that needs it: any of its exceptions. */
    @FunctionalInterface
    public interface Call<T> {
        T call() throws Exception;
    }

    /**
     * Runs {@code call} on the lane and waits for it, serving the view meanwhile (on a tracer thread);
     * elsewhere runs it directly.
     */
    public <T> T call(Call<T> call) throws Errno {
        Tracer tracer = Tracer.current();
        if (tracer == null) {
            try {
                return call.call();
            } catch (Errno | RuntimeException e) {
                throw e;
            } catch (Exception e) {
                throw new Errno(Errno.EIO, "module call failed: " + e);
            }
        }
        Future<T> f;
        try {
            synchronized (this) {
                f = executor.submit((Callable<T>) call::call);
            }
        } catch (java.util.concurrent.RejectedExecutionException e) {
            throw new Errno(Errno.ENODEV, "the mount is gone");
        }
        inflight.add(f);
        try {
            return tracer.await(f);
        } catch (Errno e) {
            if (removed) {
                throw new Errno(Errno.EIO, "the module was removed during the call");
            }
            if (!f.isDone() || f.isCancelled()) {
                abandon(); // the module still has that thread: later calls get another one
            }
            throw e;
        } finally {
            inflight.remove(f);
        }
    }

    /** Runs {@code call} on the lane without waiting for it (a close: nobody needs its answer). */
    public void post(Runnable call) {
        try {
            synchronized (this) {
                executor.execute(call);
            }
        } catch (java.util.concurrent.RejectedExecutionException e) {
            call.run(); // the lane is closed: what is left to close is closed here
        }
    }

    private synchronized void abandon() {
        executor.shutdown(); // what is queued still runs there, in order
        executor = newExecutor();
    }

    /** Ends the lane's thread once what is queued has run (the mount is gone). */
    public synchronized void close() {
        executor.shutdown();
    }

    /** The module went away: the calls waiting for it fail with EIO now, its thread is interrupted. */
    public void abort() {
        removed = true;
        for (Future<?> f : inflight) {
            f.cancel(true);
        }
        synchronized (this) {
            executor.shutdownNow();
        }
    }

    /** {@code fs} with every call going through this lane. */
    public FileSystem wrap(FileSystem fs) {
        return (FileSystem) proxy(fs);
    }

    private Object proxy(Object target) {
        List<Class<?>> types = new ArrayList<>();
        for (Class<?> c : API) {
            if (c.isInstance(target)) {
                types.add(c);
            }
        }
        if (types.isEmpty() || Proxy.isProxyClass(target.getClass())) {
            return target;
        }
        InvocationHandler h = (proxy, method, args) -> invoke(proxy, target, method, args);
        return Proxy.newProxyInstance(ModuleLane.class.getClassLoader(), types.toArray(new Class<?>[0]), h);
    }

    private Object invoke(Object proxy, Object target, Method method, Object[] args) throws Throwable {
        String m = method.getName();
        if (m.equals("equals") && args != null && args.length == 1) {
            return proxy == args[0]; // the core keys maps by these objects: identity
        }
        if (m.equals("hashCode") && args == null) {
            return System.identityHashCode(proxy);
        }
        if (m.equals("close") && args == null) {
            post(() -> {
                try {
                    method.invoke(target);
                } catch (ReflectiveOperationException | RuntimeException e) {
                    java.util.logging.Logger.getLogger(ModuleLane.class.getName())
                            .warning("viewos: module close failed (" + name + "): " + e);
                }
            });
            return null;
        }
        Object result = PROMPT.contains(m) ? direct(target, method, args) : call(() -> direct(target, method, args));
        return result == null ? null : proxy(result);
    }

    private static Object direct(Object target, Method method, Object[] args) throws Exception {
        try {
            return method.invoke(target, args);
        } catch (InvocationTargetException e) {
            Throwable c = e.getCause();
            if (c instanceof Exception ex) {
                throw ex;
            }
            throw (Error) c;
        }
    }
}
