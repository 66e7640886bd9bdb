package org.viewos.viewfs;

import java.util.List;

/** The {@code except=} paths of a mount, relative to its target: these stay real (hostPath null). */
record Excepts(List<String> rels) {
    static final Excepts NONE = new Excepts(List.of());

    boolean covers(String rel) {
        for (String e : rels) {
            if (e.isEmpty() || rel.equals(e) || rel.startsWith(e + "/")) {
                return true;
            }
        }
        return false;
    }
}
