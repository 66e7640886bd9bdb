/**
 * The registry: {@link org.viewos.core.internal.ViewRegistry} publishes the
 * {@link org.viewos.core.api.SyscallService}, tracks module services as they come and go (service
 * order = the order they arrived in, changed by {@code moveModule}), keeps the mount table, and runs
 * commands on tracer threads.
 */
package org.viewos.core.internal;
