package org.viewos.launcher;

import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.util.Collection;

import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceReference;

/**
 * Asks SCR (ServiceComponentRuntime, by reflection: the launcher's class path has no DS API) why the
 * core's components are not up. Used only while waiting for the SyscallService.
 */
final class ScrDiagnostics {
    private static final String SCR = "org.osgi.service.component.runtime.ServiceComponentRuntime";
    private static final int UNSATISFIED_REFERENCE = 2;
    private static final int FAILED_ACTIVATION = 16;

    private ScrDiagnostics() {
    }

    /** A reason the core cannot provide its service, or null while it may still come. */
    static String failure(BundleContext ctx, Bundle core) {
        ServiceReference<?> ref = ctx.getServiceReference(SCR);
        if (ref == null) {
            return null;
        }
        Object scr = ctx.getService(ref);
        if (scr == null) {
            return null;
        }
        try {
            Class<?> api = ref.getBundle().loadClass(SCR);
            Method descs = api.getMethod("getComponentDescriptionDTOs", Bundle[].class);
            Collection<?> ds = (Collection<?>) descs.invoke(scr, (Object) new Bundle[] {core});
            StringBuilder sb = new StringBuilder();
            for (Object d : ds) {
                Method configs = api.getMethod("getComponentConfigurationDTOs", d.getClass());
                Collection<?> cs = (Collection<?>) configs.invoke(scr, d);
                String name = (String) field(d, "name");
                for (Object c : cs) {
                    int state = ((Number) field(c, "state")).intValue();
                    if (state == FAILED_ACTIVATION) {
                        Object why = field(c, "failure");
                        sb.append(sb.length() == 0 ? "" : "; ").append("component ").append(name)
                                .append(" failed to activate: ").append(why);
                    }
                }
            }
            return sb.length() == 0 ? null : sb.toString();
        } catch (ReflectiveOperationException | RuntimeException e) {
            return null;
        } finally {
            ctx.ungetService(ref);
        }
    }

    /** Components of the core waiting for a reference, for the timeout message. */
    static String unsatisfied(BundleContext ctx, Bundle core) {
        ServiceReference<?> ref = ctx.getServiceReference(SCR);
        if (ref == null) {
            return "SCR is not running";
        }
        Object scr = ctx.getService(ref);
        try {
            Class<?> api = ref.getBundle().loadClass(SCR);
            Method descs = api.getMethod("getComponentDescriptionDTOs", Bundle[].class);
            Collection<?> ds = (Collection<?>) descs.invoke(scr, (Object) new Bundle[] {core});
            StringBuilder sb = new StringBuilder();
            for (Object d : ds) {
                Method configs = api.getMethod("getComponentConfigurationDTOs", d.getClass());
                Collection<?> cs = (Collection<?>) configs.invoke(scr, d);
                String name = (String) field(d, "name");
                if (cs.isEmpty()) {
                    sb.append(sb.length() == 0 ? "" : "; ").append("component ").append(name).append(" not enabled");
                }
                for (Object c : cs) {
                    int state = ((Number) field(c, "state")).intValue();
                    if (state == UNSATISFIED_REFERENCE) {
                        StringBuilder refs = new StringBuilder();
                        Object[] unsat = (Object[]) field(c, "unsatisfiedReferences");
                        for (Object u : unsat == null ? new Object[0] : unsat) {
                            refs.append(refs.length() == 0 ? "" : ", ").append(field(u, "name"));
                        }
                        sb.append(sb.length() == 0 ? "" : "; ").append("component ").append(name)
                                .append(" waits for ").append(refs);
                    }
                }
            }
            return sb.length() == 0 ? null : sb.toString();
        } catch (ReflectiveOperationException | RuntimeException e) {
            return null;
        } finally {
            ctx.ungetService(ref);
        }
    }

    private static Object field(Object o, String name) throws ReflectiveOperationException {
        Field f = o.getClass().getField(name);
        return f.get(o);
    }
}
