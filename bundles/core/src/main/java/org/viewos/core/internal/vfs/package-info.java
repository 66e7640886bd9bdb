/**
 * The view's picture of the file system: its mount table ({@link org.viewos.core.internal.vfs.MountTable},
 * immutable snapshots swapped atomically, newest mount first) and path canonicalization through it
 * ({@link org.viewos.core.internal.vfs.PathResolver}): symlinks are followed inside the view's picture,
 * {@code ..} is taken after them, and a path is handed to the kernel unchanged unless a mount
 * took part in resolving it.
 */
package org.viewos.core.internal.vfs;
