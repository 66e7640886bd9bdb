package org.viewos.core.api;

/** One mount of a view, as listed by the core (in mount order, oldest first). */
public record MountInfo(String source, String target, String fstype, String options, String module) {
}
