package org.viewos.itests.transparency;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;

import org.junit.Test;
import org.viewos.itests.transparency.Runner.Case;

/**
 * Coreutils, find, tar and dd inside an empty view: the file system looks and behaves exactly as
 * outside.
 *
 * <p>What each test proves (native and view: identical exit status, stdout, stderr):
 * <ul>
 * <li>{@link #lsOfPreparedTree}: stat/lstat/statx, getdents64, readlink and xattr/ACL probes give
 *     the same answers (modes, sizes, link counts, owners, fixed mtimes, symlink targets).
 * <li>{@link #catSortUniqWcSha256}: plain reads and pipes carry the same bytes.
 * <li>{@link #fileOperations}: cp -a (copy_file_range, utimensat, fchmod, fchown, symlink),
 *     mv (rename), rm -r (unlinkat, rmdir), mkdir -p, ln -s, readlink -f, stat -c, du.
 * <li>{@link #identityCwdAndExe}: id, pwd (getcwd), /proc/self/exe of readlink itself equals the
 *     resolved path of the readlink binary (the tracer does not show through), the environment.
 * <li>{@link #openFdsOfProcSelf}: the command sees exactly fds 0,1,2 (+ the one ls opens): no fd
 *     of the launcher or daemon leaks into the traced process.
 * <li>{@link #inheritedExtraFd}: an fd opened by the caller (3&lt;file) reaches the command.
 * <li>{@link #findOverFixture}, {@link #findUsrShareDoc}: directory walks with fstatat/openat.
 * <li>{@link #tarRoundTrip}: tar c | tar t, | sha256sum, tar x + diff -r are byte-identical.
 * <li>{@link #ddThroughPipe}: 80 MB through a pipe, same hash and same record counts.
 * </ul>
 * Normalizations: none except /proc/&lt;pid&gt;/ in fd listings (pids differ between any two runs).
 */
public class CoreutilsTransparencyTest extends TransparencyTestBase {

    /** A small tree with fixed contents, modes and mtimes (ls/stat output is then deterministic). */
    static final String FIXTURE = String.join("\n",
            "set -e",
            "mkdir -p fx/sub/deeper fx/empty 'fx/with space'",
            "printf 'banana\\napple\\ncherry\\napple\\n' > fx/fruits.txt",
            "seq 1 1000 > fx/sub/numbers.txt",
            "head -c 5000 /dev/zero | tr '\\0' x > fx/sub/deeper/x.txt",
            "printf 'odd name\\n' > 'fx/with space/file name.txt'",
            "ln -s fruits.txt fx/link-to-fruits",
            "ln -s ../fruits.txt fx/sub/up-link",
            "ln -s /nonexistent/target fx/dangling",
            "ln fx/fruits.txt fx/hardlink",
            "chmod 600 fx/sub/numbers.txt; chmod 750 fx/sub/deeper; chmod 1777 fx/empty",
            "find fx -exec touch -h -d '2020-02-03 04:05:06' {} +",
            "touch -d '2020-02-03 04:05:06' .");

    @Test
    public void lsOfPreparedTree() {
        same(Case.of("ls", "-la", "fx", "fx/sub", "fx/sub/deeper", "fx/empty").setup(FIXTURE));
        same(Case.of("ls", "-laR", "--time-style=full-iso", "fx").setup(FIXTURE));
        same(Case.of("ls", "-ldn", "--time-style=+%s", "fx/fruits.txt", "fx/hardlink", "/", "/usr/bin")
                .setup(FIXTURE));
        same(Case.of("ls", "-l", "/nonexistent", "fx/missing").setup(FIXTURE));
    }

    @Test
    public void catSortUniqWcSha256() {
        same(Case.sh(String.join("\n",
                "cat fx/fruits.txt | sort | uniq -c",
                "sort -u fx/fruits.txt; sort -rn fx/sub/numbers.txt | head -3",
                "wc fx/sub/numbers.txt fx/fruits.txt; wc -c < fx/sub/deeper/x.txt",
                "sha256sum fx/fruits.txt fx/sub/numbers.txt 'fx/with space/file name.txt'",
                "cat fx/link-to-fruits fx/sub/up-link | wc -l",
                "cat fx/dangling; echo cat-status=$?",
                "seq 1 200000 > rnd; cat rnd rnd | cmp - rnd; echo cmp=$?"))
                .setup(FIXTURE));
        same(Case.of("sort", "-r").stdin("a\nc\nb\n"));
    }

    @Test
    public void fileOperations() {
        same(Case.sh(String.join("\n",
                "set -e",
                "cp -a fx copy",
                "ls -lAR --time-style=full-iso copy",
                "mv copy/fruits.txt copy/moved.txt",
                "rm -r copy/sub/deeper",
                "mkdir -p a/b/c/d && mkdir -p a/b/c/d",
                "ln -s ../../fx a/b/lnk",
                "readlink a/b/lnk; readlink -f a/b/lnk/sub/up-link; readlink -f a/b/c/d/../../lnk/link-to-fruits",
                "readlink -e fx/dangling || echo readlink-e=$?",
                "stat -c '%n %s %a %F %h %u %g %Y' fx/fruits.txt fx/hardlink fx/sub fx/link-to-fruits copy/moved.txt 'fx/with space/file name.txt'",
                "stat -L -c '%n %s %F' fx/link-to-fruits",
                "du -ab fx | sort -k2; du -s --apparent-size fx",
                "find copy a | sort",
                "ls -la --time-style=+ copy copy/sub",
                "cp fx/fruits.txt f2 && chmod 400 f2 && stat -c '%a' f2 && rm -f f2 && ls f2 || echo gone",
                "mkdir ro && chmod 555 ro && touch ro/x 2>/dev/null; echo touch-in-ro=$?; rmdir ro",
                "truncate -s 1M sparse && stat -c '%s' sparse && du --apparent-size -k sparse",
                "ln fx/sub/numbers.txt hl && stat -c '%h' hl fx/sub/numbers.txt",
                "mkfifo fifo && stat -c '%F' fifo",
                "echo done"))
                .setup(FIXTURE));
        // errors: messages and statuses must match too
        same(Case.sh("mkdir fx; rmdir fx/sub; rm fx/sub; mv nosuch x; cp -r fx/nosuch y; echo status=$?").setup(FIXTURE));
    }

    @Test
    public void identityCwdAndExe() {
        Runner.Pair p = same(Case.sh(String.join("\n",
                "id; id -un; id -G; umask",
                "pwd; pwd -P; cd fx/sub && pwd && /bin/pwd",
                "readlink /proc/self/exe",
                "readlink -f \"$(command -v readlink)\"",
                "ls -l --time-style=+ /proc/self/cwd | sed 's/.* -> //'",
                "cat /proc/self/comm",
                "ulimit -n; ulimit -s; ulimit -c"))
                .setup(FIXTURE));
        String[] lines = p.view.stdout.split("\n");
        // readlink /proc/self/exe and readlink -f $(which readlink): lines 9 and 10
        int i = java.util.Arrays.asList(lines).indexOf("/usr/bin/readlink");
        assertFalse("readlink /proc/self/exe not /usr/bin/readlink in view:\n" + p.view.stdout, i < 0);
        assertEquals("/proc/self/exe of readlink in the view", lines[i + 1], lines[i]);
        // the one change a view makes to the environment: the launcher's bin/ (the in-view commands)
        // is appended to PATH when it is not there (README, "Running a view")
        String bin = ":" + java.nio.file.Paths.get(System.getProperty("viewos.home", "../distribution/target/viewos"),
                "bin").toAbsolutePath().normalize();
        same(Case.of("env").normalize(s -> s.replace(bin + "\n", "\n")));
        same(Case.of("pwd"));
    }

    @Test
    public void openFdsOfProcSelf() {
        same(Case.of("ls", "-l", "--time-style=+", "/proc/self/fd").normalize(TransparencyTestBase::maskProcPids));
        same(Case.of("ls", "/proc/self/fd"));
        // the same with stdin a pipe, and through a shell
        same(Case.of("ls", "-l", "--time-style=+", "/proc/self/fd").stdin("x\n")
                .normalize(s -> maskProcPids(s).replaceAll("pipe:\\[[0-9]+\\]", "pipe:[N]")));
        // no pipeline here: while dash sets one up, its own fd table briefly holds the pipe
        same(Case.sh("ls /proc/$$/fd; ls -l --time-style=+ /proc/$$/fd > l.txt; sed 's/.*[0-9] //' l.txt"));
    }

    /**
     * An fd the caller opened beyond 0..2 is inherited by the command (POSIX exec semantics).
     * A launcher that does not pass extra fds through fails here, as the view is then visible.
     */
    @Test
    public void inheritedExtraFd() {
        same(Case.of("ls", "-l", "--time-style=+", "/proc/self/fd").setup(FIXTURE)
                .wrap("exec 3<fx/fruits.txt; exec \"$@\"").normalize(TransparencyTestBase::maskProcPids));
        same(Case.of("sh", "-c", "cat <&3; echo to-fd-4 >&4").setup(FIXTURE)
                .wrap("exec 3<fx/fruits.txt 4>out4.txt; \"$@\"; s=$?; cat out4.txt; exit $s"));
    }

    @Test
    public void findOverFixture() {
        same(Case.sh(String.join("\n",
                "find fx | sort",
                "find fx -type f -size +1k | sort",
                "find fx -type l -printf '%p -> %l\\n' | sort",
                "find fx -maxdepth 1 -type d | sort",
                "find fx -perm 600; find fx -perm -1000",
                "find fx -name '*.txt' -newermt '2020-01-01' | sort",
                "find fx -follow -name up-link 2>&1 | sort",
                "find fx -xtype l | sort",
                "find fx -samefile fx/fruits.txt | sort",
                "find fx -empty | sort",
                "find fx/nosuch; echo find-status=$?"))
                .setup(FIXTURE));
    }

    @Test
    public void findUsrShareDoc() {
        same(Case.sh("find /usr/share/doc -name '*.gz' | sort | head -200"));
        same(Case.sh("find /usr/share/doc | wc -l; find /usr/share/doc -type l | wc -l"));
    }

    @Test
    public void tarRoundTrip() {
        String tarc = "tar --sort=name --mtime=@1580702706 --owner=0 --group=0 --numeric-owner -cf - fx";
        same(Case.sh(tarc + " | tar tvf -").setup(FIXTURE));
        same(Case.sh(tarc + " | sha256sum").setup(FIXTURE));
        same(Case.sh(String.join("\n",
                "set -e",
                "tar -cf fx.tar fx",
                "mkdir out && tar -xpf fx.tar -C out",
                "diff -r fx out/fx && echo identical",
                "ls -lAR --time-style=full-iso out",
                "tar -czf fx.tgz fx && tar -tzf fx.tgz | sort"))
                .setup(FIXTURE));
    }

    @Test
    public void ddThroughPipe() {
        // dd's third status line carries the elapsed time and rate: dropped (legitimately differs)
        same(Case.sh("dd if=/dev/zero bs=4k count=20000 2>dd.err | sha256sum; head -2 dd.err"));
        same(Case.sh("dd if=/dev/zero of=/dev/null bs=1M count=50 status=none; echo $?"));
    }
}
