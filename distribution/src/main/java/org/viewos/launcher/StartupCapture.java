package org.viewos.launcher;

import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * While the framework starts, whatever Java code prints on System.out/System.err (Felix, SCR's
 * multi-line stack traces, bundle activators) is kept here instead of reaching the terminal. On a
 * failed start the launcher condenses it into its one error line; on success it is dropped (or
 * replayed to stderr with -Dviewos.debug=true).
 */
final class StartupCapture extends OutputStream {
    private static final int LIMIT = 256 * 1024;
    private final StringBuilder text = new StringBuilder();
    private volatile boolean coreError;

    PrintStream stream() {
        return new PrintStream(this, true, StandardCharsets.UTF_8);
    }

    @Override
    public synchronized void write(int b) {
        if (text.length() < LIMIT) {
            text.append((char) (b & 0xff));
        }
    }

    @Override
    public synchronized void write(byte[] b, int off, int len) {
        if (text.length() < LIMIT) {
            text.append(new String(b, off, Math.min(len, LIMIT - text.length()), StandardCharsets.ISO_8859_1));
        }
        if (!coreError) {
            String s = new String(b, off, len, StandardCharsets.ISO_8859_1);
            if (s.contains("ERROR") && s.contains(Main.CORE_BSN)) {
                coreError = true;
            }
        }
    }

    /** Whether SCR or Felix reported an error about the core bundle. */
    boolean coreError() {
        return coreError;
    }

    synchronized String text() {
        return new String(text.toString().getBytes(StandardCharsets.ISO_8859_1), StandardCharsets.UTF_8);
    }

    /**
     * The error lines (SCR's {@code ERROR : ...} and Felix's {@code viewos: felix error: ...}), each with
     * the exception line that follows it, distinct, joined by "; ", at most {@code max} characters.
     */
    String summary(int max) {
        String[] lines = text().split("\\r?\\n");
        Set<String> out = new LinkedHashSet<>();
        for (int i = 0; i < lines.length; i++) {
            String l = lines[i].trim();
            if (l.startsWith("ERROR") || l.startsWith("viewos: felix error:")) {
                String s = l.replaceFirst("^viewos: felix error: ", "felix: ");
                if (i + 1 < lines.length) {
                    String next = lines[i + 1].trim();
                    if (!next.isEmpty() && !next.startsWith("at ") && !s.contains(next)) {
                        s += " (" + next + ")";
                    }
                }
                out.add(s);
            }
        }
        List<String> list = new ArrayList<>(out);
        String s = String.join("; ", list);
        return s.length() <= max ? s : s.substring(0, max - 3) + "...";
    }
}
