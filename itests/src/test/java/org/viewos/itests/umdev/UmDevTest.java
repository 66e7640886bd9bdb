package org.viewos.itests.umdev;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.Test;
import org.viewos.itests.modules.Launcher;

/**
 * umdev: virtual devices of the view, driven by real tools (sfdisk, mkfs.ext2, e2fsck, debugfs,
 * dd, blockdev, python's os calls); what was written is checked from outside in the image file.
 */
public class UmDevTest {
    /** Runs a host command (outside any view) and returns its stdout; fails on a non-zero exit. */
    static String host(Path dir, String... cmd) throws Exception {
        Path out = Files.createTempFile(dir, "host-", ".out");
        Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true)
                .redirectOutput(out.toFile()).start();
        assertTrue(String.join(" ", cmd) + " ended", p.waitFor(120, TimeUnit.SECONDS));
        String s = Files.readString(out);
        assertEquals(String.join(" ", cmd) + ": " + s, 0, p.exitValue());
        return s;
    }

    static String sh(Path dir, String script) throws Exception {
        return host(dir, "bash", "-c", script);
    }

    @Test
    public void nullZeroAndRamdiskWithExt2() throws Exception {
        Path dir = Launcher.workDir("ram");
        Launcher.Result r = Launcher.bash(dir, String.join("\n",
                "um_add_service umdev || exit 1",
                "viewmount -t umdevnull none /dev/mynull && viewmount -t umdevzero none /dev/myzero || exit 1",
                "stat -c '%F %t:%T %a' /dev/mynull /dev/myzero",
                "echo hello > /dev/mynull; echo \"write=$?\"; cat /dev/mynull | wc -c",
                "head -c 100000 /dev/myzero | tr -d '\\0' | wc -c; head -c 100000 /dev/myzero | wc -c",
                "viewmount -t umdevramdisk -o size=16M none /dev/ram0 || exit 1",
                "stat -c '%F %t:%T %s' /dev/ram0; blockdev --getsize64 --getss --getro /dev/ram0",
                "head -c 3000000 /dev/urandom > data; dd if=data of=/dev/ram0 bs=1M conv=fsync status=none",
                "cmp <(head -c 3000000 /dev/ram0) data && echo same",
                "python3 -c \"import os; f=os.open('/dev/ram0', os.O_RDWR); os.pwrite(f, b'XYZ', 16*1024*1024-3);"
                        + " print(os.pread(f, 10, 16*1024*1024-3), os.lseek(f, 0, os.SEEK_END), os.pread(f, 5, 1<<30));"
                        + " pid=os.fork()\nif pid==0: os.lseek(f, 1234, 0); os._exit(0)\n"
                        + "os.waitpid(pid,0); print('shared offset', os.lseek(f, 0, os.SEEK_CUR))\"",
                "mkfs.ext2 -q -L ramfs /dev/ram0 && echo mkfs-ok",
                "debugfs -w -R 'write data data' /dev/ram0 >/dev/null 2>&1; debugfs -R 'cat data' /dev/ram0 2>/dev/null | cmp - data && echo stored",
                "e2fsck -fn /dev/ram0 >/dev/null 2>&1; echo fsck=$?",
                "exec 3</dev/ram0; readlink /proc/$$/fd/3; stat -L -c %t:%T /dev/fd/3; viewumount /dev/ram0; echo busy=$?; exec 3<&-",
                "viewumount /dev/ram0; echo umount=$?; ls /dev/ram0 2>/dev/null; echo gone=$?"));
        assertEquals("stderr: " + r.err(), 0, r.status());
        assertEquals(String.join("\n",
                "character special file 1:3 660", "character special file 1:5 660",
                "write=0", "0", "0", "100000",
                "block special file 1:0 16777216", "16777216", "512", "0",
                "same",
                "b'XYZ' 16777216 b''", "shared offset 1234",
                "mkfs-ok", "stored", "fsck=0", "/dev/ram0", "1:0", "busy=1", "umount=0", "gone=2", ""), r.out());
        assertTrue("viewumount of a busy device says so: " + r.err(), r.err().contains("busy"));
    }

    @Test
    public void mbrPartitionsServeMkfsAndDebugfsAndReachTheImage() throws Exception {
        Path dir = Launcher.workDir("mbr");
        sh(dir, "truncate -s 64M disk.img && printf 'label: dos\\n,20M,83\\n,10M,83\\n,,5\\n,5M,83\\n,5M,83\\n'"
                + " | sfdisk -q disk.img && head -c 1234567 /dev/urandom > payload");
        String md5 = sh(dir, "md5sum < payload | cut -c1-32").strip();
        String native_ = sh(dir, "sfdisk -l disk.img | sed -n '/^Device/,$p' | sed 's/disk.img/DEV/'");
        Launcher.Result r = Launcher.bash(dir, String.join("\n",
                "um_add_service umdev && viewmount -t umdevmbr disk.img /dev/hda || exit 1",
                "viewmount -t umdevramdisk -o size=4M none /dev/ram7 || exit 1",
                "stat -c '%n %F %t:%T' /dev/hda /dev/hda1 /dev/hda2 /dev/hda3 /dev/hda5 /dev/hda6",
                "stat /dev/hda4 /dev/hda7 >/dev/null 2>&1; echo missing=$?",
                "sfdisk -l /dev/hda | sed -n '/^Device/,$p' | sed 's#/dev/hda#DEV#'",
                "blockdev --getsize64 /dev/hda1 /dev/hda5",
                "mkfs.ext2 -q -L part1 /dev/hda1 && echo mkfs-ok",
                "debugfs -w -R 'write payload payload' /dev/hda1 >/dev/null 2>&1",
                "dd if=/dev/zero of=/dev/hda5 bs=1M count=6 status=none; echo dd=$?",
                "dd if=/dev/hda5 bs=1M status=none | wc -c",
                // devices compose with umfuse: fuse2fs on the partition (the image at its offset)
                "um_add_service umfuse && mkdir -p mnt && viewmount -t umfuseext2 -o rw /dev/hda1 mnt || exit 1",
                "cat mnt/payload | md5sum | cut -c1-32; echo 'through umfuse' > mnt/fused.txt; mkdir mnt/dir",
                "viewumount mnt; echo fuse-umount=$?",
                "viewmount -t umfuseext2 /dev/ram7 mnt 2>&1 | grep -o 'Block device required (/dev/ram7 is not held by a host file'",
                "python3 -c \"import os,errno\nf=os.open('/dev/hda2', os.O_RDWR)\n"
                        + "try: os.pwrite(f, b'x', 10*1024*1024)\nexcept OSError as e: print(errno.errorcode[e.errno])\n"
                        + "import fcntl\ntry: fcntl.ioctl(f, 0x5401, bytes(64))\nexcept OSError as e: print(errno.errorcode[e.errno])\"",
                "viewumount /dev/hda; echo umount=$?"));
        assertEquals("stderr: " + r.err(), 0, r.status());
        assertEquals(String.join("\n",
                "/dev/hda block special file 3:0", "/dev/hda1 block special file 3:1",
                "/dev/hda2 block special file 3:2", "/dev/hda3 block special file 3:3",
                "/dev/hda5 block special file 3:5", "/dev/hda6 block special file 3:6",
                "missing=1") + "\n" + native_ + String.join("\n",
                "20971520", "5242880", "mkfs-ok", "dd=1", "5242880", md5, "fuse-umount=0",
                "Block device required (/dev/ram7 is not held by a host file",
                "ENOSPC", "ENOTTY", "umount=0", ""),
                r.out());
        // from outside: the partition holds a clean ext2 with the file written in the view
        sh(dir, "dd if=disk.img of=p1.img bs=512 skip=2048 count=40960 status=none");
        sh(dir, "e2fsck -fn p1.img");
        assertEquals("through umfuse\n", sh(dir, "debugfs -R 'cat fused.txt' p1.img 2>/dev/null"));
        assertTrue(sh(dir, "debugfs -R 'ls -l' p1.img 2>/dev/null").contains(" dir"));
        assertEquals(Files.size(dir.resolve("payload")),
                sh(dir, "debugfs -R 'cat payload' p1.img 2>/dev/null | cmp - payload && echo ok").contains("ok") ? 1234567L : -1L);
        // the logical partition was zeroed, its neighbours were not touched
        assertEquals("0\n", sh(dir, "dd if=disk.img bs=512 skip=65536 count=10240 status=none | tr -d '\\0' | wc -c"));
    }

    @Test
    public void gptWrittenBySfdiskInTheViewIsReadAgain() throws Exception {
        Path dir = Launcher.workDir("gpt");
        sh(dir, "truncate -s 40M blank.img");
        Launcher.Result r = Launcher.bash(dir, String.join("\n",
                "um_add_service umdev && viewmount -t umdevmbr blank.img /dev/hdb || exit 1",
                "stat /dev/hdb1 >/dev/null 2>&1; echo before=$?",
                "printf 'label: gpt\\n,8M\\n,16M\\n,\\n' | sfdisk -q /dev/hdb; echo sfdisk=$?",
                "stat -c '%n %t:%T %s' /dev/hdb1 /dev/hdb2 /dev/hdb3",
                "blockdev --getsize64 /dev/hdb2",
                "mkfs.ext2 -q /dev/hdb2 && e2fsck -fn /dev/hdb2 >/dev/null 2>&1; echo fsck=$?"));
        assertEquals("stderr: " + r.err(), 0, r.status());
        String[] l = r.out().split("\n");
        assertEquals(r.out(), "before=1", l[0]);
        assertEquals(r.out(), "sfdisk=0", l[1]);
        assertTrue(r.out(), l[2].startsWith("/dev/hdb1 3:1 "));
        assertTrue(r.out(), l[3].startsWith("/dev/hdb2 3:2 16777216"));
        assertTrue(r.out(), l[4].startsWith("/dev/hdb3 3:3 "));
        assertEquals("16777216", l[5]);
        assertEquals("fsck=0", l[6]);
        String table = sh(dir, "sfdisk -d blank.img");
        assertTrue(table, table.contains("label: gpt") && table.contains("size=       32768"));
    }

    @Test
    public void hostileArgumentsGetTheKernelsErrnoAndTheViewGoesOn() throws Exception {
        Path dir = Launcher.workDir("hostile");
        String py = String.join("\n",
                "import ctypes, errno, os",
                "libc = ctypes.CDLL(None, use_errno=True)",
                "f = os.open('/dev/ram9', os.O_RDWR)",
                "def e(r):",
                "    return 'ok' if r >= 0 else errno.errorcode[ctypes.get_errno()]",
                "bad = ctypes.c_void_p(8)",
                "print(e(libc.read(f, bad, 100)), e(libc.write(f, bad, 100)),",
                "      e(libc.ioctl(f, ctypes.c_ulong(0x80081272), bad)), e(libc.fstat(f, bad)),",
                "      e(libc.readv(f, bad, 5000)), e(libc.readv(f, bad, 1)),",
                "      e(libc.lseek(f, ctypes.c_long(-5), 0)), e(libc.pread(f, ctypes.create_string_buffer(4), 4, ctypes.c_long(-1))),",
                "      e(libc.lseek(f, 0, 9)), e(libc.ioctl(f, ctypes.c_ulong(0xdead), 0)))",
                "print(len(os.pread(f, 10, 4096)))");
        Launcher.Result r = Launcher.run(dir, null, "bash", "-c", String.join("\n",
                "um_add_service umdev && viewmount -t umdevramdisk -o size=1M none /dev/ram9 || exit 1",
                "python3 -c \"$1\"",
                "echo alive"), "bash", py);
        assertEquals("stderr: " + r.err(), 0, r.status());
        assertEquals("EFAULT EFAULT EFAULT EFAULT EINVAL EFAULT EINVAL EINVAL EINVAL ENOTTY\n10\nalive\n", r.out());
    }

    @Test
    public void readOnlyAndBadMountsGiveTheKernelsErrors() throws Exception {
        Path dir = Launcher.workDir("rodev");
        sh(dir, "truncate -s 8M d.img && printf 'label: dos\\n,4M\\n' | sfdisk -q d.img && cp d.img d.orig");
        Launcher.Result r = Launcher.bash(dir, String.join("\n",
                "um_add_service umdev || exit 1",
                "viewmount -t umdevmbr -o ro d.img /dev/hdc || exit 1",
                "blockdev --getro /dev/hdc",
                "echo x > /dev/hdc1; echo write=$?",
                "python3 -c \"import os,errno\ntry: os.open('/dev/hdc', os.O_WRONLY)\n"
                        + "except OSError as e: print(errno.errorcode[e.errno])\"",
                "viewmount -t umdevramdisk -o size=12Q none /dev/r1; echo badsize=$?",
                "viewmount -t umdevramdisk -o colour=red none /dev/r1; echo badopt=$?",
                "viewmount -t umdevmbr nosuch.img /dev/r1; echo nosrc=$?",
                "viewmount -t umdevnosuch none /dev/r1; echo notype=$?",
                "viewmount -t umdevnull none /nodir/x; echo nodir=$?",
                "rm /dev/hdc 2>/dev/null; echo rm=$?; chmod 600 /dev/hdc 2>/dev/null; echo chmod=$?"));
        assertEquals("stderr: " + r.err(), 0, r.status());
        assertEquals(String.join("\n", "1", "write=1", "EROFS", "badsize=1", "badopt=1", "nosrc=1",
                "notype=1", "nodir=1", "rm=1", "chmod=1", ""), r.out());
        List<String> err = new ArrayList<>(List.of(r.err().split("\n")));
        assertTrue(r.err(), err.stream().anyMatch(s -> s.contains("Read-only file system")));
        assertTrue(r.err(), err.stream().anyMatch(s -> s.contains("bad size '12Q'")));
        assertTrue(r.err(), err.stream().anyMatch(s -> s.contains("unknown option colour")));
        assertEquals("the read-only image is unchanged", "",
                sh(dir, "cmp d.img d.orig && echo -n"));
    }
}
