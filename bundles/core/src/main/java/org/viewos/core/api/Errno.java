package org.viewos.core.api;

import java.util.Map;

/**
 * A Linux error number with its name. Modules throw it; the core turns it into {@code -errno} for
 * the traced call in exactly one place. Any other exception thrown by a module becomes {@code EIO}.
 */
public final class Errno extends Exception {
    private static final long serialVersionUID = 1L;

    public static final int EPERM = 1, ENOENT = 2, ESRCH = 3, EINTR = 4, EIO = 5, ENXIO = 6, E2BIG = 7,
            ENOEXEC = 8, EBADF = 9, ECHILD = 10, EAGAIN = 11, ENOMEM = 12, EACCES = 13, EFAULT = 14, ENOTBLK = 15,
            EBUSY = 16, EEXIST = 17, EXDEV = 18, ENODEV = 19, ENOTDIR = 20, EISDIR = 21, EINVAL = 22,
            ENFILE = 23, EMFILE = 24, ENOTTY = 25, EFBIG = 27, ENOSPC = 28, ESPIPE = 29, EROFS = 30,
            EMLINK = 31, EPIPE = 32, ERANGE = 34, ENAMETOOLONG = 36, ENOSYS = 38, ENOTEMPTY = 39,
            ELOOP = 40, ENODATA = 61, EOPNOTSUPP = 95, EAFNOSUPPORT = 97, EADDRINUSE = 98,
            ENETDOWN = 100, ECONNRESET = 104, ENOTCONN = 107, ETIMEDOUT = 110;

    private static final Map<Integer, String> NAMES = Map.ofEntries(
            Map.entry(EPERM, "EPERM"), Map.entry(ENOENT, "ENOENT"), Map.entry(ESRCH, "ESRCH"),
            Map.entry(EINTR, "EINTR"), Map.entry(EIO, "EIO"), Map.entry(ENXIO, "ENXIO"),
            Map.entry(E2BIG, "E2BIG"), Map.entry(ENOEXEC, "ENOEXEC"), Map.entry(EBADF, "EBADF"),
            Map.entry(ECHILD, "ECHILD"), Map.entry(EAGAIN, "EAGAIN"), Map.entry(ENOMEM, "ENOMEM"),
            Map.entry(EACCES, "EACCES"), Map.entry(EFAULT, "EFAULT"), Map.entry(ENOTBLK, "ENOTBLK"), Map.entry(EBUSY, "EBUSY"),
            Map.entry(EEXIST, "EEXIST"), Map.entry(EXDEV, "EXDEV"), Map.entry(ENODEV, "ENODEV"),
            Map.entry(ENOTDIR, "ENOTDIR"), Map.entry(EISDIR, "EISDIR"), Map.entry(EINVAL, "EINVAL"),
            Map.entry(ENFILE, "ENFILE"), Map.entry(EMFILE, "EMFILE"), Map.entry(ENOTTY, "ENOTTY"),
            Map.entry(EFBIG, "EFBIG"), Map.entry(ENOSPC, "ENOSPC"), Map.entry(ESPIPE, "ESPIPE"),
            Map.entry(EROFS, "EROFS"), Map.entry(EMLINK, "EMLINK"), Map.entry(EPIPE, "EPIPE"),
            Map.entry(ERANGE, "ERANGE"), Map.entry(ENAMETOOLONG, "ENAMETOOLONG"),
            Map.entry(ENOSYS, "ENOSYS"), Map.entry(ENOTEMPTY, "ENOTEMPTY"), Map.entry(ELOOP, "ELOOP"),
            Map.entry(ENODATA, "ENODATA"), Map.entry(EOPNOTSUPP, "EOPNOTSUPP"),
            Map.entry(EAFNOSUPPORT, "EAFNOSUPPORT"), Map.entry(EADDRINUSE, "EADDRINUSE"),
            Map.entry(ENETDOWN, "ENETDOWN"), Map.entry(ECONNRESET, "ECONNRESET"),
            Map.entry(ENOTCONN, "ENOTCONN"), Map.entry(ETIMEDOUT, "ETIMEDOUT"));

    private final int code;

    public Errno(int code, String message) {
        super(message == null ? name(code) : name(code) + ": " + message, null, false, false);
        this.code = code;
    }

    public Errno(int code) {
        this(code, null);
    }

    /** The positive Linux error number. */
    public int code() {
        return code;
    }

    /** The Linux name of an error number, e.g. {@code "ENOENT"}, or {@code "E<n>"} when unnamed. */
    public static String name(int code) {
        String n = NAMES.get(code);
        return n != null ? n : "E" + code;
    }
}
