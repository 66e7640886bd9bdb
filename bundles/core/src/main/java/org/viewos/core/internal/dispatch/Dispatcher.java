package org.viewos.core.internal.dispatch;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.function.IntFunction;
import java.util.function.Supplier;

import org.viewos.core.api.Errno;
import org.viewos.core.api.SyscallHook;
import org.viewos.core.internal.arch.Regs;
import org.viewos.core.internal.arch.SyscallTable;
import org.viewos.core.internal.arch.SyscallTable.Entry;
import org.viewos.core.internal.trace.FsState;
import org.viewos.core.internal.trace.Ptrace;
import org.viewos.core.internal.trace.SeccompFilter;
import org.viewos.core.internal.trace.Tracee;
import org.viewos.core.internal.vfs.MountTable;

/**
 * Serves seccomp stops on the tracer thread: fetches the registers once, lets hooks claim the call
 * (service order), else hands it to its family — {@link PathCalls}, {@link MountCalls},
 * {@link ProcessGuards}, {@link ControlCall} — and turns an {@link Errno} into {@code -errno}
 * here, in one place.
 */
public final class Dispatcher {
    private final SyscallTable table = SyscallTable.x86_64();
    private final ViewState view;
    private final PathCalls paths;
    private final MountCalls mounts;
    private final ProcessGuards guards;
    private final ControlCall control;
    private final VirtualFiles files;
    private final ViewPaths where;
    private final SocketCalls sockets;
    private final int socket, ioctl;
    private final FdCalls fds;
    private Supplier<Set<Integer>> viewTids = Set::of;
    private final int getcwd, fchdir, mount, umount2, ctl;
    /** The calls that can put a symlink where a directory was (see {@link org.viewos.core.internal.vfs.PlainDirs}). */
    private final java.util.BitSet makesLinks = new java.util.BitSet();

    public Dispatcher(ViewState view) {
        this.view = view;
        ViewPaths where = new ViewPaths(view);
        this.where = where;
        this.files = new VirtualFiles(() -> viewTids.get());
        this.fds = new FdCalls(files, table);
        this.paths = new PathCalls(view, where, table, files, fds);
        this.sockets = new SocketCalls(view, where, files, fds, table.number("openat"));
        this.fds.sockets(sockets);
        this.mounts = new MountCalls(view, where, paths, table);
        this.mounts.busy(files::busy);
        this.guards = new ProcessGuards(view, where, table);
        this.control = new ControlCall(view);
        this.getcwd = table.number("getcwd");
        this.fchdir = table.number("fchdir");
        this.mount = table.number("mount");
        this.umount2 = table.number("umount2");
        this.ctl = table.number("viewos_ctl");
        this.socket = table.number("socket");
        this.ioctl = table.number("ioctl");
        this.control.mstack(sockets::mstack);
        for (String n : List.of("symlink", "symlinkat", "rename", "renameat", "renameat2", "link", "linkat")) {
            makesLinks.set(this.table.number(n));
        }
    }

    /** Whether new programs must do without the vDSO (a hook serves the clock). */
    public boolean needsSyscallsForTime() {
        return view.needsSyscallsForTime();
    }

    /** Calls the dispatcher must see even in a view with no mount. */
    public List<Integer> alwaysTracedSyscalls() {
        List<Integer> l = new ArrayList<>(List.of(ctl, mount, umount2));
        for (Entry e : table.entries()) {
            if (e.kind() == SyscallTable.Kind.GUARD && !e.conditional()) {
                l.add(e.number()); // conditional guards: the filter checks their arguments itself
            }
        }
        return l;
    }

    /** um_attach's worker (the tracer): pid → null on success, else "errno message". */
    public void attacher(IntFunction<String> attach) {
        control.attacher(attach);
    }

    /** Where the dispatcher learns which threads the view has (for signals to a process group). */
    public void attach(Supplier<Set<Integer>> viewTids) {
        guards.viewTids(viewTids);
        this.viewTids = viewTids;
    }

    /** How the tracer makes a process's filter watch one more descriptor number (at a syscall entry). */
    public void fdCover(java.util.function.BiPredicate<Tracee, Integer> cover) {
        fds.cover(cover);
    }

    private java.util.function.IntSupplier watchdog = () -> 0;

    /** Where the dispatcher learns that the watchdog interrupted a module call (EINTR/EIO), else 0. */
    public void watchdog(java.util.function.IntSupplier w) {
        this.watchdog = w;
    }

    /** How the tracer runs system calls in a tracee stopped at a seccomp stop (see {@link Injector}). */
    public void injector(Injector injector) {
        paths.injector(injector);
    }

    /** How the tracer covers a descriptor number at a syscall-exit stop (a number nobody predicted). */
    public void fdCoverAtExit(java.util.function.BiPredicate<Tracee, Integer> cover) {
        fds.coverAtExit(cover);
    }

    /** Whether an open virtual file of mount {@code m} is still held by a process of the view. */
    public boolean busy(org.viewos.core.internal.vfs.Mount m) {
        return files.busy(m);
    }

    /** The view ended: closes what its processes left open. */
    public void ended() {
        files.closeAll();
    }

    /** Handles a seccomp stop; returns the ptrace request to resume with. */
    public int onSeccomp(Tracee t, Ptrace p) {
        return onSeccomp(t, p, null);
    }

    /** As {@link #onSeccomp(Tracee, Ptrace)}, with the registers when the tracer has read them already (or null). */
    public int onSeccomp(Tracee t, Ptrace p, Regs known) {
        MountTable table = view.mounts();
        FsState fs = t.fs();
        if (table.isEmpty() && (fs == null || fs.viewCwd() == null)) {
            long data = p.eventMessage(t.tid()); // asked only here: one more ptrace call per stop
            if (data != SeccompFilter.DATA_ALWAYS && data != SeccompFilter.DATA_VFD) {
                return Ptrace.PTRACE_CONT; // nothing in this view can change the call's meaning
            }
        }
        Regs regs = known != null ? known : p.getRegs(t.tid());
        if (regs == null) {
            return Ptrace.PTRACE_CONT;
        }
        Entry e = this.table.get(regs.syscall());
        if (e == null) {
            return Ptrace.PTRACE_CONT;
        }
        Call c = new Call(t, p, regs, e);
        if (makesLinks.get(e.number())) {
            // forgotten at the entry and again at the exit (a walk in between may have seen the old
            // state), whoever serves the call: a hook, a module or the kernel
            table.plainDirs().forget();
            t.atExit(r -> {
                view.mounts().plainDirs().forget();
                return r;
            });
        }
        try {
            List<SyscallHook> hooks = view.hooksFor(e.name());
            if (!hooks.isEmpty()) {
                HookedCall h = new HookedCall(t, p, regs, e.name(),
                        path -> where.resolve(t, path, view.mounts(), true).hostPath());
                if (h.run(hooks)) {
                    return Ptrace.PTRACE_CONT;
                }
                if (h.regs() != regs) {
                    c = new Call(t, p, h.regs(), e); // a hook changed arguments: go on from there
                }
            }
            if (fds.serve(c)) {
                return Ptrace.PTRACE_CONT;
            }
            if (e.number() == ioctl && sockets.interfaceIoctl(c)) {
                return Ptrace.PTRACE_CONT;
            }
            if (e.kind() == SyscallTable.Kind.GUARD) {
                guards.guard(c, e);
            } else if (e.number() == socket) {
                sockets.socket(c);
            } else if (e.number() == ctl) {
                control.serve(c);
            } else if (e.number() == mount) {
                mounts.mount(c, table);
            } else if (e.number() == umount2) {
                mounts.umount(c, table);
            } else if (e.number() == getcwd) {
                paths.getcwd(c);
            } else if (e.number() == fchdir) {
                paths.fchdir(c);
            } else if (e.kind() == SyscallTable.Kind.PATH) {
                paths.paths(c, e, table);
            }
        } catch (Errno err) {
            int dog = watchdog.getAsInt();
            c.finish(-(dog != 0 ? dog : err.code()));
            return Ptrace.PTRACE_CONT;
        } catch (RuntimeException err) {
            int dog = watchdog.getAsInt();
            if (dog == 0) {
                throw err;
            }
            c.finish(-dog); // a module interrupted by the watchdog
            return Ptrace.PTRACE_CONT;
        }
        int dog = watchdog.getAsInt();
        if (dog != 0) {
            c.finish(-dog); // the module returned after all, but too late: the call fails
        }
        return Ptrace.PTRACE_CONT;
    }
}
