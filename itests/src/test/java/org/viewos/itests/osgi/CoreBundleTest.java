package org.viewos.itests.osgi;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;
import static org.ops4j.pax.exam.CoreOptions.bootDelegationPackages;
import static org.ops4j.pax.exam.CoreOptions.bundle;
import static org.ops4j.pax.exam.CoreOptions.cleanCaches;
import static org.ops4j.pax.exam.CoreOptions.frameworkProperty;
import static org.ops4j.pax.exam.CoreOptions.junitBundles;
import static org.ops4j.pax.exam.CoreOptions.mavenBundle;
import static org.ops4j.pax.exam.CoreOptions.options;
import static org.ops4j.pax.exam.CoreOptions.systemPackages;
import static org.ops4j.pax.exam.CoreOptions.systemProperty;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import java.io.InputStream;

import javax.inject.Inject;

import org.apache.felix.service.command.CommandProcessor;
import org.apache.felix.service.command.CommandSession;

import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.Configuration;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.util.tracker.ServiceTracker;
import org.viewos.core.api.ModuleInfo;
import org.viewos.core.api.SyscallService;

/**
 * The core bundle in a real Felix (Pax Exam, native container): SCR + OSGi util + Gogo, as the
 * distribution runs it, our bundles straight from the reactor's target/ directories.
 *
 * <p>Every traced command gets its own stdio files: a child writing to this JVM's fd 1 would corrupt
 * Surefire's fork channel.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class CoreBundleTest {
    private static final long TIMEOUT_MS = 10_000;

    @Inject
    private BundleContext context;

    @Configuration
    public Option[] config() {
        String bundles = System.getProperty("viewos.bundles", "../bundles");
        String version = System.getProperty("viewos.version", "0.1.0-SNAPSHOT");
        return options(
                // what jnr (embedded in the core) needs, as in the launcher
                systemPackages("sun.misc", "sun.nio.ch", "jdk.net"),
                bootDelegationPackages("sun.*", "com.sun.*"),
                systemProperty("jnr.ffi.x86asm.enabled").value("false"),
                systemProperty("viewos.moduleTimeoutMs").value("2000"), // the watchdog test's hang
                frameworkProperty("viewos.inheritfds").value(""),
                frameworkProperty("viewos.home").value(System.getProperty("viewos.home", "")),
                mavenBundle("org.osgi", "org.osgi.util.function").versionAsInProject(),
                mavenBundle("org.osgi", "org.osgi.util.promise").versionAsInProject(),
                mavenBundle("org.osgi", "org.osgi.service.component").versionAsInProject(),
                mavenBundle("org.apache.felix", "org.apache.felix.scr").versionAsInProject(),
                mavenBundle("org.apache.felix", "org.apache.felix.gogo.runtime").versionAsInProject(),
                mavenBundle("org.apache.felix", "org.apache.felix.gogo.command").versionAsInProject(),
                bundle(new File(bundles, "core/target/org.viewos.core-" + version + ".jar").toURI().toString()),
                junitBundles(),
                cleanCaches(true));
    }

    // ------------------------------------------------------------------ (a)

    @Test
    public void syscallServiceAppears() throws Exception {
        SyscallService s = service();
        assertNotNull(s);
        assertNotNull(s.viewName());
        assertNotNull(s.modules());
        assertNotNull(mounts(s));
    }

    // ------------------------------------------------------------------ (b)

    @Test
    public void runsACommandWithItsOwnStdio() throws Exception {
        SyscallService s = service();
        Path dir = workDir("run");
        Path out = dir.resolve("OUT");
        Result r = run(s, dir, "echo hi > " + sh(out) + "; echo to-stdout; echo to-stderr >&2");
        assertEquals("exit status; stderr: " + r.err, 0, r.status);
        assertEquals("hi\n", Files.readString(out));
        assertEquals("to-stdout\n", r.out);
        assertEquals("to-stderr\n", r.err);
    }

    @Test
    public void exitStatusAndSignals() throws Exception {
        SyscallService s = service();
        Path dir = workDir("status");
        assertEquals(3, run(s, dir, "exit 3").status);
        assertEquals(128 + 15, run(s, dir, "kill -TERM $$").status);
        // children are traced too and the view ends with its last process
        Path out = dir.resolve("child");
        assertEquals(0, run(s, dir, "(sleep 0.2; echo child > " + sh(out) + ") & wait").status);
        assertEquals("child\n", Files.readString(out));
    }

    // ------------------------------------------------------------------ (c)

    @Test
    public void unrealModuleMountsHostTreeAtUnreal() throws Exception {
        SyscallService s = service();
        String bundles = System.getProperty("viewos.bundles", "../bundles");
        String version = System.getProperty("viewos.version", "0.1.0-SNAPSHOT");
        File jar = new File(bundles, "unreal/target/org.viewos.unreal-" + version + ".jar");
        Bundle unreal = context.installBundle(jar.toURI().toString());
        try {
            unreal.start();
            long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(TIMEOUT_MS);
            while (names(s.modules()).indexOf("unreal") < 0 && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertTrue("modules() lists unreal: " + names(s.modules()), names(s.modules()).contains("unreal"));
            assertTrue("unreal mounted at /unreal: " + mounts(s), mounts(s).contains("/unreal"));

            Path host = Path.of("/etc/hostname");
            if (!Files.isRegularFile(host)) {
                host = Path.of("/etc/passwd");
            }
            Path dir = workDir("unreal");
            Path out = dir.resolve("OUT");
            Result r = run(s, dir, "cat /unreal" + host + " > " + sh(out));
            assertEquals("exit status; stderr: " + r.err, 0, r.status);
            assertEquals(Files.readString(host), Files.readString(out));

            // a directory listing through the module equals the host's
            Path ls = dir.resolve("LS");
            r = run(s, dir, "ls -a /unreal/etc > " + sh(ls) + " && ls -a /etc > " + sh(dir.resolve("LS2")));
            assertEquals("exit status; stderr: " + r.err, 0, r.status);
            assertEquals(Files.readString(dir.resolve("LS2")), Files.readString(ls));
        } finally {
            unreal.uninstall();
        }
    }

    // ------------------------------------------------------------------ (d) Gogo, (e) hot swap

    /** The um:* Gogo commands, called through the CommandProcessor as a remote shell does. */
    @Test
    public void gogoCommandsManageModules() throws Exception {
        service();
        ServiceTracker<CommandProcessor, CommandProcessor> t = new ServiceTracker<>(context, CommandProcessor.class, null);
        t.open();
        CommandProcessor cp = t.waitForService(TIMEOUT_MS);
        assertNotNull("Gogo CommandProcessor", cp);
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        java.io.PrintStream out = new java.io.PrintStream(bytes, true);
        CommandSession session = cp.createSession(InputStream.nullInputStream(), out, out);
        try {
            assertEquals("added unreal", String.valueOf(session.execute("um:add_service unreal")));
            String ls = String.valueOf(session.execute("um:ls_service"));
            assertTrue(ls, ls.startsWith("unreal: "));
            assertTrue(String.valueOf(session.execute("um:mounts")).contains("/ on /unreal type unreal"));
            try {
                session.execute("um:add_service unreal");
                fail("a second um:add_service unreal must fail with EEXIST");
            } catch (Exception e) {
                assertTrue(e.toString(), e.toString().contains("EEXIST"));
            }
            // a module is a bundle: the ordinary Felix commands see it
            String lb = String.valueOf(session.execute("lb -s"));
            assertTrue(lb, lb.contains("org.viewos.unreal"));
            assertEquals("removed unreal", String.valueOf(session.execute("um:del_service unreal")));
            assertEquals("", String.valueOf(session.execute("um:ls_service")));
        } finally {
            session.close();
            t.close();
        }
    }

    /**
     * A traced loop keeps reading through the module while the module is added, removed, re-added
     * and updated (bundle update) underneath it: the loop never crashes and sees only right answers
     * (the host's file, or ENOENT while the module is away).
     */
    @Test
    public void moduleSwappedUnderARunningProcess() throws Exception {
        SyscallService s = service();
        Path host = Path.of("/etc/hostname");
        Path dir = workDir("swap");
        Path expected = dir.resolve("expected");
        Files.copy(host, expected);
        String script = "i=0; while [ $i -lt 400 ]; do "
                + "if cat /unreal/etc/hostname > got 2>/dev/null; then "
                + "  if cmp -s got " + sh(expected) + "; then printf U; else printf X; fi; "
                + "else printf -; fi; i=$((i+1)); done; echo END";
        Result[] result = {null};
        Throwable[] failure = {null};
        Thread traced = new Thread(() -> {
            try {
                result[0] = run(s, dir, script);
            } catch (Throwable e) {
                failure[0] = e;
            }
        });
        traced.start();
        int swaps = 0;
        while (traced.isAlive() && swaps < 12) {
            s.addModule("unreal", false);
            Thread.sleep(30);
            if (swaps % 3 == 2) {
                for (Bundle b : context.getBundles()) {
                    if ("org.viewos.unreal".equals(b.getSymbolicName())) {
                        b.update(); // a new revision of the module, as Gogo's update does
                    }
                }
                Thread.sleep(30);
            }
            s.removeModule("unreal");
            Thread.sleep(30);
            swaps++;
        }
        traced.join(60_000);
        assertTrue("the traced loop ended", !traced.isAlive());
        if (failure[0] != null) {
            throw new AssertionError(failure[0]);
        }
        String out = result[0].out;
        assertEquals("exit status; stderr: " + result[0].err, 0, result[0].status);
        assertTrue("loop finished: " + out, out.endsWith("END\n"));
        assertTrue("no wrong content ever: " + out, !out.contains("X"));
        assertTrue("saw the module (U) and its absence (-) during " + swaps + " swaps: " + out,
                out.contains("U") && out.contains("-"));
    }

    /**
     * A module that hangs in a call: the caller gets EINTR as soon as it has a signal to take (the
     * user's Ctrl-C, here timeout's SIGINT), else EIO after the module timeout (2 s here); the
     * daemon goes on and serves the next call.
     */
    @Test
    public void aHangingModuleCostsOneCallNotTheView() throws Exception {
        SyscallService s = service();
        Path dir = workDir("hang");
        java.util.concurrent.atomic.AtomicInteger calls = new java.util.concurrent.atomic.AtomicInteger();
        var reg = registerHangingModule(calls);
        try {
            s.mount("none", "/hang", "hangfs", "");
            long t0 = System.nanoTime();
            Result r = run(s, dir, "timeout -s INT 1 cat /hang/x; echo \"signal=$?\"; "
                    + "cat /hang/y 2>&1 | sed 's/^.*: //'; "
                    + "cat /hang/ok-file >/dev/null && echo after=ok");
            long ms = (System.nanoTime() - t0) / 1_000_000;
            assertEquals("stderr: " + r.err + " stdout: " + r.out, 0, r.status);
            // timeout reports 124 when it had to signal; cat got EINTR and died of SIGINT
            assertEquals("signal=124\nInput/output error\nafter=ok\n", r.out);
            assertEquals(2, calls.get());
            assertTrue("the hang cost about a second plus the 2 s timeout, not 60 s: " + ms + " ms", ms < 30_000);
        } finally {
            s.umount("/hang");
            reg.unregister();
        }
    }

    /**
     * While one process of the view waits for a module that does not answer, the others go on:
     * a process started after the hang began runs programs and finishes before the hang ends.
     */
    @Test
    public void aHangingModuleKeepsOnlyItsCallerWaiting() throws Exception {
        SyscallService s = service();
        Path dir = workDir("hang-others");
        java.util.concurrent.atomic.AtomicInteger calls = new java.util.concurrent.atomic.AtomicInteger();
        var reg = registerHangingModule(calls);
        try {
            s.mount("none", "/hang2", "hangfs", "");
            Path order = dir.resolve("order");
            Result r = run(s, dir, "(cat /hang2/x 2>/dev/null; echo hang-over >> " + sh(order) + ") & "
                    + "sleep 0.3; ls /etc >/dev/null && echo others-ran >> " + sh(order) + "; "
                    + "cat /hang2/ok-file >/dev/null && echo same-mount-served; wait");
            assertEquals("stderr: " + r.err + " stdout: " + r.out, 0, r.status);
            // with one thread serving everything, nothing else would run until the hang ended
            assertEquals("others-ran\nhang-over\n", Files.readString(order));
            // the module's thread is still asleep in the first call: the second call of the same
            // mount waits behind it (a mount's calls stay in order) until the timeout frees it
            assertEquals("same-mount-served\n", r.out);
            assertEquals(1, calls.get());
        } finally {
            s.umount("/hang2");
            reg.unregister();
        }
    }

    /**
     * A module removed while a call waits in it (its service unregistered, as when its bundle is
     * uninstalled): the call fails with EIO at once, not at the watchdog's timeout (2 s here), and
     * the mount is gone.
     */
    @Test
    public void aModuleRemovedMidCallFailsTheCall() throws Exception {
        SyscallService s = service();
        Path dir = workDir("hang-removed");
        java.util.concurrent.atomic.AtomicInteger calls = new java.util.concurrent.atomic.AtomicInteger();
        var reg = registerHangingModule(calls);
        boolean registered = true;
        try {
            s.mount("none", "/hang3", "hangfs", "");
            Path started = dir.resolve("started");
            java.util.concurrent.CompletableFuture<Result> r = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
                try {
                    return run(s, dir, "touch " + sh(started) + "; cat /hang3/x 2>&1 | sed 's/^.*: //'; "
                            + "date +%s%3N > " + sh(dir.resolve("ended")) + "; ls /hang3 >/dev/null 2>&1; echo \"after=$?\"");
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            for (int i = 0; i < 200 && calls.get() == 0; i++) {
                Thread.sleep(20);
            }
            assertEquals("the call reached the module", 1, calls.get());
            long t0 = System.currentTimeMillis();
            reg.unregister();
            registered = false;
            Result res = r.get(60, java.util.concurrent.TimeUnit.SECONDS);
            long ms = Long.parseLong(Files.readString(dir.resolve("ended")).strip()) - t0; // when cat had ended
            assertEquals("stderr: " + res.err, 0, res.status);
            assertEquals("Input/output error\nafter=2\n", res.out); // ls: the mount went with the module
            assertTrue("EIO came with the removal, not from the 2 s watchdog: " + ms + " ms", ms < 1500);
        } finally {
            if (registered) {
                s.umount("/hang3");
                reg.unregister();
            }
        }
    }

    /** A module whose mounts of type hangfs never answer for names other than "" and "ok*". */
    private org.osgi.framework.ServiceRegistration<org.viewos.core.api.FileSystemType> registerHangingModule(
            java.util.concurrent.atomic.AtomicInteger calls) {
        org.viewos.core.api.FileSystemType hang = new org.viewos.core.api.FileSystemType() {
            @Override
            public boolean handles(String fstype) {
                return fstype.equals("hangfs");
            }

            @Override
            public org.viewos.core.api.FileSystem mount(String source, String target, String fstype,
                    java.util.Map<String, String> options) {
                return (rel, access) -> {
                    if (rel.isEmpty()) {
                        return "/etc";
                    }
                    if (rel.startsWith("ok")) {
                        return "/etc/hostname";
                    }
                    calls.incrementAndGet();
                    try {
                        Thread.sleep(60_000); // a module bug: it never answers
                    } catch (InterruptedException e) {
                        throw new IllegalStateException("interrupted", e);
                    }
                    return null;
                };
            }
        };
        java.util.Hashtable<String, Object> props = new java.util.Hashtable<>();
        props.put(org.viewos.core.api.ViewModule.NAME_PROPERTY, "hangmod");
        return context.registerService(org.viewos.core.api.FileSystemType.class, hang, props);
    }

    // ------------------------------------------------------------------ helpers

    /** Set once a wait timed out: the other tests then fail fast instead of waiting again. */
    private static volatile boolean serviceMissing;

    private SyscallService service() throws InterruptedException {
        for (Bundle b : context.getBundles()) {
            if ("org.viewos.core".equals(b.getSymbolicName()) && b.getHeaders().get("Service-Component") == null) {
                fail("org.viewos.core declares no DS component (no Service-Component header); bundles: "
                        + bundleStates());
            }
        }
        ServiceTracker<SyscallService, SyscallService> t = new ServiceTracker<>(context, SyscallService.class, null);
        t.open();
        try {
            long wait = serviceMissing ? 500 : TIMEOUT_MS;
            SyscallService s = t.waitForService(wait);
            if (s == null) {
                serviceMissing = true;
                fail("no SyscallService after " + wait + " ms; bundles: " + bundleStates());
            }
            return s;
        } finally {
            t.close();
        }
    }

    private String bundleStates() {
        StringBuilder sb = new StringBuilder();
        for (Bundle b : context.getBundles()) {
            sb.append(sb.length() == 0 ? "" : ", ").append(b.getSymbolicName()).append('=').append(b.getState())
                    .append(b.getHeaders().get("Service-Component") == null ? "" : "(DS)");
        }
        return sb.toString() + " (2=INSTALLED 4=RESOLVED 8=STARTING 32=ACTIVE)";
    }

    /** The mount list as text (mountList() in the current API, mounts() in the first draft). */
    private static String mounts(SyscallService s) throws Exception {
        for (String m : new String[] {"mountList", "mounts"}) {
            try {
                return String.valueOf(SyscallService.class.getMethod(m).invoke(s));
            } catch (NoSuchMethodException e) {
                // try the other name
            }
        }
        throw new AssertionError("SyscallService has neither mountList() nor mounts()");
    }

    private static List<String> names(List<ModuleInfo> modules) {
        List<String> names = new ArrayList<>();
        for (ModuleInfo m : modules) {
            names.add(m.name());
        }
        return names;
    }

    private static Path workDir(String name) throws IOException {
        Path base = Path.of(System.getProperty("viewos.testdir", System.getProperty("java.io.tmpdir")), "osgi");
        Files.createDirectories(base);
        return Files.createTempDirectory(base, name + "-");
    }

    private static String sh(Path p) {
        return "'" + p.toString().replace("'", "'\\''") + "'";
    }

    static final class Result {
        int status;
        String out;
        String err;
    }

    /** {@code /bin/sh -c script} in the view, stdin /dev/null, stdout/stderr to files in dir. */
    private static Result run(SyscallService s, Path dir, String script) throws Exception {
        Path out = Files.createTempFile(dir, "stdout-", ".txt");
        Path err = Files.createTempFile(dir, "stderr-", ".txt");
        Map<String, String> env = new HashMap<>(System.getenv());
        Result r = new Result();
        r.status = s.run(List.of("/bin/sh", "-c", script), env, dir.toFile(),
                new File[] {new File("/dev/null"), out.toFile(), err.toFile()});
        r.out = Files.readString(out, StandardCharsets.UTF_8);
        r.err = Files.readString(err, StandardCharsets.UTF_8);
        return r;
    }
}
