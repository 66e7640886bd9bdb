/**
 * umview's viewfs ("filesystem patchwork") for View-OS/J: {@code viewmount -t viewfs -o MODE SRC TARGET}.
 *
 * <ul>
 * <li>{@link org.viewos.viewfs.MoveFs} ({@code move}, the default): TARGET shows SRC; hiding is a
 *     move of an empty directory over a path.</li>
 * <li>{@link org.viewos.viewfs.UnionFs} ({@code merge}, {@code cow}, {@code mincow}): SRC is the
 *     upper layer, TARGET the lower one; see {@link org.viewos.viewfs.Whiteouts} for the format of
 *     deletions and {@link org.viewos.viewfs.ShadowTree} for how merged directory listings reach
 *     the traced program (the core does not translate getdents64).</li>
 * </ul>
 * The module never touches the traced process: it only answers, per canonical path, which host
 * file the kernel should use, creating copies, whiteouts and shadow listings on the host first.
 * Paths cross the SPI as ISO-8859-1 strings (one char per byte); {@link org.viewos.viewfs.Host}
 * converts them for java.nio.
 */
package org.viewos.viewfs;
