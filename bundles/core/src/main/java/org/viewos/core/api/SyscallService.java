package org.viewos.core.api;

import java.io.File;
import java.util.List;
import java.util.Map;

/**
 * The registry the tracing core publishes: one per daemon, hence one per view. It keeps the modules
 * in service order, the view's mount table, and starts traced commands.
 */
public interface SyscallService {
    /** The modules currently loaded, in service order (position 1 first). */
    List<ModuleInfo> modules();

    /**
     * Loads a module, as {@code um_add_service} does: installs and starts the bundle
     * {@code modules/NAME.jar} of the distribution and waits for its {@link ViewModule}.
     *
     * @param spec      {@code name} or {@code name,options}
     * @param permanent a permanent module can't be removed
     * @throws Errno EEXIST when loaded already, ENOENT when there is no such module, EINVAL for a bad name
     */
    void addModule(String spec, boolean permanent) throws Errno;

    /**
     * Removes a module, as {@code um_del_service} does (uninstalls its bundle).
     *
     * @throws Errno ENOENT unknown, EPERM permanent, EBUSY while mounts it serves exist
     */
    void removeModule(String name) throws Errno;

    /**
     * Moves a loaded module to a 1-based position in the service order.
     *
     * @throws Errno ENOENT for an unknown module, EINVAL for a position out of range
     */
    void moveModule(String name, int position) throws Errno;

    /**
     * Mounts a file system of a loaded module, as {@code mount(2)} in the view would.
     *
     * @throws Errno ENODEV when no loaded module handles {@code fstype}; whatever the module throws
     */
    void mount(String source, String target, String fstype, String options) throws Errno;

    /** Removes the most recent mount at {@code target}. @throws Errno EINVAL if none, EBUSY if in use */
    void umount(String target) throws Errno;

    /** The view's mounts, oldest first. */
    List<MountInfo> mountList();

    /** The view's name ({@code viewname}), never null. */
    String viewName();

    void setViewName(String name);

    /**
     * Runs a command in this view and waits for the view's last process to end.
     *
     * @param argv the command and its arguments; argv[0] is looked up in PATH
     * @param env  the environment of the command; null for the daemon's own
     * @param dir  the working directory; null for the daemon's own
     * @param stdio three file paths for fd 0, 1 and 2 (null entries, or a null array, inherit the
     *              daemon's)
     * @return the command's exit status, or 128+signal when a signal ended it
     * @throws Errno ENOENT when the command is not found, EACCES when it is not executable
     */
    int run(List<String> argv, Map<String, String> env, File dir, File[] stdio) throws Errno;
}
