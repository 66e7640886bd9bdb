/**
 * The only package that touches jnr-ffi: libc bound by name ({@link org.viewos.core.internal.ffi.LibC}),
 * and {@link org.viewos.core.internal.ffi.Native}, which turns {@code -1} + errno into a Java error in
 * one place and owns the native scratch memory. Nothing jnr-typed leaves this package.
 */
package org.viewos.core.internal.ffi;
