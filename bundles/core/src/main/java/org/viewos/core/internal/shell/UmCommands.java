package org.viewos.core.internal.shell;

import java.io.File;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;

import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.viewos.core.api.Errno;
import org.viewos.core.api.ModuleInfo;
import org.viewos.core.api.MountInfo;
import org.viewos.core.api.SyscallService;
import org.viewos.core.internal.ViewRegistry;

/**
 * Gogo commands of scope {@code um}: the same operations as the in-view commands, for a shell
 * attached from outside. A module is a bundle, so {@code um:add_service} is installing and starting
 * it and {@code um:del_service} uninstalling it; the ordinary Felix commands act on the same bundles.
 */
@Component(service = UmCommands.class, property = {"osgi.command.scope=um",
        "osgi.command.function=add_service", "osgi.command.function=del_service",
        "osgi.command.function=ls_service", "osgi.command.function=mov_service",
        "osgi.command.function=mount", "osgi.command.function=umount", "osgi.command.function=mounts",
        "osgi.command.function=viewname", "osgi.command.function=views", "osgi.command.function=ps"})
public final class UmCommands {
    @Reference
    private SyscallService core;

    public String add_service(String spec) throws Errno {
        core.addModule(spec, false);
        return "added " + spec.split(",", 2)[0];
    }

    public String add_service(String flag, String spec) throws Errno {
        if (!flag.equals("-p") && !flag.equals("--permanent")) {
            throw new Errno(Errno.EINVAL, "usage: um:add_service [-p|--permanent] module[,options]");
        }
        core.addModule(spec, true);
        return "added " + spec.split(",", 2)[0] + " (permanent)";
    }

    public String del_service(String name) throws Errno {
        core.removeModule(name);
        return "removed " + name;
    }

    public String ls_service() {
        StringBuilder sb = new StringBuilder();
        for (ModuleInfo m : core.modules()) {
            sb.append(m.name()).append(": ").append(m.description()).append(m.permanent() ? " [permanent]" : "")
                    .append('\n');
        }
        return sb.toString().stripTrailing();
    }

    public String mov_service(String name, int position) throws Errno {
        core.moveModule(name, position);
        return ls_service();
    }

    public String mount(String fstype, String source, String target) throws Errno {
        core.mount(source, target, fstype, "");
        return mounts();
    }

    public String mount(String fstype, String options, String source, String target) throws Errno {
        core.mount(source, target, fstype, options);
        return mounts();
    }

    public String umount(String target) throws Errno {
        core.umount(target);
        return mounts();
    }

    public String mounts() {
        StringBuilder sb = new StringBuilder();
        for (MountInfo m : core.mountList()) {
            sb.append(m.source()).append(" on ").append(m.target()).append(" type ").append(m.fstype())
                    .append(" (").append(m.options().isEmpty() ? "defaults" : m.options()).append(") [")
                    .append(m.module()).append("]\n");
        }
        return sb.toString().stripTrailing();
    }

    public String viewname() {
        return core.viewName();
    }

    public String viewname(String name) {
        core.setViewName(name);
        return name;
    }

    /** The views of this user on this machine: one line each, pid and name. */
    public String views() {
        StringBuilder sb = new StringBuilder();
        for (ShellServer.ViewEntry v : ShellServer.liveViews()) {
            sb.append(v.pid()).append(' ').append(v.name().isEmpty() ? "-" : v.name()).append('\n');
        }
        return sb.toString().stripTrailing();
    }

    /** The traced processes of this view: tid and command line. */
    public String ps() {
        List<String> lines = new ArrayList<>();
        if (core instanceof ViewRegistry r) {
            for (int tid : r.tids()) {
                String cmd;
                try {
                    cmd = new String(Files.readAllBytes(new File("/proc/" + tid + "/cmdline").toPath()))
                            .replace('\0', ' ').strip();
                } catch (java.io.IOException e) {
                    cmd = "?";
                }
                lines.add(tid + " " + cmd);
            }
        }
        lines.sort(null);
        return String.join("\n", lines);
    }
}
