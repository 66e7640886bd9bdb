/**
 * Spawning, seizing and the ptrace event loop.
 *
 * <p>Thread model: ptrace is per thread, so every ptrace call for a tracee is made by the one
 * platform thread that seized it (a {@link org.viewos.core.internal.trace.Tracer} runs its whole
 * view on one such thread; never a virtual thread). The tracer waits with {@code __WNOTHREAD}, so it
 * sees only its own tracees and never reaps another JVM thread's child. Because the tracer seizes
 * with {@code PTRACE_O_EXITKILL}, the traced processes die with the tracer thread: a view never
 * outlives its daemon.
 *
 * <p>Life of a call: the seccomp filter (installed into the first process by
 * {@link org.viewos.core.internal.trace.SeccompFilter} and inherited by every descendant) stops
 * only the calls the core translates; {@link org.viewos.core.internal.trace.Tracer} hands such a
 * stop to the {@link org.viewos.core.internal.dispatch.Dispatcher}, which fetches the registers
 * once, decides, pushes them once, and says how to resume.
 */
package org.viewos.core.internal.trace;
