package org.viewos.umbinfmt;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

import org.osgi.service.component.annotations.Component;
import org.viewos.core.api.Errno;
import org.viewos.core.api.FileSystem;
import org.viewos.core.api.FileSystemType;
import org.viewos.core.api.SyscallCall;
import org.viewos.core.api.SyscallHook;
import org.viewos.core.api.ViewModule;

/**
 * umbinfmt: a binfmt_misc of the view's own. {@code viewmount -t umbinfmt [-o load[=DIR]] none
 * /proc/sys/fs/binfmt_misc}, then rules are written to {@code register} as for Linux; an execve in
 * the view of a file a rule takes runs the rule's interpreter instead, with the argv Linux builds
 * (interpreter, file name, the original argv[0] when flag P is set, the other arguments). No root
 * and no host binfmt_misc are involved: foreign-architecture programs run through qemu-user.
 */
@Component(service = {ViewModule.class, FileSystemType.class, SyscallHook.class}, property = {
        ViewModule.NAME_PROPERTY + "=umbinfmt", FileSystemType.DIRECT_PROPERTY + "=true",
        SyscallHook.SYSCALLS_PROPERTY + "=execve", SyscallHook.SYSCALLS_PROPERTY + "=execveat"})
public final class UmBinfmt implements ViewModule, FileSystemType, SyscallHook {
    /** Linux's BINPRM_MAX_RECURSION: interpreters of interpreters. */
    private static final int MAX_DEPTH = 4;
    private static final int ARG_MAX_POINTERS = 1 << 17;
    private static final int AT_FDCWD = -100;
    private static final String DEBIAN_TABLE = "/usr/lib/binfmt.d";

    /** The mounts, the most recent first. */
    private final List<BinfmtFs> mounts = new CopyOnWriteArrayList<>();

    @Override
    public String name() {
        return "umbinfmt";
    }

    @Override
    public String description() {
        return "binfmt_misc of the view: programs run through interpreters (e.g. qemu-user)";
    }

    @Override
    public boolean handles(String fstype) {
        return fstype.equals("umbinfmt");
    }

    @Override
    public FileSystem mount(String source, String target, String fstype, Map<String, String> options) throws Errno {
        for (String o : options.keySet()) {
            if (!o.equals("load") && !o.equals("ro") && !o.equals("rw")) {
                throw new Errno(Errno.EINVAL, "umbinfmt: unknown option " + o);
            }
        }
        String prefix = source.isEmpty() || source.equals("none") || source.equals("/") ? null : source;
        if (prefix != null && !prefix.startsWith("/")) {
            throw new Errno(Errno.EINVAL, "umbinfmt: source must be none, / or a directory, not " + source);
        }
        BinfmtFs fs = new BinfmtFs(prefix) {
            @Override
            public void unmount() {
                mounts.remove(this);
                super.unmount();
            }
        };
        if (options.containsKey("load")) {
            String dir = options.get("load").isEmpty() ? DEBIAN_TABLE : options.get("load");
            try {
                fs.load(Path.of(dir));
            } catch (Errno e) {
                fs.unmount();
                throw e;
            }
        }
        mounts.add(0, fs);
        return fs;
    }

    @Override
    public long enter(SyscallCall call) throws Errno {
        if (mounts.isEmpty()) {
            return PASS;
        }
        boolean at = call.name().equals("execveat");
        int pathArg = at ? 1 : 0, argvArg = at ? 2 : 1;
        if (at && (int) call.arg(0) != AT_FDCWD) {
            return PASS; // relative to a directory fd, or fexecve: left to the kernel
        }
        String path = readString(call, call.arg(pathArg));
        if (path == null || path.isEmpty()) {
            return PASS;
        }
        String file = path;
        List<Object> argv = null; // String: a new argument, Long: a pointer to one of the caller's
        String interpreter = null;
        for (int depth = 0; depth < MAX_DEPTH; depth++) {
            String host;
            try {
                host = call.hostPath(file);
            } catch (Errno e) {
                break; // the kernel will say what is wrong with it
            }
            Entry m = match(file, host);
            if (m == null) {
                // a #! script whose interpreter a rule takes: the kernel's script handler would
                // hand the interpreter to binfmt_misc, which here is us, so do its step too
                String[] bang = shebang(host);
                if (bang == null || bang[0].isEmpty()) {
                    break;
                }
                String ih;
                try {
                    ih = call.hostPath(bang[0]);
                } catch (Errno e) {
                    break;
                }
                if (match(bang[0], ih) == null) {
                    break;
                }
                if (argv == null) {
                    argv = new ArrayList<>(readPointers(call, call.arg(argvArg)));
                }
                if (!argv.isEmpty()) {
                    argv.remove(0);
                }
                argv.add(0, file);
                if (bang[1] != null) {
                    argv.add(0, bang[1]);
                }
                argv.add(0, bang[0]);
                interpreter = bang[0];
                file = bang[0];
                continue;
            }
            String interpHost;
            try {
                interpHost = call.hostPath(m.interpreter);
            } catch (Errno e) {
                interpHost = null;
            }
            if (interpHost == null || !Files.isRegularFile(Path.of(interpHost))) {
                throw new Errno(Errno.ENOENT, "binfmt " + m.name + ": no interpreter " + m.interpreter);
            }
            if (argv == null) {
                argv = new ArrayList<>(readPointers(call, call.arg(argvArg)));
            }
            // as Linux's load_misc_binary: argv[0] goes unless P, then the file name and the
            // interpreter go in front; the interpreter is the file of the next round
            if (!m.preserveArgv0() && !argv.isEmpty()) {
                argv.remove(0);
            }
            argv.add(0, file);
            argv.add(0, m.interpreter);
            interpreter = m.interpreter;
            file = m.interpreter;
        }
        if (interpreter == null) {
            return PASS;
        }
        ByteBuffer arr = ByteBuffer.allocate(8 * (argv.size() + 1)).order(ByteOrder.LITTLE_ENDIAN);
        for (Object o : argv) {
            arr.putLong(o instanceof Long ptr ? ptr : call.push(cstring((String) o)));
        }
        arr.putLong(0);
        long argvAddr = call.push(arr.array());
        long interpAddr = call.push(cstring(interpreter));
        call.setArg(pathArg, interpAddr);
        call.setArg(argvArg, argvAddr);
        return PASS;
    }

    private Entry match(String viewPath, String host) {
        byte[] head = new byte[Entry.BUF_SIZE];
        int n = -1;
        for (BinfmtFs fs : mounts) {
            if (!fs.enabled || (fs.prefix != null && !host.startsWith(fs.prefix.endsWith("/") ? fs.prefix : fs.prefix + "/"))) {
                continue;
            }
            for (Entry e : fs.entries) {
                if (!e.enabled) {
                    continue;
                }
                if (e.magicType && n < 0) {
                    n = readHead(host, head);
                    if (n < 0) {
                        return null;
                    }
                }
                if (e.matches(viewPath, head, Math.max(n, 0))) {
                    return e;
                }
            }
        }
        return null;
    }

    /** {interpreter, optional argument} of a {@code #!} line, as Linux's binfmt_script reads it. */
    private static String[] shebang(String host) {
        byte[] head = new byte[Entry.BUF_SIZE];
        int n = readHead(host, head);
        if (n < 2 || head[0] != '#' || head[1] != '!') {
            return null;
        }
        int end = 2;
        while (end < n && head[end] != '\n') {
            end++;
        }
        String line = new String(head, 2, end - 2, StandardCharsets.ISO_8859_1).strip();
        int sp = line.indexOf(' ') >= 0 ? line.indexOf(' ') : line.indexOf('\t');
        if (sp < 0) {
            return new String[] {line, null};
        }
        String arg = line.substring(sp + 1).strip();
        return new String[] {line.substring(0, sp), arg.isEmpty() ? null : arg};
    }

    private static int readHead(String host, byte[] head) {
        Path p = Path.of(host);
        if (!Files.isRegularFile(p)) {
            return -1;
        }
        try (InputStream in = Files.newInputStream(p)) {
            return Math.max(in.readNBytes(head, 0, head.length), 0);
        } catch (IOException e) {
            return -1; // unreadable: the kernel answers the execve itself
        }
    }

    private static byte[] cstring(String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        return java.util.Arrays.copyOf(b, b.length + 1);
    }

    /** A NUL-terminated string of the caller, read up to page ends so no unmapped page is touched. */
    private static String readString(SyscallCall call, long addr) throws Errno {
        if (addr == 0) {
            return null;
        }
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        long at = addr;
        while (out.size() < 4096) {
            int len = (int) Math.min(256, (((at | 4095) + 1) - at));
            byte[] b = call.read(at, len);
            for (int i = 0; i < b.length; i++) {
                if (b[i] == 0) {
                    out.write(b, 0, i);
                    return out.toString(StandardCharsets.UTF_8);
                }
            }
            out.write(b, 0, b.length);
            at += len;
        }
        throw new Errno(Errno.ENAMETOOLONG);
    }

    private static List<Long> readPointers(SyscallCall call, long addr) throws Errno {
        List<Long> l = new ArrayList<>();
        if (addr == 0) {
            return l;
        }
        for (long at = addr; l.size() < ARG_MAX_POINTERS; at += 8) {
            ByteBuffer b = ByteBuffer.wrap(call.read(at, 8)).order(ByteOrder.LITTLE_ENDIAN);
            long p = b.getLong();
            if (p == 0) {
                return l;
            }
            l.add(p);
        }
        throw new Errno(Errno.E2BIG);
    }
}
