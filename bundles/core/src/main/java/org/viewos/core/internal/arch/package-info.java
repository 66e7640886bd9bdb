/**
 * Everything that depends on the machine: the syscall table (read from the one table file
 * {@code x86_64.tbl}), the register layout, and the seccomp audit arch. The rest of the core is
 * arch-neutral and speaks of syscall names and argument indexes only.
 */
package org.viewos.core.internal.arch;
