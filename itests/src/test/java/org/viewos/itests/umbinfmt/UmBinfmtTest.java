package org.viewos.itests.umbinfmt;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

import org.junit.Test;
import org.viewos.itests.modules.Launcher;

/**
 * umbinfmt: Debian's busybox-static for arm64 (fetched by ./run-tests into itests/foreign) runs in
 * a view through the real qemu-aarch64-static, with no host binfmt_misc and no root.
 */
public class UmBinfmtTest {
    private static final String REG = "/proc/sys/fs/binfmt_misc/register";

    static Path withBusybox(String name) throws Exception {
        Path bb = Path.of("foreign", "busybox-arm64").toAbsolutePath();
        assertTrue("./run-tests fetches busybox-static:arm64 into " + bb, Files.isExecutable(bb));
        Path dir = Launcher.workDir(name);
        Files.copy(bb, dir.resolve("busybox-arm64"), StandardCopyOption.COPY_ATTRIBUTES);
        return dir;
    }

    @Test
    public void foreignBusyboxRunsThroughQemu() throws Exception {
        Path dir = withBusybox("qemu");
        Files.writeString(dir.resolve("s.sh"), "#!" + dir.resolve("busybox-arm64") + " sh\n"
                + "uname -m\necho $((6*7)) $0 \"$@\"\n./busybox-arm64 echo nested\nexit 5\n");
        dir.resolve("s.sh").toFile().setExecutable(true);
        Launcher.Result r = Launcher.bash(dir, String.join("\n",
                "./busybox-arm64 true 2>/dev/null; echo before=$?",
                "um_add_service umbinfmt && viewmount -t umbinfmt none /proc/sys/fs/binfmt_misc || exit 1",
                "ls /proc/sys/fs/binfmt_misc | tr '\\n' ' '; echo",
                "cat /usr/lib/binfmt.d/qemu-aarch64.conf > " + REG + "; echo reg=$?",
                "ls /proc/sys/fs/binfmt_misc | tr '\\n' ' '; echo",
                "cat /proc/sys/fs/binfmt_misc/qemu-aarch64 /proc/sys/fs/binfmt_misc/status",
                "./busybox-arm64 uname -m",
                "bash -c 'exec -a uname ./busybox-arm64 -m'",          // P: argv[0] reaches the program
                "./busybox-arm64 sh -c 'exit 7'; echo exit=$?",
                "./busybox-arm64 sh -c './busybox-arm64 echo from-foreign; ./busybox-arm64 uname -m'",
                "./s.sh a b; echo script=$?",
                "uname -m",                                                // native programs stay native
                "echo 0 > /proc/sys/fs/binfmt_misc/qemu-aarch64; head -1 /proc/sys/fs/binfmt_misc/qemu-aarch64",
                "./busybox-arm64 true 2>/dev/null; echo disabled=$?",
                "echo 1 > /proc/sys/fs/binfmt_misc/qemu-aarch64; echo 0 > /proc/sys/fs/binfmt_misc/status",
                "./busybox-arm64 true 2>/dev/null; echo all-off=$?",
                "echo 1 > /proc/sys/fs/binfmt_misc/status; ./busybox-arm64 true; echo on=$?",
                "echo -1 > /proc/sys/fs/binfmt_misc/qemu-aarch64; ls /proc/sys/fs/binfmt_misc | tr '\\n' ' '; echo",
                "./busybox-arm64 true 2>/dev/null; echo removed=$?"));
        assertEquals("stderr: " + r.err(), 0, r.status());
        assertEquals(String.join("\n",
                "before=126",
                "register status ",
                "reg=0",
                "qemu-aarch64 register status ",
                "enabled",
                "interpreter /usr/libexec/qemu-binfmt/aarch64-binfmt-P",
                "flags: POF",
                "offset 0",
                "magic 7f454c460201010000000000000000000200b700",
                "mask ffffffffffffff00fffffffffffffffffeffffff",
                "enabled",
                "aarch64",
                "aarch64",
                "exit=7",
                "from-foreign",
                "aarch64",
                "aarch64",
                "42 ./s.sh a b",
                "nested",
                "script=5",
                "x86_64",
                "disabled",
                "disabled=126",
                "all-off=126",
                "on=0",
                "register status ",
                "removed=126", ""), r.out());
    }

    @Test
    public void extensionRulesAndTheDebianTable() throws Exception {
        Path dir = withBusybox("ext");
        Files.writeString(dir.resolve("hello.py"), "import sys\nprint('py', sys.argv)\n");
        dir.resolve("hello.py").toFile().setExecutable(true);
        Files.createDirectories(dir.resolve("sub"));
        Files.copy(dir.resolve("busybox-arm64"), dir.resolve("sub/busybox"), StandardCopyOption.COPY_ATTRIBUTES);
        Launcher.Result r = Launcher.bash(dir, String.join("\n",
                "um_add_service umbinfmt || exit 1",
                "viewmount -t umbinfmt none /proc/sys/fs/binfmt_misc || exit 1",
                "./hello.py 2>/dev/null; echo plain=$?", // ENOEXEC: bash then reads it as a script
                "echo ':pyext:E::py::/usr/bin/python3:' > " + REG,
                "./hello.py x 'y z'; echo rc=$?",
                "cat /proc/sys/fs/binfmt_misc/pyext",
                "viewumount /proc/sys/fs/binfmt_misc; echo umount=$?",
                // the Debian table at mount time, limited to programs under sub/
                "viewmount -t umbinfmt -o load \"$PWD/sub\" /proc/sys/fs/binfmt_misc || exit 1",
                "test -e /proc/sys/fs/binfmt_misc/qemu-aarch64 && echo loaded",
                "sub/busybox uname -m; ./busybox-arm64 true 2>/dev/null; echo outside=$?"));
        assertEquals("stderr: " + r.err(), 0, r.status());
        assertEquals(String.join("\n", "plain=2", "py ['./hello.py', 'x', 'y z']", "rc=0",
                "enabled", "interpreter /usr/bin/python3", "flags: ", "extension .py",
                "umount=0", "loaded", "aarch64", "outside=126", ""), r.out());
    }

    @Test
    public void badRegistrationsChangeNothing() throws Exception {
        Path dir = Launcher.workDir("binfmt-bad");
        Files.writeString(dir.resolve("x.zz"), "data\n");
        dir.resolve("x.zz").toFile().setExecutable(true);
        String[] bad = {
            ":noflagsfield:E::zz::/bin/cat",          // 6 fields
            ":t:X::zz::/bin/cat:",                     // type
            ":t:E:3:zz::/bin/cat:",                    // offset in an E rule
            ":t:M::\\x7fELF:\\xff:/bin/cat:",          // mask and magic lengths differ
            ":t:M:250:abcdefghij::/bin/cat:",          // past byte 256
            ":t:E::zz::/bin/cat:Q",                    // flag
            ":t:E::zz:::",                             // no interpreter
            ":a/b:E::zz::/bin/cat:",                   // name
            ":status:E::zz::/bin/cat:",                // name
            ":t:E::zz::/bin/cat::extra",               // trailing field
            ":t:E::zz::/no/such/interp:F",             // F: the interpreter must exist now
        };
        StringBuilder script = new StringBuilder(
                "um_add_service umbinfmt && viewmount -t umbinfmt none /proc/sys/fs/binfmt_misc || exit 1\n");
        for (String b : bad) {
            script.append("printf '%s\\n' '").append(b).append("' > ").append(REG).append(" 2>/dev/null; echo -n \"$? \"\n");
        }
        script.append("echo; ls /proc/sys/fs/binfmt_misc | tr '\\n' ' '; echo\n");
        script.append("python3 -c \"import os,errno\nfor l in [b':t:X::zz::/bin/cat:', b':t:E::zz::/no/such/interp:F', b':t:E::zz::/bin/cat:', b':t:E::zz::/bin/cat:']:\n"
                + "  f=os.open('" + REG + "', os.O_WRONLY)\n  try: os.write(f, l); print('ok')\n"
                + "  except OSError as e: print(errno.errorcode[e.errno])\n  os.close(f)\"\n");
        script.append("./x.zz; echo cat=$?\n");
        script.append("echo ':missing:E::yy::/no/such/interp:' > " + REG + "; : > x.yy; chmod +x x.yy; ./x.yy 2>/dev/null; echo missing=$?\n");
        script.append("echo 2 > /proc/sys/fs/binfmt_misc/t 2>/dev/null; echo badcmd=$?\n");
        script.append("touch /proc/sys/fs/binfmt_misc/new 2>/dev/null; echo create=$?\n");
        Launcher.Result r = Launcher.bash(dir, script.toString());
        assertEquals("stderr: " + r.err(), 0, r.status());
        assertEquals(String.join("\n", "1 1 1 1 1 1 1 1 1 1 1 ", "register status ",
                "EINVAL", "ENOENT", "ok", "EEXIST", "data", "cat=0", "missing=127", "badcmd=1", "create=1", ""),
                r.out());
    }
}
