/**
 * What happens at a seccomp stop: the {@link org.viewos.core.internal.dispatch.Dispatcher} fetches
 * the registers once, reads the call's path arguments, canonicalizes them through the view's mounts,
 * and either lets the call run unchanged, rewrites its path arguments to where the files really are,
 * or fails it with an errno (a module's {@link org.viewos.core.api.Errno}, converted here and only
 * here), then pushes the registers once.
 */
package org.viewos.core.internal.dispatch;
