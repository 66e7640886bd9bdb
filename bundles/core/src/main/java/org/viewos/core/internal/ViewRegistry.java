package org.viewos.core.internal;

import java.io.File;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.BundleException;
import org.osgi.framework.ServiceReference;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.viewos.core.api.Errno;
import org.viewos.core.api.FileSystem;
import org.viewos.core.api.FileSystemType;
import org.viewos.core.api.ModuleInfo;
import org.viewos.core.api.MountInfo;
import org.viewos.core.api.SyscallHook;
import org.viewos.core.api.SyscallService;
import org.viewos.core.api.ViewModule;
import org.viewos.core.internal.dispatch.Dispatcher;
import org.viewos.core.internal.dispatch.ModuleLane;
import org.viewos.core.internal.dispatch.ViewState;
import org.viewos.core.internal.ffi.Native;
import org.viewos.core.internal.trace.Tracer;
import org.viewos.core.internal.vfs.Mount;
import org.viewos.core.internal.vfs.MountTable;

/** The core's one component: the view's registry of modules and mounts, and its command runner. */
@Component(service = SyscallService.class, immediate = true)
public final class ViewRegistry implements SyscallService, ViewState {
    private record Module(String name, ViewModule service, Bundle bundle) {
    }

    private record FsType(String module, FileSystemType type, boolean direct) {
    }

    private record Hook(String module, Set<String> syscalls, SyscallHook hook) {
    }

    private final List<Hook> hooks = new CopyOnWriteArrayList<>();

    private final List<Module> modules = new CopyOnWriteArrayList<>();
    private final List<FsType> fsTypes = new CopyOnWriteArrayList<>();
    /** The lanes of the mounts whose module may keep callers waiting, by their wrapped FileSystem. */
    private final Map<FileSystem, ModuleLane> lanes = new java.util.concurrent.ConcurrentHashMap<>();
    private final AtomicReference<MountTable> mounts = new AtomicReference<>(MountTable.EMPTY);
    private final Object order = new Object();
    private final Set<String> permanent = java.util.concurrent.ConcurrentHashMap.newKeySet();
    private final Map<String, String> aliases = new java.util.concurrent.ConcurrentHashMap<>();
    private final Map<String, String> moduleOptions = new java.util.concurrent.ConcurrentHashMap<>();
    private final Set<Tracer> tracers = java.util.concurrent.ConcurrentHashMap.newKeySet();
    /** The message of the last failed mount(2) per process (bounded: a few entries at a time). */
    private final Map<Integer, String> lastErrors = java.util.Collections.synchronizedMap(
            new LinkedHashMap<>(16, 0.75f, false) {
                @Override
                protected boolean removeEldestEntry(Map.Entry<Integer, String> e) {
                    return size() > 64;
                }
            });
    private volatile BundleContext context;
    private volatile String home;
    private volatile String viewName = "";
    private volatile String rcFile;
    private volatile Set<Integer> keepFds = Set.of();
    private final AtomicInteger running = new AtomicInteger();
    private volatile int viewId;

    @Activate
    void activate(BundleContext ctx) {
        context = ctx;
        home = ctx.getProperty("viewos.home");
        rcFile = ctx.getProperty("viewos.rcfile");
        String fds = ctx.getProperty("viewos.inheritfds");
        if (fds != null && !fds.isBlank()) {
            Set<Integer> s = new HashSet<>();
            for (String f : fds.split(",")) {
                s.add(Integer.parseInt(f.strip()));
            }
            keepFds = Set.copyOf(s);
        }
        String name = ctx.getProperty("viewos.name");
        if (name != null) {
            viewName = name;
        }
    }

    // ---- modules -------------------------------------------------------------------------------

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC)
    void bindModule(ViewModule m, ServiceReference<ViewModule> ref) {
        synchronized (order) {
            modules.add(new Module(m.name(), m, ref == null ? null : ref.getBundle()));
        }
    }

    void unbindModule(ViewModule m) {
        synchronized (order) {
            modules.removeIf(x -> x.service() == m);
        }
    }

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC)
    void bindFileSystemType(FileSystemType t, ServiceReference<FileSystemType> ref) {
        Object module = ref == null ? null : ref.getProperty(ViewModule.NAME_PROPERTY);
        String name = module != null ? module.toString() : ref != null ? ref.getBundle().getSymbolicName() : "?";
        boolean direct = ref != null && Boolean.parseBoolean(String.valueOf(ref.getProperty(FileSystemType.DIRECT_PROPERTY)));
        FsType f = new FsType(name, t, direct);
        fsTypes.add(f);
        Object auto = ref == null ? null : ref.getProperty(FileSystemType.AUTOMOUNT_PROPERTY);
        if (auto != null) {
            String[] st = auto.toString().trim().split("\\s+");
            String fstype = ref.getProperty("viewos.fstype") != null ? ref.getProperty("viewos.fstype").toString() : name;
            try {
                if (st.length != 2) {
                    throw new Errno(Errno.EINVAL, "bad " + FileSystemType.AUTOMOUNT_PROPERTY + " '" + auto + "'");
                }
                mountWith(f, st[0], st[1], fstype, "", false);
            } catch (Errno e) {
                java.util.logging.Logger.getLogger(ViewRegistry.class.getName())
                        .warning("viewos: automount of " + name + " failed: " + e.getMessage());
            }
        }
    }

    void unbindFileSystemType(FileSystemType t) {
        fsTypes.removeIf(f -> f.type() == t);
        // the module is gone: so are its mounts, and the calls waiting for it fail (EIO)
        for (Mount m : mounts.get().mounts()) {
            ModuleLane lane = m.owner() == t ? lanes.remove(m.fs()) : null;
            if (lane != null) {
                lane.abort();
            }
        }
        mounts.updateAndGet(m -> m.without(x -> x.owner() == t));
    }

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC)
    void bindSyscallHook(SyscallHook h, ServiceReference<SyscallHook> ref) {
        Object module = ref.getProperty(ViewModule.NAME_PROPERTY);
        Object names = ref.getProperty(SyscallHook.SYSCALLS_PROPERTY);
        Set<String> set = new java.util.TreeSet<>();
        if (names instanceof String[] a) {
            set.addAll(List.of(a));
        } else if (names != null) {
            for (String n : names.toString().split("[,\\s]+")) {
                set.add(n);
            }
        }
        Hook hook = new Hook(module != null ? module.toString() : ref.getBundle().getSymbolicName(), Set.copyOf(set), h);
        hooks.add(hook);
        for (Tracer t : tracers) {
            requireHook(t, hook);
        }
    }

    void unbindSyscallHook(SyscallHook h) {
        hooks.removeIf(x -> x.hook() == h);
    }

    private static boolean isStack(FileSystem fs) {
        try {
            return fs.networkStack() != null;
        } catch (RuntimeException e) {
            return false;
        }
    }

    /** Processes of the view stop at socket(2) from now on: a network stack is mounted. */
    private static void requireSockets(Tracer t) {
        t.require("sockets", org.viewos.core.internal.trace.SeccompFilter.sockets(
                org.viewos.core.internal.arch.SyscallTable.x86_64()));
    }

    /** Processes of the view stop at the hook's calls from now on (the filter stays: filters stack). */
    private static void requireHook(Tracer t, Hook h) {
        List<Integer> numbers = new ArrayList<>();
        for (String n : h.syscalls()) {
            var e = org.viewos.core.internal.arch.SyscallTable.x86_64().byName(n);
            if (e != null) {
                numbers.add(e.number());
            }
        }
        t.require("hook:" + String.join(",", h.syscalls()),
                org.viewos.core.internal.trace.SeccompFilter.traced(numbers));
    }

    @Override
    public List<SyscallHook> hooksFor(String syscall) {
        if (hooks.isEmpty()) {
            return List.of();
        }
        List<SyscallHook> l = new ArrayList<>();
        for (Module m : modules) { // service order decides
            for (Hook h : hooks) {
                if (h.module().equals(m.name()) && h.syscalls().contains(syscall)) {
                    l.add(h.hook());
                }
            }
        }
        for (Hook h : hooks) { // hooks of bundles that publish no ViewModule come last
            if (!l.contains(h.hook()) && h.syscalls().contains(syscall)) {
                l.add(h.hook());
            }
        }
        return l;
    }

    @Override
    public boolean needsSyscallsForTime() {
        for (Hook h : hooks) {
            if (h.hook().needsSyscallsForTime()) {
                return true;
            }
        }
        return false;
    }

    @Override
    public List<ModuleInfo> modules() {
        List<ModuleInfo> l = new ArrayList<>();
        for (Module m : modules) {
            l.add(new ModuleInfo(m.name(), m.service().description(), permanent.contains(m.name())));
        }
        return l;
    }

    @Override
    public void moveModule(String name, int position) throws Errno {
        synchronized (order) {
            Module found = null;
            for (Module m : modules) {
                if (m.name().equals(name)) {
                    found = m;
                }
            }
            if (found == null) {
                throw new Errno(Errno.ENOENT, "no module " + name);
            }
            if (position < 1 || position > modules.size()) {
                throw new Errno(Errno.EINVAL, "position " + position + " out of 1.." + modules.size());
            }
            modules.remove(found);
            modules.add(position - 1, found);
        }
    }

    // ---- mounts --------------------------------------------------------------------------------

    @Override
    public MountTable mounts() {
        return mounts.get();
    }

    @Override
    public List<MountInfo> mountList() {
        List<MountInfo> l = new ArrayList<>();
        for (Mount m : mounts.get().mounts()) {
            l.add(new MountInfo(m.source(), m.target(), m.fstype(), m.options(), m.module()));
        }
        return l;
    }

    @Override
    public void mount(String source, String target, String fstype, String options) throws Errno {
        mount(source, target, fstype, options, false);
    }

    @Override
    public void userMount(String source, String target, String fstype, String options) throws Errno {
        mount(source, target, fstype, options, true);
    }

    @Override
    public void noteError(int pid, String message) {
        lastErrors.put(pid, message);
    }

    @Override
    public boolean servesMountPoint(String fstype) {
        String t = aliases.getOrDefault(fstype, fstype);
        for (FsType f : fsTypes) {
            try {
                if (f.type().handles(t)) {
                    return f.type().servesMountPoint();
                }
            } catch (RuntimeException e) {
                return false;
            }
        }
        return false;
    }

    @Override
    public boolean claimsFsType(String fstype) {
        String t = aliases.getOrDefault(fstype, fstype);
        for (FsType f : fsTypes) {
            if (f.type().handles(t)) {
                return true;
            }
        }
        return false;
    }

    private void mount(String source, String target, String fstype, String options, boolean user) throws Errno {
        fstype = fstype == null ? null : aliases.getOrDefault(fstype, fstype);
        if (target == null || !target.startsWith("/")) {
            throw new Errno(Errno.EINVAL, "mount point must be an absolute path: " + target);
        }
        if (fstype == null || fstype.isEmpty()) {
            throw new Errno(Errno.EINVAL, "no file system type");
        }
        String canonical = normalize(target);
        FsType chosen = null;
        for (Module m : modules) { // service order decides who gets a type two modules handle
            for (FsType f : fsTypes) {
                if (f.module().equals(m.name()) && chosen == null && f.type().handles(fstype)) {
                    chosen = f;
                }
            }
        }
        if (chosen == null) {
            for (FsType f : fsTypes) {
                if (chosen == null && f.type().handles(fstype)) {
                    chosen = f;
                }
            }
        }
        if (chosen == null) {
            throw new Errno(Errno.ENODEV, "no loaded module handles file system type " + fstype);
        }
        mountWith(chosen, source, canonical, fstype, options, user);
    }

    private void mountWith(FsType chosen, String source, String target, String fstype, String options,
            boolean user) throws Errno {
        String canonical = normalize(target);
        Map<String, String> opts = parseOptions(options);
        FileSystem fs;
        // a module that may keep callers waiting gets a thread of its own for this mount
        ModuleLane lane = chosen.direct() ? null : new ModuleLane(chosen.module());
        try {
            fs = lane == null ? chosen.type().mount(source, canonical, fstype, opts)
                    : lane.call(() -> chosen.type().mount(source, canonical, fstype, opts));
        } catch (Errno | RuntimeException e) {
            if (lane != null) {
                lane.close();
            }
            throw e instanceof Errno err ? err : new Errno(Errno.EIO, "module " + chosen.module() + " failed to mount: " + e);
        }
        if (fs == null) {
            throw new Errno(Errno.EIO, "module " + chosen.module() + " mounted nothing");
        }
        if (lane != null) {
            fs = lane.wrap(fs);
            lanes.put(fs, lane);
        }
        Mount m = new Mount(source, canonical, fstype, options == null ? "" : options, chosen.module(), fs,
                chosen.type(), user);
        mounts.updateAndGet(t -> t.plus(m));
        boolean stack = isStack(fs);
        for (Tracer t : tracers) {
            t.requirePaths(); // from now on the view's processes stop at path calls
            if (stack) {
                requireSockets(t);
            }
        }
    }

    @Override
    public void umount(String target) throws Errno {
        String canonical = normalize(target);
        Mount m = mounts.get().at(canonical);
        if (m == null) {
            throw new Errno(Errno.EINVAL, canonical + " is not a mount point of this view");
        }
        m.fs().unmount();
        mounts.updateAndGet(t -> t.minus(m));
        ModuleLane lane = lanes.remove(m.fs());
        if (lane != null) {
            lane.close();
        }
    }

    static Map<String, String> parseOptions(String options) throws Errno {
        Map<String, String> opts = new LinkedHashMap<>();
        if (options == null || options.isEmpty()) {
            return opts;
        }
        for (String o : options.split(",", -1)) {
            if (o.isEmpty()) {
                throw new Errno(Errno.EINVAL, "empty mount option in '" + options + "'");
            }
            int eq = o.indexOf('=');
            String k = eq < 0 ? o : o.substring(0, eq);
            String v = eq < 0 ? "" : o.substring(eq + 1);
            // a repeated option (except=A,except=B) keeps all its values, joined with ':'
            opts.merge(k, v, (a, b) -> a + ":" + b);
        }
        return opts;
    }

    /** Lexical normalization of an absolute path (no symlinks are read). */
    static String normalize(String path) {
        List<String> st = new ArrayList<>();
        for (String c : path.split("/")) {
            if (c.isEmpty() || c.equals(".")) {
                continue;
            }
            if (c.equals("..")) {
                if (!st.isEmpty()) {
                    st.remove(st.size() - 1);
                }
            } else {
                st.add(c);
            }
        }
        return "/" + String.join("/", st);
    }

    // ---- modules as bundles ----------------------------------------------------------------------

    private Module loaded(String name) {
        for (Module m : modules) {
            if (m.name().equals(name)) {
                return m;
            }
        }
        return null;
    }

    @Override
    public void addModule(String spec, boolean isPermanent) throws Errno {
        String[] parts = spec.split(",", 2);
        String name = parts[0];
        if (!name.matches("[A-Za-z0-9_.-]+")) {
            throw new Errno(Errno.EINVAL, "bad module name '" + name + "'");
        }
        if (loaded(name) != null) {
            throw new Errno(Errno.EEXIST, "module " + name + " is already loaded");
        }
        BundleContext ctx = context;
        File jar = home == null ? null : new File(home, "modules/" + name + ".jar");
        if (ctx == null || jar == null || !jar.isFile()) {
            throw new Errno(Errno.ENOENT, "no module " + name + (home == null ? "" : " in " + home + "/modules"));
        }
        moduleOptions.put(name, parts.length > 1 ? parts[1] : "");
        String location = jar.toURI().toString();
        try {
            Bundle b = ctx.getBundle(location);
            if (b == null) {
                b = ctx.installBundle(location);
            }
            b.start();
        } catch (BundleException | RuntimeException e) {
            throw new Errno(Errno.EIO, "module " + name + " failed to start: " + e.getMessage());
        }
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (loaded(name) == null && System.nanoTime() < deadline) {
            try {
                Thread.sleep(5);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        if (loaded(name) == null) {
            throw new Errno(Errno.EIO, "module " + name + " started but published no ViewModule " + name);
        }
        if (isPermanent) {
            permanent.add(name);
        }
    }

    @Override
    public void removeModule(String name) throws Errno {
        Module m = loaded(name);
        if (m == null) {
            throw new Errno(Errno.ENOENT, "module " + name + " is not loaded");
        }
        if (permanent.contains(name)) {
            throw new Errno(Errno.EPERM, "module " + name + " is permanent");
        }
        for (Mount x : mounts.get().mounts()) {
            if (x.user() && x.module().equals(name)) {
                throw new Errno(Errno.EBUSY, "module " + name + " still serves " + x.target());
            }
        }
        m.service().checkRemovable();
        try {
            if (m.bundle() != null && m.bundle().getBundleId() != 0) {
                m.bundle().uninstall();
            }
        } catch (BundleException | RuntimeException e) {
            throw new Errno(Errno.EIO, "module " + name + " failed to stop: " + e.getMessage());
        }
        moduleOptions.remove(name);
    }

    /** The tids of every traced thread of this view. */
    public Set<Integer> tids() {
        Set<Integer> all = new HashSet<>();
        for (Tracer t : tracers) {
            all.addAll(t.tids());
        }
        return all;
    }

    // ---- the in-view commands ------------------------------------------------------------------

    @Override
    public String control(int pid, List<String> argv) throws Errno {
        String op = argv.get(0);
        List<String> a = argv.subList(1, argv.size());
        switch (op) {
            case "add_service" -> {
                boolean perm = !a.isEmpty() && (a.get(0).equals("-p") || a.get(0).equals("--permanent"));
                List<String> rest = perm ? a.subList(1, a.size()) : a;
                if (rest.size() != 1) {
                    throw new Errno(Errno.EINVAL, "usage: um_add_service [-p|--permanent] module[,options]");
                }
                addModule(rest.get(0), perm);
                return "";
            }
            case "del_service" -> {
                if (a.size() != 1) {
                    throw new Errno(Errno.EINVAL, "usage: um_del_service module");
                }
                removeModule(a.get(0));
                return "";
            }
            case "ls_service" -> {
                StringBuilder sb = new StringBuilder();
                for (ModuleInfo m : modules()) {
                    sb.append(m.name()).append(": ").append(m.description()).append('\n');
                }
                return sb.toString();
            }
            case "mov_service" -> {
                if (a.size() != 2 || !a.get(1).matches("[0-9]+")) {
                    throw new Errno(Errno.EINVAL, "usage: um_mov_service module position");
                }
                moveModule(a.get(0), Integer.parseInt(a.get(1)));
                return "";
            }
            case "fsalias" -> {
                if (a.size() == 1) {
                    aliases.remove(a.get(0));
                } else if (a.size() == 2) {
                    aliases.put(a.get(0), a.get(1));
                } else {
                    throw new Errno(Errno.EINVAL, "usage: um_fsalias alias [fstype]");
                }
                return "";
            }
            case "viewname" -> {
                if (a.size() > 1) {
                    throw new Errno(Errno.EINVAL, "usage: viewname [name]");
                }
                if (a.size() == 1) {
                    setViewName(a.get(0));
                }
                return viewName;
            }
            case "lasterror" -> {
                int tgid = org.viewos.core.internal.trace.Procfs.tgid(pid);
                String m = lastErrors.remove(tgid > 0 ? tgid : pid);
                return m == null ? "" : m;
            }
            case "info" -> {
                return Native.LIBC.getpid() + "\n" + viewId + "\n" + viewName + "\n";
            }
            case "mounts" -> {
                StringBuilder sb = new StringBuilder();
                for (MountInfo m : mountList()) {
                    sb.append(m.source()).append(' ').append(m.target()).append(' ').append(m.fstype())
                            .append(' ').append(m.options().isEmpty() ? "defaults" : m.options())
                            .append(" (").append(m.module()).append(")\n");
                }
                return sb.toString();
            }
            case "shutdown" -> {
                int secs = a.isEmpty() ? 0 : parseSeconds(a.get(0));
                shutdown(secs);
                return "";
            }
            default -> throw new Errno(Errno.ENOSYS, "unknown request " + op);
        }
    }

    private static int parseSeconds(String s) throws Errno {
        if (!s.matches("[0-9]{1,6}")) {
            throw new Errno(Errno.EINVAL, "bad number of seconds '" + s + "'");
        }
        return Integer.parseInt(s);
    }

    /** umshutdown: SIGTERM to every process of the view, then SIGKILL to what is left after secs. */
    void shutdown(int secs) {
        for (Tracer t : tracers) {
            t.signalAll(15);
        }
        Thread killer = new Thread(() -> {
            try {
                Thread.sleep(secs * 1000L);
            } catch (InterruptedException e) {
                return;
            }
            for (Tracer t : tracers) {
                t.signalAll(9);
            }
        }, "viewos-shutdown");
        killer.setDaemon(true);
        killer.start();
    }

    // ---- the view ------------------------------------------------------------------------------

    @Override
    public String viewName() {
        return viewName;
    }

    @Override
    public void setViewName(String name) {
        viewName = name == null ? "" : name;
    }

    @Override
    public int run(List<String> argv, Map<String, String> env, File dir, File[] stdio) throws Errno {
        if (argv == null || argv.isEmpty()) {
            throw new Errno(Errno.EINVAL, "no command");
        }
        Map<String, String> environment = env != null ? env : System.getenv();
        List<String> args = new ArrayList<>(argv); // argv[0] as given: sh's exec searches PATH, as a shell would
        String found = lookup(argv.get(0), environment.get("PATH"), dir);
        File f = new File(found);
        if (!f.exists()) {
            throw new Errno(Errno.ENOENT, argv.get(0) + ": command not found");
        }
        if (f.isDirectory() || !f.canExecute()) {
            throw new Errno(Errno.EACCES, argv.get(0) + ": Permission denied");
        }
        Tracer tracer = new Tracer(new Dispatcher(this));
        viewId = running.get() + 1;
        int[] status = {-1};
        Throwable[] failure = {null};
        // ptrace binds tracees to the thread that seized them: one platform thread for the whole view
        Thread t = new Thread(() -> {
            try {
                status[0] = tracer.run(args, environment, dir, stdio, rcFile, keepFds);
            } catch (Throwable e) {
                failure[0] = e;
            }
        }, "viewos-tracer-" + running.incrementAndGet());
        if (!mounts.get().isEmpty()) {
            tracer.requirePaths();
        }
        if (mounts.get().mounts().stream().anyMatch(m -> isStack(m.fs()))) {
            requireSockets(tracer);
        }
        for (Hook h : hooks) {
            requireHook(tracer, h);
        }
        tracers.add(tracer);
        t.start();
        try {
            t.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new Errno(Errno.EINTR, "interrupted while the view runs");
        }
        tracers.remove(tracer);
        if (failure[0] != null) {
            throw new Errno(Errno.EIO, "tracer failed: " + failure[0]);
        }
        int st = status[0];
        if ((st & 0x7f) == 0) {
            return (st >> 8) & 0xff;
        }
        return 128 + (st & 0x7f);
    }

    /** Where {@code name} would be found: as given when it has a slash, else the first PATH hit. */
    static String lookup(String name, String path, File dir) {
        if (name.contains("/")) {
            return name.startsWith("/") || dir == null ? name : new File(dir, name).getPath();
        }
        String candidate = null;
        for (String d : (path == null ? "/usr/local/bin:/usr/bin:/bin" : path).split(":")) {
            File f = new File(d.isEmpty() ? "." : d, name);
            if (f.isFile() && f.canExecute()) {
                return f.getPath();
            }
            if (candidate == null && f.exists()) {
                candidate = f.getPath();
            }
        }
        return candidate != null ? candidate : "/nonexistent/" + name;
    }

    static {
        Native.LIBC.getpid(); // load jnr at activation, not at the first traced call
    }
}
