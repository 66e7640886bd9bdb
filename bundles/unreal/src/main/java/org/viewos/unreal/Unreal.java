package org.viewos.unreal;

import java.util.Map;

import org.osgi.service.component.annotations.Component;
import org.viewos.core.api.Errno;
import org.viewos.core.api.FileSystem;
import org.viewos.core.api.FileSystemType;
import org.viewos.core.api.ViewModule;

/**
 * umview's {@code unreal} test module: while loaded, {@code /unreal/X} shows the host's {@code /X}
 * (and {@code /unreal} itself the host's root). It proves the module SPI end to end: a path under
 * the mount is canonicalized by the core, mapped here, and the traced call runs on the host path.
 * Also mountable elsewhere with {@code viewmount -t unreal SRC DIR} (DIR then shows SRC).
 */
@Component(service = {ViewModule.class, FileSystemType.class}, property = {ViewModule.NAME_PROPERTY + "=unreal",
        FileSystemType.AUTOMOUNT_PROPERTY + "=/ /unreal", "viewos.fstype=unreal", FileSystemType.DIRECT_PROPERTY + "=true"})
public final class Unreal implements ViewModule, FileSystemType {
    @Override
    public String name() {
        return "unreal";
    }

    @Override
    public String description() {
        return "Extra Mega Ultra Light Unreal File System (/unreal shows /)";
    }

    @Override
    public boolean handles(String fstype) {
        // "bind" is the generic SRC-over-DIR type viewfs serves too: service order picks the module
        return fstype.equals("unreal") || fstype.equals("bind");
    }

    @Override
    public FileSystem mount(String source, String target, String fstype, Map<String, String> options)
            throws Errno {
        if (!options.isEmpty()) {
            throw new Errno(Errno.EINVAL, "unreal takes no options");
        }
        if (source == null || !source.startsWith("/")) {
            throw new Errno(Errno.EINVAL, "unreal needs an absolute source directory");
        }
        String root = source.equals("/") ? "" : source;
        return (relative, access) -> root + "/" + relative;
    }
}
