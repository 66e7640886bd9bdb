package org.viewos.umbinfmt;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

import org.viewos.core.api.Errno;

/**
 * One binfmt_misc rule, parsed from Linux's register format
 * {@code :name:type:offset:magic:mask:interpreter:flags} (any first character is the separator).
 */
final class Entry {
    /** Linux's BINPRM_BUF_SIZE: how much of a file the magic may reach into. */
    static final int BUF_SIZE = 256;
    /** Linux's limit on one register write. */
    static final int MAX_REGISTER_LENGTH = 1920;

    final String name;
    final boolean magicType;
    final int offset;
    final byte[] magic;
    final byte[] mask;
    final String extension;
    final String interpreter;
    final String flags;
    volatile boolean enabled = true;

    private Entry(String name, boolean magicType, int offset, byte[] magic, byte[] mask, String extension,
            String interpreter, String flags) {
        this.name = name;
        this.magicType = magicType;
        this.offset = offset;
        this.magic = magic;
        this.mask = mask;
        this.extension = extension;
        this.interpreter = interpreter;
        this.flags = flags;
    }

    boolean preserveArgv0() {
        return flags.indexOf('P') >= 0;
    }

    boolean fixBinary() {
        return flags.indexOf('F') >= 0;
    }

    /** Parses one register line, as Linux's create_entry does: any mistake is EINVAL. */
    static Entry parse(byte[] raw) throws Errno {
        if (raw.length < 11 || raw.length > MAX_REGISTER_LENGTH) {
            throw new Errno(Errno.EINVAL, "register: line length " + raw.length + " outside 11.." + MAX_REGISTER_LENGTH);
        }
        int len = raw.length;
        if (raw[len - 1] == '\n') {
            len--;
        }
        byte del = raw[0];
        java.util.List<byte[]> f = new java.util.ArrayList<>();
        int start = 1;
        for (int i = 1; i <= len; i++) {
            if (i == len || raw[i] == del) {
                f.add(java.util.Arrays.copyOfRange(raw, start, i));
                start = i + 1;
            }
        }
        if (f.size() != 7) {
            throw new Errno(Errno.EINVAL, "register: " + f.size()
                    + " fields, want 7 (:name:type:offset:magic:mask:interpreter:flags)");
        }
        String name = text(f.get(0));
        if (name.isEmpty() || name.contains("/") || name.equals(".") || name.equals("..")
                || name.equals("register") || name.equals("status")) {
            throw new Errno(Errno.EINVAL, "register: bad name '" + name + "'");
        }
        String type = text(f.get(1));
        if (!type.equals("M") && !type.equals("E")) {
            throw new Errno(Errno.EINVAL, "register: type must be M or E, not '" + type + "'");
        }
        boolean m = type.equals("M");
        String interp = text(f.get(5));
        if (interp.isEmpty()) {
            throw new Errno(Errno.EINVAL, "register: no interpreter");
        }
        String flags = text(f.get(6));
        StringBuilder fl = new StringBuilder();
        for (char c : flags.toCharArray()) {
            if ("POCF".indexOf(c) < 0) {
                throw new Errno(Errno.EINVAL, "register: unknown flag '" + c + "'");
            }
            if (fl.indexOf(String.valueOf(c)) < 0) {
                fl.append(c);
            }
        }
        if (fl.indexOf("C") >= 0 && fl.indexOf("O") < 0) {
            fl.append('O'); // C implies O
        }
        String canon = canonicalFlags(fl.toString());
        if (!m) {
            if (f.get(2).length != 0 || f.get(4).length != 0) {
                throw new Errno(Errno.EINVAL, "register: an extension rule takes no offset and no mask");
            }
            String ext = text(f.get(3));
            if (ext.isEmpty() || ext.contains("/")) {
                throw new Errno(Errno.EINVAL, "register: bad extension '" + ext + "'");
            }
            return new Entry(name, false, 0, null, null, ext, interp, canon);
        }
        int offset;
        try {
            offset = f.get(2).length == 0 ? 0 : Integer.parseInt(text(f.get(2)));
        } catch (NumberFormatException e) {
            throw new Errno(Errno.EINVAL, "register: bad offset '" + text(f.get(2)) + "'");
        }
        byte[] magic = unescape(f.get(3));
        byte[] mask = f.get(4).length == 0 ? null : unescape(f.get(4));
        if (magic.length == 0) {
            throw new Errno(Errno.EINVAL, "register: empty magic");
        }
        if (mask != null && mask.length != magic.length) {
            throw new Errno(Errno.EINVAL, "register: mask and magic differ in length");
        }
        if (offset < 0 || offset + magic.length > BUF_SIZE) {
            throw new Errno(Errno.EINVAL, "register: magic reaches past byte " + BUF_SIZE);
        }
        return new Entry(name, true, offset, magic, mask, null, interp, canon);
    }

    private static String canonicalFlags(String fl) {
        StringBuilder b = new StringBuilder();
        for (char c : "POCF".toCharArray()) {
            if (fl.indexOf(c) >= 0) {
                b.append(c);
            }
        }
        return b.toString();
    }

    private static String text(byte[] b) {
        return new String(b, StandardCharsets.ISO_8859_1);
    }

    /** {@code \xHH} escapes (and {@code \\}) as Linux's string_unescape. */
    static byte[] unescape(byte[] s) throws Errno {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int i = 0; i < s.length; i++) {
            if (s[i] == '\\' && i + 1 < s.length && (s[i + 1] == 'x' || s[i + 1] == 'X')) {
                int v = 0, n = 0;
                while (n < 2 && i + 2 + n < s.length && Character.digit(s[i + 2 + n], 16) >= 0) {
                    v = v * 16 + Character.digit(s[i + 2 + n], 16);
                    n++;
                }
                if (n == 0) {
                    throw new Errno(Errno.EINVAL, "register: bad \\x escape");
                }
                out.write(v);
                i += 1 + n;
            } else if (s[i] == '\\' && i + 1 < s.length && s[i + 1] == '\\') {
                out.write('\\');
                i++;
            } else {
                out.write(s[i]);
            }
        }
        return out.toByteArray();
    }

    /** Whether this rule takes a file with this path and these first bytes. */
    boolean matches(String path, byte[] head, int headLen) {
        if (!enabled) {
            return false;
        }
        if (!magicType) {
            int dot = path.lastIndexOf('.');
            return dot >= 0 && path.substring(dot + 1).equals(extension);
        }
        if (offset + magic.length > headLen) {
            return false;
        }
        for (int i = 0; i < magic.length; i++) {
            int b = head[offset + i];
            if (mask != null) {
                b &= mask[i];
            }
            if ((byte) b != magic[i]) {
                return false;
            }
        }
        return true;
    }

    /** What reading the rule's file shows, as Linux's entry_status. */
    String describe() {
        StringBuilder b = new StringBuilder(enabled ? "enabled\n" : "disabled\n");
        b.append("interpreter ").append(interpreter).append('\n');
        b.append("flags: ").append(flags).append('\n');
        if (!magicType) {
            b.append("extension .").append(extension).append('\n');
        } else {
            b.append("offset ").append(offset).append('\n');
            b.append("magic ").append(hex(magic)).append('\n');
            if (mask != null) {
                b.append("mask ").append(hex(mask)).append('\n');
            }
        }
        return b.toString();
    }

    private static String hex(byte[] v) {
        StringBuilder b = new StringBuilder();
        for (byte x : v) {
            b.append(String.format("%02x", x & 0xff));
        }
        return b.toString();
    }
}
