package org.viewos.core.api;

/**
 * What makes a bundle a View-OS module: its name (as given to {@code um_add_service}) and the one-line
 * description {@code um_ls_service} prints. A module publishes this as a DS service; the core keeps the
 * modules in service order and asks them, in that order, about claims that are not mounts.
 */
public interface ViewModule {
    /** Service property naming the module; must equal {@link #name()}. */
    String NAME_PROPERTY = "viewos.module";

    String name();

    String description();

    /**
     * Called before the module is removed. Throw {@code EBUSY} while the module still has mounts or
     * open files; the core refuses the removal then.
     */
    default void checkRemovable() throws Errno {
    }
}
