package org.viewos.itests.viewfs;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;
import static org.viewos.itests.viewfs.ViewOsRun.*;

import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.Before;
import org.junit.Ignore;
import org.junit.Test;

/**
 * Every path-taking call class through a viewfs {@code move} mount, with real tools and python3;
 * afterwards, from outside, the changes are in SRC and nothing changed at the mount point.
 */
public class ViewFsSyscallsTest {
    private Path dir;
    private Path src;
    private Path mnt;

    @Before
    public void setUp() throws Exception {
        assumeViewos();
        assumeTool("python3");
        dir = workDir(getClass().getSimpleName());
        src = dir.resolve("src");
        mnt = dir.resolve("mnt");
        write(src.resolve("hello"), "hello from src\n");
        write(src.resolve("sub/inner"), "inner\n");
        write(src.resolve("script.sh"), "#!/bin/sh\necho script-ran \"$1\"\n");
        src.resolve("script.sh").toFile().setExecutable(true);
        Files.copy(Path.of("/bin/true"), src.resolve("true-binary"));
        src.resolve("true-binary").toFile().setExecutable(true);
        Files.createSymbolicLink(src.resolve("link"), Path.of("hello"));
        write(mnt.resolve("original"), "the mount point's own file\n");
    }

    private String py(String code) {
        return "python3 - <<'PY'\nimport os, sys, socket, ctypes, errno\n" + code + "\nPY\n";
    }

    @Test
    public void pathCallsGoThroughTheMount() throws Exception {
        String s = "viewmount -t viewfs " + src + " " + mnt + "\n" // move is the default
                + "cd " + mnt + "\n"
                + "echo cat:$(cat hello)\n"
                + "stat -c statx:%s hello\n"
                + "echo ls:$(ls | tr '\\n' ' ')\n"
                + "./script.sh arg\n"
                + "./true-binary && echo binary-ran\n"
                + "cd sub && echo pwd:$(pwd -P) && echo binpwd:$(/bin/pwd) && cd ..\n"
                + "echo readlink:$(readlink link)\n"
                + "mkdir newdir && rmdir newdir && mkdir keep\n"
                + "echo data > f1 && mv f1 f2 && ln f2 f3 && ln -s f2 sl && rm f3\n"
                + "truncate -s 3 f2 && chmod 600 f2 && chown 0:0 f2 && touch -d @1000000000 f2\n"
                + "stat -c mode:%a:%s:%Y f2\n"
                + "mkfifo fifo && test -p fifo && echo fifo-ok\n"
                + "stat -f -c statfs:%T . >/dev/null && echo statfs-ok\n"
                + "df . >/dev/null && echo df-ok\n"
                + py("fd = os.open('.', os.O_RDONLY | os.O_DIRECTORY)\n"
                        + "print('fstatat:', os.stat('hello', dir_fd=fd).st_size)\n"
                        + "print('emptypath:', os.stat(os.open('hello', os.O_RDONLY)).st_size)\n"
                        + "print('lstat-link:', os.lstat('link').st_mode & 0o170000 == 0o120000)\n"
                        + "print('access:', os.access('hello', os.R_OK), os.access('nope', os.F_OK))\n"
                        + "print('faccessat2:', os.access('hello', os.W_OK, dir_fd=fd, effective_ids=True))\n"
                        + "print('openat:', os.read(os.open('sub/inner', os.O_RDONLY, dir_fd=fd), 99).decode().strip())\n"
                        + "sfd = os.open('sub', os.O_RDONLY | os.O_DIRECTORY)\n"
                        + "print('dotdot-dirfd:', os.read(os.open('../hello', os.O_RDONLY, dir_fd=sfd), 99).decode().strip())\n"
                        + "os.fchdir(sfd); print('fchdir-getcwd:', os.getcwd()); os.chdir('..')\n"
                        + "print('creat:', os.write(os.open('created', os.O_CREAT | os.O_WRONLY, 0o644), b'x'))\n"
                        + "os.setxattr('hello', 'user.viewfs', b'yes'); print('xattr:', os.getxattr('hello', 'user.viewfs').decode())\n"
                        + "print('listxattr:', 'user.viewfs' in os.listxattr('hello'))\n"
                        + "libc = ctypes.CDLL(None, use_errno=True)\n"
                        + "ino = libc.inotify_init1(0)\n"
                        + "wd = libc.inotify_add_watch(ino, b'sub', 0x100)\n"
                        + "print('inotify:', wd > 0)\n"
                        + "open('sub/touched', 'w').close()\n"
                        + "ev = os.read(ino, 4096)\n"
                        + "print('inotify-event:', b'touched' in ev)\n"
                        + "os.mknod('node', 0o600 | 0o10000); print('mknod:', os.path.exists('node'))\n");
        Result r = shell(dir, s).ok();
        String o = r.out();
        for (String line : new String[] {"cat:hello from src", "statx:15", "script-ran arg", "binary-ran",
            "pwd:" + mnt + "/sub", "binpwd:" + mnt + "/sub", "readlink:hello", "mode:600:3:1000000000",
            "fifo-ok", "statfs-ok", "df-ok", "fstatat: 15", "emptypath: 15", "lstat-link: True",
            "access: True False", "faccessat2: True", "openat: inner", "dotdot-dirfd: hello from src",
            "fchdir-getcwd: " + mnt + "/sub", "creat: 1", "xattr: yes", "listxattr: True", "inotify: True",
            "inotify-event: True", "mknod: True"}) {
            assertTrue("missing '" + line + "' in\n" + r, o.contains(line + "\n"));
        }
        assertTrue(r.toString(), o.contains("ls:hello link script.sh sub true-binary\n"));
        // from outside: every change landed in SRC, the mount point is untouched
        assertTrue(Files.isDirectory(src.resolve("keep")));
        assertEquals("dat", Files.readString(src.resolve("f2")));
        assertTrue(Files.isSymbolicLink(src.resolve("sl")));
        assertFalse(Files.exists(src.resolve("f3")));
        assertTrue(Files.exists(src.resolve("fifo")));
        assertTrue(Files.exists(src.resolve("created")));
        assertTrue(Files.exists(src.resolve("sub/touched")));
        assertEquals(1, Files.list(mnt).count());
    }

    @Test
    public void chrootIntoAMountAsRoot() throws Exception {
        org.junit.Assume.assumeTrue("chroot needs root", "root".equals(System.getProperty("user.name")));
        Result r = shell(dir, "viewmount -t viewfs " + src + " " + mnt + "\n"
                + py("os.chroot('" + mnt + "'); print('chroot:', sorted(os.listdir('/')))")).ok();
        assertTrue(r.toString(), r.out().contains("chroot: ['hello', 'link', 'script.sh', 'sub', 'true-binary']"));
    }

    @Test
    public void unixSocketPathsGoThroughTheMount() throws Exception {
        Result r = shell(dir, "viewmount -t viewfs " + src + " " + mnt + "\n"
                + py("s = socket.socket(socket.AF_UNIX); s.bind('" + mnt + "/sock'); s.listen(1)\n"
                        + "c = socket.socket(socket.AF_UNIX); c.connect('" + mnt + "/sock'); print('unix: ok')")).ok();
        assertTrue(r.toString(), r.out().contains("unix: ok"));
        assertTrue("the socket must be made in SRC", Files.exists(src.resolve("sock")));
    }

    @Test
    public void exceptPathsStayReal() throws Exception {
        write(mnt.resolve("sub/real"), "real\n");
        Result r = shell(dir, "viewmount -t viewfs -o move,except=sub " + src + " " + mnt + "\n"
                + "cat " + mnt + "/hello; ls " + mnt + "/sub\n").ok();
        assertTrue(r.toString(), r.out().contains("hello from src\nreal\n"));
    }

    @Test
    public void umountRestoresAndModuleIsBusyWhileMounted() throws Exception {
        Result r = shell(dir, "viewmount -t viewfs " + src + " " + mnt + "\n"
                + "um_del_service viewfs 2>&1 || echo del-refused\n"
                + "viewumount " + mnt + "\ncat " + mnt + "/original\n").ok();
        assertTrue(r.toString(), r.out().contains("del-refused"));
        assertTrue(r.toString(), r.out().contains("the mount point's own file"));
    }
}
