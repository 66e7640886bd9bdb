/**
 * The View-OS/J module SPI and the {@link org.viewos.core.api.SyscallService} registry.
 *
 * <p>Modules are Declarative Services components in their own bundles. A module publishes a
 * {@link org.viewos.core.api.ViewModule} (its name and description, as {@code um_ls_service} prints
 * them) and one or more capability services, such as a {@link org.viewos.core.api.FileSystemType}.
 * Nothing here is jnr-typed: modules are pure Java.
 */
@Export
@Version("0.1.0")
package org.viewos.core.api;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
