/**
 * The view seen from outside: {@link org.viewos.core.internal.shell.UmCommands} offers the in-view
 * operations as Gogo commands ({@code um:add_service}, {@code um:ls_service}, ...), and
 * {@link org.viewos.core.internal.shell.ShellServer} serves Gogo sessions on a UNIX socket that only
 * the view's owner can open ({@code viewos shell NAME}).
 */
package org.viewos.core.internal.shell;
