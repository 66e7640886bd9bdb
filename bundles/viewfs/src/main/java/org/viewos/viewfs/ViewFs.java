package org.viewos.viewfs;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.viewos.core.api.Errno;
import org.viewos.core.api.ModuleDirs;
import org.viewos.core.api.FileSystem;
import org.viewos.core.api.FileSystemType;
import org.viewos.core.api.ViewModule;

/**
 * umview's viewfs: {@code viewmount -t viewfs -o MODE[,except=PATH][,wok][,ro] SRC TARGET} with MODE
 * one of {@code move} (default), {@code merge}, {@code cow}, {@code mincow}.
 *
 * <p>Options: at most one mode; {@code except=PATH} (repeatable where the core keeps repeats; several
 * paths may also be joined with {@code ':'}), relative to TARGET or an absolute view path below it:
 * such paths stay real; {@code wok} is accepted and has no effect (every writable mode already
 * writes); {@code ro} (from {@code viewmount -r}) refuses changes with EROFS; {@code vstat}
 * (virtual ownership) is not implemented: EINVAL.
 *
 * <p>Checks, all before anything is made: SRC must be an absolute, existing host path (ENOENT);
 * for the union modes SRC and TARGET must be directories (ENOTDIR) and neither may contain the other
 * (EINVAL: a union containing its own store would list and copy itself). {@code move} allows nesting:
 * the module maps paths directly, nothing is resolved twice, so {@code --root DIR} (a move of DIR
 * over {@code /}) works.
 */
@Component(service = {ViewModule.class, FileSystemType.class},
        property = {ViewModule.NAME_PROPERTY + "=viewfs", "viewos.fstype=viewfs", FileSystemType.DIRECT_PROPERTY + "=true"})
public final class ViewFs implements ViewModule, FileSystemType {
    private final AtomicInteger mounts = new AtomicInteger();
    private final List<ShadowTree> shadows = new ArrayList<>();
    private volatile String cacheDir;

    @Override
    public String name() {
        return "viewfs";
    }

    @Override
    public String description() {
        return "filesystem patchwork";
    }

    @Override
    public boolean handles(String fstype) {
        // "bind" is the generic SRC-over-DIR type unreal serves too: service order picks the module
        return fstype.equals("viewfs") || fstype.equals("bind");
    }

    @Override
    public FileSystem mount(String source, String target, String fstype, Map<String, String> options)
            throws Errno {
        Mode mode = null;
        List<String> except = new ArrayList<>();
        boolean readOnly = false;
        for (Map.Entry<String, String> o : options.entrySet()) {
            String k = o.getKey();
            String v = o.getValue();
            Mode m = Mode.of(k);
            if (m != null) {
                if (!v.isEmpty()) {
                    throw new Errno(Errno.EINVAL, "viewfs: mode " + k + " takes no value");
                }
                if (mode != null) {
                    throw new Errno(Errno.EINVAL, "viewfs: two modes given (" + mode.name().toLowerCase() + ", " + k + ")");
                }
                mode = m;
                continue;
            }
            switch (k) {
                case "except" -> {
                    if (v.isEmpty()) {
                        throw new Errno(Errno.EINVAL, "viewfs: except= needs a path");
                    }
                    for (String p : v.split(":")) {
                        except.add(exceptRel(target, p));
                    }
                }
                case "wok", "rw" -> {
                    if (!v.isEmpty()) {
                        throw new Errno(Errno.EINVAL, "viewfs: " + k + " takes no value");
                    }
                }
                case "ro" -> readOnly = true;
                case "vstat" -> throw new Errno(Errno.EINVAL,
                        "viewfs: vstat (virtual chmod/chown) is not supported by View-OS/J");
                default -> throw new Errno(Errno.EINVAL, "viewfs: unknown option '" + k + "'"
                        + " (modes: move, merge, cow, mincow; options: except=PATH, wok, ro)");
            }
        }
        if (fstype.equals("bind") && mode != null && mode != Mode.MOVE) {
            throw new Errno(Errno.EINVAL, "viewfs: type bind is a move; use -t viewfs -o " + mode.name().toLowerCase());
        }
        if (mode == null) {
            mode = Mode.MOVE;
        }
        String src = checkSource(source, mode);
        if (mode == Mode.MOVE) {
            return new MoveFs(src, new Excepts(List.copyOf(except)), readOnly);
        }
        Host.Stat ts = Host.stat(target);
        if (ts == null) {
            throw new Errno(Errno.ENOENT, "viewfs: target " + target + " does not exist");
        }
        if (!ts.isDir()) {
            throw new Errno(Errno.ENOTDIR, "viewfs " + mode.name().toLowerCase() + ": target " + target + " is not a directory");
        }
        if (src.equals(target) || Host.below(src, target) != null || Host.below(target, src) != null) {
            throw new Errno(Errno.EINVAL, "viewfs " + mode.name().toLowerCase() + ": source " + src
                    + " and target " + target + " must not contain each other");
        }
        ShadowTree shadow = new ShadowTree(cacheDir() + "/m" + mounts.incrementAndGet());
        synchronized (shadows) {
            shadows.add(shadow);
        }
        return new UnionFs(mode, src, target, new Excepts(List.copyOf(except)), readOnly, shadow);
    }

    private static String checkSource(String source, Mode mode) throws Errno {
        if (source == null || source.isEmpty() || source.equals("none")) {
            throw new Errno(Errno.EINVAL, "viewfs needs a source path");
        }
        if (!source.startsWith("/")) {
            // the core hands the source over as typed, not resolved against the caller's cwd
            throw new Errno(Errno.EINVAL, "viewfs: source must be an absolute path: " + source);
        }
        String real;
        try {
            real = Host.iso(Host.path(source).toRealPath());
        } catch (IOException | RuntimeException e) {
            throw new Errno(Errno.ENOENT, "viewfs: source " + source + " does not exist");
        }
        if (mode != Mode.MOVE && !Host.stat(real).isDir()) {
            throw new Errno(Errno.ENOTDIR, "viewfs " + mode.name().toLowerCase() + ": source " + source + " is not a directory");
        }
        return real;
    }

    private static String exceptRel(String target, String p) throws Errno {
        if (p.isEmpty()) {
            throw new Errno(Errno.EINVAL, "viewfs: empty except= path");
        }
        String rel = p.startsWith("/") ? Host.below(target, normalize(p)) : normalize("/" + p).substring(1);
        if (rel == null) {
            throw new Errno(Errno.EINVAL, "viewfs: except=" + p + " is not below the mount point " + target);
        }
        if (p.startsWith("/") ? false : p.contains("..")) {
            throw new Errno(Errno.EINVAL, "viewfs: except=" + p + " must not contain '..'");
        }
        return rel;
    }

    private static String normalize(String abs) {
        List<String> st = new ArrayList<>();
        for (String c : abs.split("/")) {
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

    /** The daemon's private cache (see {@link ModuleDirs}), made on first use. */
    private synchronized String cacheDir() throws Errno {
        if (cacheDir == null) {
            try {
                cacheDir = Host.iso(ModuleDirs.create("viewfs"));
            } catch (IOException e) {
                throw Host.errno(e, "its private cache");
            }
        }
        return cacheDir;
    }

    @Deactivate
    void deactivate() {
        synchronized (shadows) {
            shadows.forEach(ShadowTree::delete);
            shadows.clear();
        }
        String c = cacheDir;
        if (c != null) {
            Host.deleteTree(c);
        }
    }
}
