package org.viewos.core.api;

/** A loaded module as {@code um_ls_service} lists it. */
public record ModuleInfo(String name, String description, boolean permanent) {
}
