package org.viewos.core.internal;

import org.osgi.framework.BundleActivator;
import org.osgi.framework.BundleContext;
import org.viewos.core.internal.ffi.Native;

/**
 * Starts binding libc (jnr-ffi generates its stubs: ~120 ms) on a background thread as soon as the
 * bundle starts, so that it overlaps with the start of SCR and Gogo instead of delaying the view.
 */
public final class CoreActivator implements BundleActivator {
    @Override
    public void start(BundleContext context) {
        Thread t = new Thread(() -> Native.LIBC.getpid(), "viewos-jnr-warmup");
        t.setDaemon(true);
        t.start();
    }

    @Override
    public void stop(BundleContext context) {
    }
}
