package org.viewos.itests.transparency;

import static org.junit.Assert.assertTrue;

import java.nio.file.Paths;
import java.util.Random;

import org.junit.Test;
import org.viewos.itests.transparency.Runner.Case;

/**
 * Real-world programs in an empty view: interpreters, the compiler tool chain, git, a JVM, and
 * stdin handed to the launcher.
 *
 * <p>What each test proves (identical exit status, stdout, stderr):
 * <ul>
 * <li>{@link #pythonThreadsAndQueue}: CPython threads (clone3 + futex + GIL condvars) with a
 *     work queue give the same deterministic result.
 * <li>{@link #pythonSubprocess}: subprocess (vfork/posix_spawn path with its error pipe, pipes for
 *     capture, terminate() -&gt; -15, FileNotFoundError from a failed exec).
 * <li>{@link #pythonFork}: os.fork, pipes between parent and child, exec in the child, a child
 *     killed by SIGKILL.
 * <li>{@link #perlOneLiners}: perl -e/-ne/-le, fork, backticks, %ENV, getpwuid.
 * <li>{@link #gccInsideTheView}: gcc (cc1, as, collect2, ld: many execs and temp files) builds a
 *     program inside the view that prints and exits the same as one built outside; the binary
 *     is byte-identical.
 * <li>{@link #gitRepository}: git init/add/commit/branch/merge with fixed dates and identity give
 *     the same commit hashes.
 * <li>{@link #javaVersion}: a JVM (many threads, signals for safepoints, mmap) starts in the view.
 * <li>{@link #stdinPipedIntoLauncher}, {@link #largeStdin}: the launcher hands its stdin to the
 *     command, small from a shell pipe and 10 MB from a pipe and from a file.
 * </ul>
 */
public class InterpreterTransparencyTest extends TransparencyTestBase {

    static final String PY_THREADS = String.join("\n",
            "import threading, queue, hashlib",
            "work, out = queue.Queue(), queue.Queue()",
            "def worker(n):",
            "    while True:",
            "        item = work.get()",
            "        if item is None:",
            "            work.task_done(); return",
            "        out.put((item, hashlib.sha256(str(item).encode() * 1000).hexdigest()[:16]))",
            "        work.task_done()",
            "ts = [threading.Thread(target=worker, args=(i,)) for i in range(8)]",
            "for t in ts: t.start()",
            "for i in range(3000): work.put(i)",
            "for _ in ts: work.put(None)",
            "work.join()",
            "for t in ts: t.join()",
            "res = sorted(out.get() for _ in range(out.qsize()))",
            "print(len(res), hashlib.sha256(repr(res).encode()).hexdigest())",
            "lock = threading.Lock(); cond = threading.Condition(lock); box = []",
            "def producer():",
            "    for i in range(100):",
            "        with cond: box.append(i); cond.notify()",
            "p = threading.Thread(target=producer); p.start()",
            "got = 0",
            "while got < 100:",
            "    with cond:",
            "        cond.wait_for(lambda: box)",
            "        got += len(box); box.clear()",
            "p.join()",
            "print('condvar items', got, 'threads left', threading.active_count())");

    static final String PY_SUBPROCESS = String.join("\n",
            "import subprocess",
            "r = subprocess.run(['sh', '-c', 'echo out; echo err >&2; exit 3'], capture_output=True, text=True)",
            "print(r.returncode, repr(r.stdout), repr(r.stderr))",
            "p = subprocess.Popen(['sort', '-r'], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)",
            "o, _ = p.communicate('a\\nb\\nc\\n'); print(repr(o), p.returncode)",
            "p = subprocess.Popen(['sleep', '10']); p.terminate(); print('terminated', p.wait())",
            "print(subprocess.check_output('ls /proc/self/fd', shell=True).decode().split())",
            "try:",
            "    subprocess.run(['/nonexistent/prog'])",
            "except FileNotFoundError as e:",
            "    print('FileNotFoundError', e.errno)",
            "print(subprocess.call('exit 9', shell=True))",
            "print(subprocess.run(['cat'], input=b'x' * 200000, capture_output=True).stdout.count(b'x'))");

    static final String PY_FORK = String.join("\n",
            "import os, sys",
            "parent = os.getpid()",
            "r, w = os.pipe()",
            "pid = os.fork()",
            "if pid == 0:",
            "    os.close(r); os.write(w, b'child ppid-ok=%d' % (os.getppid() == parent)); os._exit(7)",
            "os.close(w)",
            "data = os.read(r, 100); _, st = os.waitpid(pid, 0)",
            "print(data.decode(), os.waitstatus_to_exitcode(st))",
            "sys.stdout.flush()",
            "pid = os.fork()",
            "if pid == 0:",
            "    os.execvp('sh', ['sh', '-c', 'echo exec in child; exit 5'])",
            "print('exec child', os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))",
            "sys.stdout.flush()",
            "pid = os.fork()",
            "if pid == 0:",
            "    os.kill(os.getpid(), 9)",
            "print('killed child', os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))",
            "kids = []",
            "for i in range(5):",
            "    pid = os.fork()",
            "    if pid == 0: os._exit(i)",
            "    kids.append(pid)",
            "print(sorted(os.waitstatus_to_exitcode(os.waitpid(k, 0)[1]) for k in kids))");

    @Test
    public void pythonThreadsAndQueue() {
        same(Case.of(require("python3"), "-c", PY_THREADS));
    }

    @Test
    public void pythonSubprocess() {
        same(Case.of(require("python3"), "-c", PY_SUBPROCESS));
    }

    @Test
    public void pythonFork() {
        same(Case.of(require("python3"), "-c", PY_FORK));
    }

    @Test
    public void perlOneLiners() {
        String perl = require("perl");
        same(Case.of(perl, "-e", "print join(',', map { $_ * 2 } 1..10), \"\\n\""));
        same(Case.of(perl, "-ne", "print if /a/", "/etc/passwd"));
        same(Case.of(perl, "-le", "print scalar(getpwuid($<)); print $0; print -d '/usr' ? 'dir' : 'no'"));
        same(Case.of(perl, "-e", "my $pid = fork(); if (!$pid) { exit 6 } waitpid($pid, 0); print $? >> 8, \"\\n\"; print `echo backticks`; print $ENV{TZ}, \"\\n\"; exit 4"));
        same(Case.of(perl, "-e", "die qq(dying\\n)"));
        same(Case.of(perl, "-e", "kill 'TERM', $$; sleep 1"));
    }

    @Test
    public void gccInsideTheView() {
        require("gcc");
        String src = Paths.get(System.getProperty("viewos.csrc", "src/test/c"), "hello.c").toAbsolutePath().toString();
        Runner.Pair p = same(Case.sh("gcc -O2 -o hello hello.c && ./hello a b; echo status=$?; sha256sum hello")
                .setup("cp '" + src + "' hello.c"));
        assertTrue(p.view.stdout, p.view.stdout.contains("status=3"));
        same(Case.sh("gcc -c hello.c && gcc -o hello2 hello.o && ./hello2; echo $?; gcc -x c - -o bad <<EOF\nint main( {\nEOF\necho gcc-status=$?")
                .setup("cp '" + src + "' hello.c"));
    }

    @Test
    public void gitRepository() {
        require("git");
        Case c = Case.sh(String.join("\n",
                "set -e",
                "git -c init.defaultBranch=main init -q repo && cd repo",
                "printf 'one\\n' > a.txt; git add a.txt; git commit -q -m first",
                "mkdir d; seq 100 > d/n; git add -A; git commit -q -m second",
                "git branch b2; git checkout -q b2; echo more >> a.txt; git commit -q -am third",
                "git checkout -q main; git merge -q --no-edit b2",
                "git log --format=%H",
                "git log --format='%H %T %s %an <%ae> %ad'",
                "git status --porcelain; git rev-parse 'HEAD^{tree}'",
                "git diff --stat HEAD~2 HEAD",
                "git cat-file -p HEAD",
                "git fsck -q && echo fsck-ok"));
        String date = "2020-02-03T04:05:06+0000";
        c.env("GIT_AUTHOR_NAME", "View Tester").env("GIT_AUTHOR_EMAIL", "view@example.org")
                .env("GIT_COMMITTER_NAME", "View Tester").env("GIT_COMMITTER_EMAIL", "view@example.org")
                .env("GIT_AUTHOR_DATE", date).env("GIT_COMMITTER_DATE", date)
                .env("GIT_CONFIG_NOSYSTEM", "1").env("GIT_CONFIG_GLOBAL", "/dev/null");
        Runner.Pair p = same(c);
        String[] lines = p.view.stdout.split("\n");
        for (int i = 0; i < 3; i++) assertTrue("a commit hash: " + lines[i], lines[i].matches("[0-9a-f]{40}"));
    }

    @Test
    public void javaVersion() {
        same(Case.of(require("java"), "-version"));
        same(Case.of(require("java"), "-XX:+UseSerialGC", "-Xshare:auto", "-version"));
    }

    @Test
    public void stdinPipedIntoLauncher() {
        same(Case.of("sort", "-r").wrap("printf 'a\\nb\\n' | \"$@\""));
        same(Case.of("sh", "-c", "read a; read b; echo \"$b $a\"; cat").wrap("printf 'a\\nb\\nc\\n' | \"$@\""));
        same(Case.of("head", "-c", "5").wrap("yes | \"$@\""));
    }

    @Test
    public void largeStdin() {
        byte[] data = new byte[10 * 1024 * 1024];
        new Random(42).nextBytes(data);
        same(Case.of("sha256sum").stdin(data));
        same(Case.of("sha256sum").setup("yes 'a line of text 0123456789' | head -c 10485760 > big.bin").stdinFile("big.bin"));
        same(Case.of("wc", "-c").stdin(data));
    }
}
