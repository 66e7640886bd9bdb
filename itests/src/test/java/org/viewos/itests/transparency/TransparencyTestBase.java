package org.viewos.itests.transparency;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.regex.Pattern;

import org.junit.Assume;
import org.junit.Before;
import org.junit.Rule;
import org.junit.rules.TestName;

/** Gives each test method its own {@link Runner} (own directory, launcher resolved or failed). */
public abstract class TransparencyTestBase {

    @Rule public final TestName testName = new TestName();

    protected Runner runner;

    @Before
    public void createRunner() {
        runner = new Runner(getClass().getSimpleName() + "." + testName.getMethodName());
    }

    /** Runs natively and in the view; exit status, stdout and stderr must be identical. */
    protected Runner.Pair same(Runner.Case c) {
        return runner.assertSame(c);
    }

    /** Absolute path of an installed program, or an Assume-skip when it is missing. */
    protected static String require(String program) {
        for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(":")) {
            Path p = Paths.get(dir, program);
            if (!dir.contains("pyenv") && Files.isExecutable(p)) return p.toString();
        }
        for (String dir : new String[] {"/usr/bin", "/bin", "/usr/sbin", "/sbin"}) {
            Path p = Paths.get(dir, program);
            if (Files.isExecutable(p)) return p.toString();
        }
        Assume.assumeTrue(program + " is not installed (./run-tests installs it)", false);
        return null;
    }

    /** Replaces /proc/&lt;pid&gt;/ by /proc/PID/: pids differ between any two runs. */
    protected static String maskProcPids(String s) {
        return PROC_PID.matcher(s).replaceAll("/proc/PID/");
    }

    private static final Pattern PROC_PID = Pattern.compile("/proc/[0-9]+/");
}
