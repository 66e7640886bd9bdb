package org.viewos.core.internal.dispatch;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.IntFunction;
import java.util.logging.Level;
import java.util.logging.Logger;

import org.viewos.core.api.Errno;
import org.viewos.core.internal.arch.Regs;
import org.viewos.core.internal.ffi.Scratch;

/**
 * viewos_ctl(request, length, reply, size), the call of the in-view commands: NUL-separated words
 * in, text out; returns the text's length, or fails with the errno and the reason in the reply.
 * {@code attach} (um_attach) is served by the tracer; everything else by the view.
 */
final class ControlCall {
    private static final Logger LOG = Logger.getLogger(ControlCall.class.getName());
    private static final int CTL_MAX = 64 * 1024;

    private final ViewState view;
    private volatile IntFunction<String> attach = pid -> "38 no tracer";
    /** mstack: served by the network calls (they know the caller's process). */
    private volatile MStack mstack = (c, argv) -> {
        throw new Errno(Errno.ENOSYS);
    };

    @FunctionalInterface
    interface MStack {
        String apply(Call c, List<String> argv) throws Errno;
    }

    void mstack(MStack m) {
        this.mstack = m;
    }

    ControlCall(ViewState view) {
        this.view = view;
    }

    /** um_attach's worker (the tracer): pid → null on success, else "errno message". */
    void attacher(IntFunction<String> attach) {
        this.attach = attach;
    }

    void serve(Call c) throws Errno {
        Regs regs = c.regs();
        long len = regs.arg(1);
        if (len < 0 || len > CTL_MAX) {
            throw new Errno(Errno.EINVAL, "request too long");
        }
        Scratch s = c.scratch();
        if (s.read(c.tid(), regs.arg(0), (int) len) != len) {
            throw new Errno(Errno.EFAULT);
        }
        String req = new String(Arrays.copyOf(s.bytes((int) len), (int) len), StandardCharsets.ISO_8859_1);
        List<String> argv = new ArrayList<>(List.of(req.split("\0", -1)));
        while (!argv.isEmpty() && argv.get(argv.size() - 1).isEmpty()) {
            argv.remove(argv.size() - 1);
        }
        if (argv.isEmpty()) {
            throw new Errno(Errno.EINVAL, "empty request");
        }
        String reply;
        try {
            reply = argv.get(0).equals("attach") ? attach(argv)
                    : argv.get(0).equals("mstack") ? mstack.apply(c, argv) : view.control(c.tid(), argv);
        } catch (Errno err) {
            writeReply(c, oneLine(err.getMessage())); // the command prints the daemon's reason
            throw err;
        } catch (RuntimeException err) {
            LOG.log(Level.WARNING, "viewos: control request " + argv + " failed", err);
            throw new Errno(Errno.EIO, err.toString());
        }
        int n = writeReply(c, reply);
        if (n < 0) {
            throw new Errno(Errno.EFAULT, "reply buffer"); // silence would read as an empty answer
        }
        c.finish(n);
    }

    /** A message for one line of a terminal: control characters written as escapes. */
    static String oneLine(String message) {
        StringBuilder sb = new StringBuilder(message.length());
        for (char ch : message.toCharArray()) {
            if (ch < 0x20 || ch == 0x7f) {
                sb.append(String.format("\\x%02x", (int) ch));
            } else {
                sb.append(ch);
            }
        }
        return sb.toString();
    }

    private String attach(List<String> argv) throws Errno {
        if (argv.size() != 2 || !argv.get(1).matches("[0-9]{1,9}")) {
            throw new Errno(Errno.EINVAL, "usage: um_attach pid");
        }
        String failed = attach.apply(Integer.parseInt(argv.get(1)));
        if (failed != null) {
            int sp = failed.indexOf(' ');
            throw new Errno(Integer.parseInt(failed.substring(0, sp)), failed.substring(sp + 1));
        }
        return "";
    }

    /**
     * Writes the reply, NUL-terminated when the buffer has room; returns its length (without the NUL),
     * or -1 when the caller's buffer is not writable.
     */
    private static int writeReply(Call c, String reply) {
        byte[] text = reply.getBytes(StandardCharsets.UTF_8);
        long size = Math.max(0, Math.min(c.regs().arg(3), CTL_MAX));
        int n = (int) Math.min(text.length, size);
        byte[] b = Arrays.copyOf(text, n < size ? n + 1 : n);
        if (b.length > 0 && c.scratch().write(c.tid(), c.regs().arg(2), b, b.length) != b.length) {
            return -1;
        }
        return n;
    }
}
