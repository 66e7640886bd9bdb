package org.viewos.launcher;

import java.io.File;
import java.io.IOException;
import java.io.PrintStream;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.apache.felix.framework.Felix;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.BundleException;
import org.osgi.framework.Constants;
import org.osgi.framework.FrameworkEvent;
import org.osgi.util.tracker.ServiceTracker;

/**
 * {@code viewos [-V name] [-p module[,opts]]... [-f rcfile] [-x] [-q] [--help] [--version] [--] command [args]}
 *
 * <p>Starts an embedded Felix with the bundles of {@code $VIEWOS_HOME/bundle/} (SCR, Gogo runtime and
 * command, the core), installs and starts the {@code -p} modules from {@code modules/<module>.jar},
 * then hands the command to the core's {@code org.viewos.core.api.SyscallService} and exits with its
 * status. All argument errors are detected before Felix starts.
 *
 * <h2>Contract with the core bundle (org.viewos.core)</h2>
 * Framework properties ({@code BundleContext.getProperty}), set by this launcher:
 * <ul>
 * <li>{@code viewos.home}: absolute path of the distribution directory (contains {@code modules/}).</li>
 * <li>{@code viewos.inheritfds}: comma-separated fd numbers &gt;= 3 the calling shell gave to
 *     {@code viewos} (e.g. {@code "3,5"}); the core keeps exactly these open in the command. Absent or
 *     empty when none.</li>
 * <li>{@code viewos.rcfile}: absent when no rc file runs; otherwise ONE absolute path of an
 *     executable file. The core runs it inside the view before the command (same environment),
 *     ignoring its exit status. The rc files are {@code /etc/viewosrc} (if it exists and {@code -x} is
 *     not given), then the {@code -f} file, or else {@code ~/.viewosrc} (if it exists and {@code -x}
 *     is not given); an explicit {@code -f} file always runs. When that is exactly one executable
 *     file, its path is passed; otherwise (two files, or a non-executable one) the launcher writes a
 *     small {@code /bin/sh} wrapper running them in order ({@code /bin/sh FILE} for non-executable
 *     ones) into its private 0700 temp dir and passes the wrapper's path.</li>
 * <li>{@code viewos.name}: the {@code -V} name (absent without {@code -V}); the launcher also calls
 *     {@code setViewName(name)}.</li>
 * <li>{@code viewos.preload}: the {@code -p} arguments as given ({@code module[,opts]}), separated by
 *     {@code '\n'}, in command-line order (absent when none), for information. The modules are
 *     loaded by the launcher, in this order, before {@code run}: through the service's
 *     {@code addModule(String spec, boolean permanent)} with (spec, false) when the API has that
 *     method, else by installing and starting {@code modules/<module>.jar} itself.</li>
 * <li>{@code viewos.quiet}: {@code "true"} with {@code -q}, else absent.</li>
 * </ul>
 * Reflection calls on the service object, through the interface class
 * {@code org.viewos.core.api.SyscallService} loaded from the registering bundle:
 * <ol>
 * <li>{@code setViewName(String)}, only when {@code -V} was given;</li>
 * <li>{@code addModule(String, boolean)} per {@code -p}, if the API has it (see above); an Errno
 *     from it prints {@code viewos: module NAME: <message>} and exits 1;</li>
 * <li>{@code int run(List<String> argv, Map<String,String> env, File dir, File[] stdio)} with
 *     argv = the command and its arguments exactly as given (argv[0] not resolved), env =
 *     {@code System.getenv()} (a mutable copy), dir = null, stdio = null. The Integer result is the
 *     exit status (128+signal for signals). An {@code org.viewos.core.api.Errno} thrown by it prints
 *     {@code viewos: <message>} and exits 1 (127 for ENOENT, 126 for EACCES).</li>
 * </ol>
 * Then the launcher stops the framework (waiting at most ~1 s) and exits with that status.
 */
public final class Main {
    static final String VERSION = "0.1.0";
    static final String USAGE =
            "usage: viewos [-V name] [-p module[,opts]]... [-f rcfile] [-x] [-q] [-b SRC:TARGET]... [--hide PATH]..."
            + " [--cow TARGET:STORE]... [--root DIR] [--help] [--version] [--] command [args]"
            + " | viewos --shell [NAME]";
    static final String SERVICE = "org.viewos.core.api.SyscallService";
    static final String CORE_BSN = "org.viewos.core";
    static final long SERVICE_TIMEOUT_MS = Long.getLong("viewos.servicetimeout", 10_000L);

    /** Thrown for a one-line error: message printed as {@code viewos: message}, then exit. */
    static final class Failure extends Exception {
        private static final long serialVersionUID = 1L;
        final int status;

        Failure(int status, String message) {
            super(message, null, false, false);
            this.status = status;
        }
    }

    /** The parsed command line. */
    static final class Options {
        String viewName;
        final List<String> preload = new ArrayList<>();
        String rcFile;
        boolean noRc;
        boolean quiet;
        boolean help;
        boolean version;
        /** {@code --shell [NAME]}: attach a Gogo shell to a running view instead of starting one. */
        boolean shell;
        String shellView;
        List<String> command = List.of();
        /** viewfs shortcuts ({@code -b}, {@code --hide}, {@code --cow}) in command-line order: kind, a, b. */
        final List<String[]> viewfs = new ArrayList<>();
        /** {@code --root DIR}: DIR moved over "/" (absolute host path), or null. */
        String root;
    }

    /** The real stdout/stderr (System.out/err are redirected while the framework runs). */
    private static final PrintStream out = System.out;
    private static final PrintStream err = System.err;

    /** When the launcher's code started (for the start-up breakdown of -Dviewos.debug.timing). */
    private static final long MAIN_START = System.nanoTime();

    private static long ms(long nanos) {
        return TimeUnit.NANOSECONDS.toMillis(nanos);
    }

    public static void main(String[] args) {
        int status;
        try {
            status = launch(args);
        } catch (Failure f) {
            err.println("viewos: " + oneLine(f.getMessage()));
            status = f.status;
        } catch (Throwable t) {
            err.println("viewos: internal error: " + oneLine(String.valueOf(t)));
            status = 1;
        }
        err.flush();
        out.flush();
        System.exit(status);
    }

    static int launch(String[] args) throws Exception {
        Options o = parse(args);
        if (o.help) {
            out.print(help());
            out.flush();
            return 0;
        }
        if (o.version) {
            out.println("viewos (View-OS/J) " + VERSION);
            out.flush();
            return 0;
        }
        if (o.shell) {
            return ShellClient.attach(o.shellView);
        }
        if (o.command.isEmpty()) {
            throw new Failure(2, "missing command; " + USAGE);
        }
        Path home = home();
        Map<String, String> env = environ();
        // the in-view commands (um_add_service, viewname, ...) live beside bin/viewos
        String bin = home.resolve("bin").toString();
        String path = env.get("PATH");
        if (path == null || !List.of(path.split(":")).contains(bin)) {
            env.put("PATH", path == null || path.isEmpty() ? bin : path + ":" + bin);
        }
        if (o.root == null) {
            checkCommand(o.command.get(0), env.get("PATH")); // under --root the view's PATH decides
        }
        if ((o.root != null || !o.viewfs.isEmpty()) && o.preload.stream().noneMatch(
                p -> p.equals("viewfs") || p.startsWith("viewfs,"))) {
            o.preload.add("viewfs");
        }
        List<Path> rc = rcFiles(o);
        List<Path> modules = new ArrayList<>();
        for (String p : o.preload) {
            String name = p.contains(",") ? p.substring(0, p.indexOf(',')) : p;
            Path jar = home.resolve("modules").resolve(name + ".jar");
            if (name.isEmpty() || name.contains("/") || !Files.isRegularFile(jar)) {
                throw new Failure(1, (name.isEmpty() ? "''" : name) + ": no such module (see "
                        + home.resolve("modules") + ")");
            }
            if (!modules.contains(jar)) {
                modules.add(jar);
            }
        }

        // From here on, nothing but our one error line may go to the terminal: while the framework
        // starts, System.out/err are captured (see StartupCapture); afterwards whatever Java code
        // prints on System.out goes to stderr: the command owns fd 1.
        StartupCapture capture = new StartupCapture();
        PrintStream captured = capture.stream();
        System.setOut(captured);
        System.setErr(captured);
        ignoreSigint();

        Map<String, Object> config = new HashMap<>();
        Path tmp = createStorage();
        Runtime.getRuntime().addShutdownHook(new Thread(() -> deleteTree(tmp), "viewos-cleanup"));
        Path storage = tmp.resolve("felix");
        config.put(Constants.FRAMEWORK_STORAGE, storage.toString());
        config.put(Constants.FRAMEWORK_STORAGE_CLEAN, Constants.FRAMEWORK_STORAGE_CLEAN_ONFIRSTINIT);
        config.put(Constants.FRAMEWORK_SYSTEMPACKAGES_EXTRA, "sun.misc,sun.nio.ch,jdk.net");
        config.put(Constants.FRAMEWORK_BOOTDELEGATION, "sun.*,com.sun.*");
        config.put("felix.log.level", o.quiet ? "0" : "1");
        config.put("felix.log.logger", new ErrLogger());
        config.put("ds.loglevel", "error");
        config.put("viewos.home", home.toString());
        String fds = System.getProperty("viewos.inheritfds", "");
        config.put("viewos.inheritfds", fds);
        if (!rc.isEmpty()) {
            config.put("viewos.rcfile", rcCommand(rc, tmp).toString());
        }
        if (o.viewName != null) {
            config.put("viewos.name", o.viewName);
        }
        if (!o.preload.isEmpty()) {
            config.put("viewos.preload", String.join("\n", o.preload));
        }
        if (o.quiet) {
            config.put("viewos.quiet", "true");
        }

        Felix felix = new Felix(config);
        long t0 = System.nanoTime();
        List<String> problems = new ArrayList<>();
        Bundle core = null;
        try {
            felix.init();
            BundleContext ctx = felix.getBundleContext();
            List<Bundle> toStart = new ArrayList<>();
            File[] jars = home.resolve("bundle").toFile().listFiles((d, n) -> n.endsWith(".jar"));
            if (jars == null || jars.length == 0) {
                throw new Failure(1, "no bundles in " + home.resolve("bundle"));
            }
            Arrays.sort(jars);
            for (File jar : jars) {
                try {
                    Bundle b = ctx.installBundle("reference:" + jar.toURI());
                    if (CORE_BSN.equals(b.getSymbolicName())) {
                        core = b;
                    } else {
                        toStart.add(b);
                    }
                } catch (BundleException e) {
                    problems.add(jar.getName() + ": " + e.getMessage());
                }
            }
            if (core != null) {
                // the core first: its activator starts binding libc (jnr) while SCR and Gogo start;
                // SCR activates the core's component as soon as SCR itself is up
                toStart.add(0, core);
            }
            long tInit = System.nanoTime();
            felix.start();
            StringBuilder perBundle = new StringBuilder();
            for (Bundle b : toStart) {
                long tb = System.nanoTime();
                start(b, problems);
                perBundle.append(perBundle.length() == 0 ? "" : ", ").append(b.getSymbolicName())
                        .append(' ').append(ms(System.nanoTime() - tb));
            }
            if (Boolean.getBoolean("viewos.debug.timing")) {
                err.println("viewos: timing: felix init+install " + ms(tInit - t0) + " ms; bundle starts (ms): " + perBundle);
            }
        } catch (BundleException | RuntimeException e) {
            stop(felix);
            String log = capture.summary(400);
            throw new Failure(1, "cannot start the OSGi framework: " + e + (log.isEmpty() ? "" : "; " + log));
        }
        long tFramework = System.nanoTime();
        if (Boolean.getBoolean("viewos.debug")) {
            for (Bundle b : felix.getBundleContext().getBundles()) {
                err.println("viewos: bundle " + b.getBundleId() + " " + b.getSymbolicName() + " "
                        + b.getVersion() + " " + state(b.getState()));
            }
        }

        int status;
        try {
            Object service;
            try {
                service = waitForService(felix.getBundleContext(), core, problems, capture);
                preload(felix.getBundleContext(), service, o.preload, modules);
                viewfsMounts(service, o, home, tmp);
            } catch (Failure f) {
                String log = capture.summary(600);
                throw log.isEmpty() ? f : new Failure(f.status, f.getMessage() + "; log: " + log);
            }
            System.setErr(err);
            System.setOut(err);
            if (Boolean.getBoolean("viewos.debug")) {
                err.print(capture.text());
            }
            long tReady = System.nanoTime();
            status = runCommand(service, o, env);
            long tRun = System.nanoTime();
            stop(felix);
            if (Boolean.getBoolean("viewos.debug.timing")) {
                // from the start script's clock (-Dviewos.t0, microseconds) to the JVM's first
                // launcher code, then the phases measured here
                String t0script = System.getProperty("viewos.t0", "");
                long jvm = t0script.matches("[0-9]+")
                        ? (Instant.now().toEpochMilli() * 1000 - Long.parseLong(t0script)) / 1000
                                - ms(System.nanoTime() - MAIN_START)
                        : -1;
                err.printf("viewos: timing: script+jvm %d ms, framework+bundles %d ms, core service+modules %d ms,"
                        + " command %d ms, shutdown %d ms%n", jvm, ms(tFramework - t0), ms(tReady - tFramework),
                        ms(tRun - tReady), ms(System.nanoTime() - tRun));
            }
        } finally {
            System.setErr(err);
            System.setOut(err);
            stop(felix);
        }
        return status;
    }

    /**
     * Loads the -p modules in order: through SyscallService.addModule(spec, false) when the API has
     * it, else by installing and starting modules/NAME.jar.
     */
    static void preload(BundleContext ctx, Object service, List<String> specs, List<Path> jars) throws Failure {
        if (specs.isEmpty()) {
            return;
        }
        Method add = null;
        try {
            add = apiClass(service).getMethod("addModule", String.class, boolean.class);
        } catch (NoSuchMethodException e) {
            // older API: install the bundles ourselves
        }
        if (add != null) {
            for (String spec : specs) {
                String name = spec.contains(",") ? spec.substring(0, spec.indexOf(',')) : spec;
                try {
                    add.invoke(service, spec, false);
                } catch (InvocationTargetException e) {
                    Throwable c = e.getCause();
                    if (errnoCode(c) == 17) { // EEXIST
                        continue; // the same module twice on the command line
                    }
                    throw new Failure(1, "module " + name + ": " + (c == null ? e : c.getMessage()));
                } catch (IllegalAccessException e) {
                    throw new Failure(1, "module " + name + ": " + e);
                }
            }
            return;
        }
        for (Path jar : jars) {
            String name = jar.getFileName().toString().replaceFirst("\\.jar$", "");
            try {
                ctx.installBundle("reference:" + jar.toUri()).start();
            } catch (BundleException | RuntimeException e) {
                throw new Failure(1, "module " + name + ": " + e.getMessage());
            }
        }
    }

    /** The one executable viewos.rcfile names: the rc file itself, or a wrapper running them all. */
    static Path rcCommand(List<Path> rc, Path tmp) throws Failure {
        if (rc.size() == 1 && Files.isExecutable(rc.get(0))) {
            return rc.get(0);
        }
        StringBuilder sh = new StringBuilder("#!/bin/sh\n# View-OS/J rc files, in order\n");
        for (Path p : rc) {
            String q = "'" + p.toString().replace("'", "'\\''") + "'";
            sh.append(Files.isExecutable(p) ? q : "/bin/sh " + q).append('\n');
        }
        sh.append("exit 0\n");
        Path w = tmp.resolve("viewosrc");
        try {
            Files.writeString(w, sh.toString());
            Files.setPosixFilePermissions(w, PosixFilePermissions.fromString("rwx------"));
        } catch (IOException e) {
            throw new Failure(1, "cannot write " + w + ": " + e.getMessage());
        }
        return w;
    }

    private static void start(Bundle b, List<String> problems) {
        try {
            b.start();
        } catch (BundleException e) {
            problems.add(b.getSymbolicName() + ": " + e.getMessage());
        }
    }

    /** Waits for the SyscallService; fails early when the core cannot provide it. */
    static Object waitForService(BundleContext ctx, Bundle core, List<String> problems, StartupCapture capture)
            throws Failure {
        if (core == null) {
            throw new Failure(1, "SyscallService not available: bundle " + CORE_BSN + " is missing"
                    + describe(problems));
        }
        ServiceTracker<Object, Object> tracker = new ServiceTracker<>(ctx, SERVICE, null);
        tracker.open(true);
        try {
            long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(SERVICE_TIMEOUT_MS);
            long errorDeadline = 0;
            while (true) {
                Object svc = tracker.waitForService(25);
                if (svc != null) {
                    return svc;
                }
                String why = null;
                if (core.getState() != Bundle.ACTIVE && core.getState() != Bundle.STARTING) {
                    why = CORE_BSN + " is " + state(core.getState());
                } else if (core.getState() == Bundle.ACTIVE && core.getHeaders().get("Service-Component") == null) {
                    why = CORE_BSN + " declares no DS component (no Service-Component header)";
                } else {
                    why = ScrDiagnostics.failure(ctx, core);
                }
                if (why == null && capture.coreError()) {
                    // SCR/Felix logged an error about the core: give it one more second, no more
                    if (errorDeadline == 0) {
                        errorDeadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(1);
                    } else if (System.nanoTime() - errorDeadline > 0) {
                        why = "the framework logged errors about " + CORE_BSN;
                    }
                }
                if (why == null && System.nanoTime() - deadline > 0) {
                    String u = ScrDiagnostics.unsatisfied(ctx, core);
                    why = "timed out after " + SERVICE_TIMEOUT_MS / 1000.0 + " s (" + CORE_BSN + " is "
                            + state(core.getState()) + (u == null ? "" : "; " + u) + ")";
                }
                if (why != null) {
                    throw new Failure(1, "SyscallService not available: " + why + describe(problems));
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new Failure(1, "interrupted");
        } finally {
            tracker.close();
        }
    }

    private static String describe(List<String> problems) {
        return problems.isEmpty() ? "" : "; " + String.join("; ", problems);
    }

    static String state(int s) {
        switch (s) {
        case Bundle.UNINSTALLED: return "UNINSTALLED";
        case Bundle.INSTALLED: return "INSTALLED (not resolved)";
        case Bundle.RESOLVED: return "RESOLVED (not started)";
        case Bundle.STARTING: return "STARTING";
        case Bundle.STOPPING: return "STOPPING";
        case Bundle.ACTIVE: return "ACTIVE";
        default: return "state " + s;
        }
    }

    /** Calls setViewName and run on the service through its interface, by reflection. */
    static int runCommand(Object service, Options o, Map<String, String> env) throws Exception {
        Class<?> api = apiClass(service);
        try {
            if (o.viewName != null) {
                api.getMethod("setViewName", String.class).invoke(service, o.viewName);
            }
            Method run = api.getMethod("run", List.class, Map.class, File.class, File[].class);
            // under --root the command starts in the new root's "/" (like proot -r with no -w)
            File dir = o.root == null ? null : new File(o.root);
            Object r = run.invoke(service, new ArrayList<>(o.command), env, dir, null);
            return ((Number) r).intValue();
        } catch (InvocationTargetException e) {
            Throwable c = e.getCause();
            if (c != null && "org.viewos.core.api.Errno".equals(c.getClass().getName())) {
                int code = errnoCode(c);
                String name = o.command.get(0);
                if (code == 2) {
                    throw new Failure(127, name + ": command not found (" + c.getMessage() + ")");
                }
                if (code == 13) {
                    throw new Failure(126, name + ": Permission denied (" + c.getMessage() + ")");
                }
                throw new Failure(1, c.getMessage());
            }
            throw new Failure(1, "core failed: " + c);
        }
    }

    /** The code of an org.viewos.core.api.Errno, -1 for anything else. */
    static int errnoCode(Throwable t) {
        if (t == null || !"org.viewos.core.api.Errno".equals(t.getClass().getName())) {
            return -1;
        }
        try {
            return ((Number) t.getClass().getMethod("code").invoke(t)).intValue();
        } catch (ReflectiveOperationException e) {
            return 0;
        }
    }

    private static Class<?> apiClass(Object service) throws Failure {
        for (Class<?> c = service.getClass(); c != null; c = c.getSuperclass()) {
            Class<?> found = findInterface(c);
            if (found != null) {
                return found;
            }
        }
        throw new Failure(1, "service object " + service.getClass().getName() + " does not implement " + SERVICE);
    }

    private static Class<?> findInterface(Class<?> c) {
        for (Class<?> i : c.getInterfaces()) {
            if (SERVICE.equals(i.getName())) {
                return i;
            }
            Class<?> deeper = findInterface(i);
            if (deeper != null) {
                return deeper;
            }
        }
        return null;
    }

    /** Stops the framework, waiting at most about one second. */
    static void stop(Felix felix) {
        Thread t = new Thread(() -> {
            try {
                felix.stop();
                felix.waitForStop(10_000); // modules flush on the way out (umnet's queued data, umfuse)
            } catch (Exception ignored) {
                // exiting anyway
            }
        }, "viewos-stop");
        t.setDaemon(true);
        t.start();
        try {
            t.join(1000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        // if it did not stop in time we exit anyway; FrameworkEvent kept for the record
        if (t.isAlive() && Boolean.getBoolean("viewos.debug.timing")) {
            err.println("viewos: framework did not stop within 1 s (" + FrameworkEvent.WAIT_TIMEDOUT + ")");
        }
    }

    // ---------------------------------------------------------------- command line

    static Options parse(String[] args) throws Failure {
        Options o = new Options();
        int i = 0;
        for (; i < args.length; i++) {
            String a = args[i];
            if (a.equals("--")) {
                i++;
                break;
            }
            if (!a.startsWith("-") || a.equals("-")) {
                break;
            }
            if (a.startsWith("--")) {
                String name = a;
                String value = null;
                int eq = a.indexOf('=');
                if (eq > 0) {
                    name = a.substring(0, eq);
                    value = a.substring(eq + 1);
                }
                switch (name) {
                case "--help": o.help = true; break;
                case "--version": o.version = true; break;
                case "--quiet": o.quiet = true; break;
                case "--norc": o.noRc = true; break;
                case "--shell":
                    o.shell = true;
                    if (value != null) {
                        o.shellView = value;
                    } else if (i + 1 < args.length && !args[i + 1].startsWith("-")) {
                        o.shellView = args[++i];
                    }
                    return o;
                case "--viewname":
                case "--preload":
                case "--bind":
                case "--hide":
                case "--cow":
                case "--root": {
                    if (value == null) {
                        if (i + 1 >= args.length) {
                            throw new Failure(2, "option " + name + " requires an argument; " + USAGE);
                        }
                        value = args[++i];
                    }
                    shortcut(o, name, value);
                    break;
                }
                case "--rc": {
                    if (value == null) {
                        if (i + 1 >= args.length) {
                            throw new Failure(2, "option " + name + " requires an argument; " + USAGE);
                        }
                        value = args[++i];
                    }
                    apply(o, name.equals("--viewname") ? 'V' : name.equals("--preload") ? 'p' : 'f', value);
                    break;
                }
                default:
                    throw new Failure(2, "unrecognized option '" + a + "'; " + USAGE);
                }
                continue;
            }
            for (int k = 1; k < a.length(); k++) {
                char c = a.charAt(k);
                switch (c) {
                case 'x': o.noRc = true; break;
                case 'q': o.quiet = true; break;
                case 'h': o.help = true; break;
                case 'b': {
                    String value;
                    if (k + 1 < a.length()) {
                        value = a.substring(k + 1);
                    } else if (i + 1 < args.length) {
                        value = args[++i];
                    } else {
                        throw new Failure(2, "option requires an argument -- 'b'; " + USAGE);
                    }
                    shortcut(o, "--bind", value);
                    k = a.length();
                    break;
                }
                case 'V':
                case 'p':
                case 'f': {
                    String value;
                    if (k + 1 < a.length()) {
                        value = a.substring(k + 1);
                    } else if (i + 1 < args.length) {
                        value = args[++i];
                    } else {
                        throw new Failure(2, "option requires an argument -- '" + c + "'; " + USAGE);
                    }
                    apply(o, c, value);
                    k = a.length();
                    break;
                }
                default:
                    throw new Failure(2, "invalid option -- '" + c + "'; " + USAGE);
                }
            }
        }
        o.command = List.copyOf(Arrays.asList(args).subList(Math.min(i, args.length), args.length));
        return o;
    }

    /** Records a viewfs shortcut; relative paths are taken from the launcher's cwd. */
    static void shortcut(Options o, String name, String value) throws Failure {
        if (value.isEmpty()) {
            throw new Failure(2, "option " + name + " requires a non-empty argument; " + USAGE);
        }
        switch (name) {
        case "--root":
            if (o.root != null) {
                throw new Failure(2, "--root given twice");
            }
            o.root = absolute(value);
            break;
        case "--hide":
            o.viewfs.add(new String[] {"hide", absolute(value), null});
            break;
        default: {
            int c = value.indexOf(':');
            String a = c < 0 ? value : value.substring(0, c);
            String b = c < 0 ? value : value.substring(c + 1);
            if (a.isEmpty() || b.isEmpty()) {
                throw new Failure(2, "option " + name + " takes " + (name.equals("--cow") ? "TARGET:STORE" : "SRC:TARGET")
                        + ", not '" + value + "'");
            }
            o.viewfs.add(new String[] {name.equals("--cow") ? "cow" : "bind", absolute(a), absolute(b)});
        }
        }
    }

    private static String absolute(String p) {
        return Path.of(p).toAbsolutePath().normalize().toString();
    }

    /**
     * Mounts the viewfs shortcuts through SyscallService.mount(source, target, fstype, options):
     * --root first (so later binds stack on it), then -b/--cow in command-line order, then the --hide paths (hiding wins). A hidden
     * path gets a private empty directory (an empty 0000 file when PATH is not a directory) made in
     * the launcher's private temp dir.
     */
    static void viewfsMounts(Object service, Options o, Path home, Path tmp) throws Failure {
        if (o.root == null && o.viewfs.isEmpty()) {
            return;
        }
        Method mount;
        try {
            mount = apiClass(service).getMethod("mount", String.class, String.class, String.class, String.class);
        } catch (NoSuchMethodException e) {
            throw new Failure(1, "this core cannot mount (no SyscallService.mount)");
        }
        List<String[]> todo = new ArrayList<>();
        if (o.root != null) {
            if (!Files.isDirectory(Path.of(o.root))) {
                throw new Failure(1, "--root " + o.root + ": not a directory");
            }
            // what must stay the host's: kernel file systems, and our own files (in-view commands,
            // the rc wrapper) which live outside DIR
            List<String> keep = new ArrayList<>(List.of("proc", "dev", "sys", home.toString().substring(1),
                    tmp.toString().substring(1)));
            todo.add(new String[] {o.root, "/", "move,except=" + String.join(":", keep), "--root"});
        }
        int n = 0;
        for (String[] v : o.viewfs) {
            switch (v[0]) {
            case "hide": {
                Path hide = tmp.resolve("hide-" + (++n));
                try {
                    if (Files.isDirectory(Path.of(v[1])) || !Files.exists(Path.of(v[1]))) {
                        Files.createDirectory(hide);
                    } else {
                        Files.createFile(hide);
                        Files.setPosixFilePermissions(hide, PosixFilePermissions.fromString("---------"));
                    }
                } catch (IOException e) {
                    throw new Failure(1, "--hide " + v[1] + ": " + e.getMessage());
                }
                todo.add(new String[] {hide.toString(), v[1], "move", "--hide " + v[1]});
                break;
            }
            case "cow":
                todo.add(new String[] {v[2], v[1], "cow", "--cow " + v[1] + ":" + v[2]});
                break;
            default:
                todo.add(new String[] {v[1], v[2], "move", "--bind " + v[1] + ":" + v[2]});
            }
        }
        // hides go last: hiding a path wins over a bind or cow given for a directory above it
        List<String[]> ordered = new ArrayList<>();
        todo.stream().filter(m -> !m[3].startsWith("--hide")).forEach(ordered::add);
        todo.stream().filter(m -> m[3].startsWith("--hide")).forEach(ordered::add);
        for (String[] m : ordered) {
            try {
                mount.invoke(service, m[0], m[1], "viewfs", m[2]);
            } catch (InvocationTargetException e) {
                Throwable c = e.getCause();
                throw new Failure(1, m[3] + ": " + (c == null ? e : c.getMessage()));
            } catch (IllegalAccessException e) {
                throw new Failure(1, m[3] + ": " + e);
            }
        }
    }

    private static void apply(Options o, char c, String value) {
        switch (c) {
        case 'V': o.viewName = value; break;
        case 'p': o.preload.add(value); break;
        default: o.rcFile = value; break;
        }
    }

    static String help() {
        return USAGE + "\n"
                + "Run COMMAND in a new View-OS view (View-OS/J " + VERSION + ").\n"
                + "  -V name            name the view (viewname)\n"
                + "  -p module[,opts]   preload a module (repeatable), from $VIEWOS_HOME/modules/<module>.jar\n"
                + "  -f rcfile          run this executable inside the view before the command\n"
                + "                     (instead of ~/.viewosrc)\n"
                + "  -x                 do not run /etc/viewosrc and ~/.viewosrc\n"
                + "  -q                 quiet\n"
                + "  -b, --bind SRC:TARGET  show SRC at TARGET (viewfs move; TARGET defaults to SRC)\n"
                + "  --hide PATH        hide PATH (viewfs move of a private empty dir, or empty file)\n"
                + "  --cow TARGET:STORE changes under TARGET land in STORE (viewfs cow)\n"
                + "  --root DIR         DIR as / (viewfs move over /, except /proc /dev /sys and\n"
                + "                     View-OS/J's own files), like proot -r; the command starts in /\n"
                + "  --shell [NAME]     attach a Gogo shell to the running view NAME (or the only one)\n"
                + "  --help, --version  this text; the version\n"
                + "Exit status: the command's, 128+signal when a signal ended it; 2 usage, 126 not\n"
                + "executable, 127 not found, 1 other errors.\n";
    }

    /**
     * The environment as the JVM got it, in its order (System.getenv() is a hash map): the command
     * must see the same block a shell would have passed it.
     */
    static Map<String, String> environ() {
        Map<String, String> env = new LinkedHashMap<>();
        try {
            byte[] raw = Files.readAllBytes(Path.of("/proc/self/environ"));
            int start = 0;
            for (int i = 0; i <= raw.length; i++) {
                if (i == raw.length || raw[i] == 0) {
                    if (i > start) {
                        String kv = new String(raw, start, i - start, java.nio.charset.Charset.defaultCharset());
                        int eq = kv.indexOf('=');
                        if (eq > 0) {
                            env.putIfAbsent(kv.substring(0, eq), kv.substring(eq + 1));
                        }
                    }
                    start = i + 1;
                }
            }
        } catch (IOException e) {
            env.putAll(System.getenv());
        }
        return env;
    }

    /** Checks the command as a shell would before exec: 127 not found, 126 not executable. */
    static void checkCommand(String name, String path) throws Failure {
        if (name.isEmpty()) {
            throw new Failure(127, "'': command not found");
        }
        if (name.contains("/")) {
            Path p = Path.of(name);
            if (!Files.exists(p)) {
                throw new Failure(127, name + ": No such file or directory");
            }
            if (Files.isDirectory(p) || !Files.isExecutable(p)) {
                throw new Failure(126, name + ": Permission denied");
            }
            return;
        }
        if (path == null) {
            path = "/usr/local/bin:/usr/bin:/bin";
        }
        boolean nonExecutable = false;
        for (String dir : path.split(":", -1)) {
            Path p = Path.of(dir.isEmpty() ? "." : dir, name);
            if (Files.isRegularFile(p)) {
                if (Files.isExecutable(p)) {
                    return;
                }
                nonExecutable = true;
            }
        }
        if (nonExecutable) {
            throw new Failure(126, name + ": Permission denied");
        }
        throw new Failure(127, name + ": command not found");
    }

    static List<Path> rcFiles(Options o) throws Failure {
        List<Path> rc = new ArrayList<>();
        if (!o.noRc) {
            Path sys = Path.of("/etc/viewosrc");
            if (Files.isRegularFile(sys) && Files.isReadable(sys)) {
                rc.add(sys);
            }
        }
        if (o.rcFile != null) {
            Path p = Path.of(o.rcFile).toAbsolutePath().normalize();
            if (!Files.exists(p)) {
                throw new Failure(1, o.rcFile + ": No such file or directory");
            }
            if (!Files.isRegularFile(p) || !Files.isReadable(p)) {
                throw new Failure(1, o.rcFile + ": Permission denied");
            }
            rc.add(p);
        } else if (!o.noRc) {
            String userHome = System.getProperty("user.home");
            if (userHome != null) {
                Path user = Path.of(userHome, ".viewosrc");
                if (Files.isRegularFile(user) && Files.isReadable(user)) {
                    rc.add(user);
                }
            }
        }
        return rc;
    }

    // ---------------------------------------------------------------- environment

    static Path home() throws Failure {
        String h = System.getProperty("viewos.home");
        if (h == null || h.isEmpty()) {
            // lib/viewos-launcher.jar -> the distribution dir
            try {
                Path jar = Path.of(Main.class.getProtectionDomain().getCodeSource().getLocation().toURI());
                h = jar.getParent().getParent().toString();
            } catch (Exception e) {
                throw new Failure(1, "cannot find the distribution directory; set -Dviewos.home");
            }
        }
        Path p = Path.of(h).toAbsolutePath().normalize();
        if (!Files.isDirectory(p.resolve("bundle"))) {
            throw new Failure(1, p + " is not a View-OS/J distribution (no bundle/ directory)");
        }
        return p;
    }

    static Path createStorage() throws Failure {
        String base = System.getenv("XDG_RUNTIME_DIR");
        if (base == null || base.isEmpty() || !Files.isDirectory(Path.of(base)) || !Files.isWritable(Path.of(base))) {
            base = System.getProperty("java.io.tmpdir", "/tmp");
        }
        try {
            return Files.createTempDirectory(Path.of(base), "viewos-",
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        } catch (IOException e) {
            throw new Failure(1, "cannot create the framework storage in " + base + ": " + e.getMessage());
        }
    }

    static void deleteTree(Path root) {
        try {
            Files.walkFileTree(root, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                    Files.deleteIfExists(file);
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult visitFileFailed(Path file, IOException exc) {
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult postVisitDirectory(Path dir, IOException exc) throws IOException {
                    Files.deleteIfExists(dir);
                    return FileVisitResult.CONTINUE;
                }
            });
        } catch (IOException ignored) {
            // best effort
        }
    }

    @SuppressWarnings("restriction")
    static void ignoreSigint() {
        try {
            sun.misc.Signal.handle(new sun.misc.Signal("INT"), s -> { });
        } catch (Throwable ignored) {
            // e.g. -Xrs: nothing to do
        }
    }

    static String oneLine(String s) {
        return s == null ? "" : s.replaceAll("\\s*[\\r\\n]+\\s*", " ").trim();
    }

    /** Felix's log goes to stderr as single lines (never to the command's stdout). */
    static final class ErrLogger extends org.apache.felix.framework.Logger {
        @Override
        protected void doLog(int level, String msg, Throwable throwable) {
            String lv = level == LOG_ERROR ? "error" : level == LOG_WARNING ? "warning" : "info";
            System.err.println("viewos: felix " + lv + ": " + oneLine(msg)
                    + (throwable == null ? "" : " (" + oneLine(String.valueOf(throwable)) + ")"));
        }
    }
}
