package org.viewos.core.internal;

import static org.junit.Assert.assertEquals;

import java.io.File;
import java.nio.file.Files;
import java.util.List;
import java.util.Map;

import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;
import org.viewos.core.api.FileSystem;
import org.viewos.core.api.FileSystemType;
import org.viewos.core.api.ViewModule;

/** The tracer without OSGi: a command runs, its output and status come through, a mount redirects. */
public class TracerSmokeTest {
    /** A perl one-liner doing the viewos_ctl call with the request that follows it. */
    private static final String CTL = "perl -e 'my $b = \"\\0\" x 4096; my $q = join(\"\\0\", @ARGV); "
            + "my $r = syscall(1770, $q, length($q), $b, 4096); print $r < 0 ? \"$r $!\\n\" : substr($b, 0, $r)' ";
    @Rule
    public TemporaryFolder tmp = new TemporaryFolder();

    private String run(ViewRegistry r, String script, int expectStatus) throws Exception {
        File out = tmp.newFile();
        File err = tmp.newFile();
        int st = r.run(List.of("/bin/sh", "-c", script), System.getenv(), tmp.getRoot(),
                new File[] {new File("/dev/null"), out, err});
        String o = Files.readString(out.toPath());
        assertEquals("status of " + script + " (stderr: " + Files.readString(err.toPath()) + ")", expectStatus, st);
        return o;
    }

    @Test
    public void transparentRun() throws Exception {
        ViewRegistry r = new ViewRegistry();
        assertEquals("hello\n", run(r, "echo hello", 0));
        assertEquals("", run(r, "exit 42", 42));
        assertEquals("", run(r, "kill -TERM $$", 128 + 15));
        assertEquals("3\n", run(r, "printf 'a\\nb\\nc\\n' | wc -l", 0));
    }

    @Test
    public void mountRedirectsPaths() throws Exception {
        ViewRegistry r = new ViewRegistry();
        FileSystemType unreal = new FileSystemType() {
            @Override
            public boolean handles(String fstype) {
                return fstype.equals("unreal");
            }

            @Override
            public FileSystem mount(String source, String target, String fstype, Map<String, String> options) {
                String root = source.equals("/") ? "" : source;
                return (rel, access) -> root + "/" + rel;
            }
        };
        r.bindModule(new ViewModule() {
            public String name() {
                return "unreal";
            }

            public String description() {
                return "test";
            }
        }, null);
        r.bindFileSystemType(unreal, null);
        r.mount("/", "/unreal", "unreal", "");
        String host = Files.readString(new File("/etc/hostname").toPath());
        assertEquals(host, run(r, "cat /unreal/etc/hostname", 0));
        assertEquals(host, run(r, "cd /unreal/etc && cat hostname", 0));
        assertEquals("/unreal/etc\n", run(r, "cd /unreal/etc && /bin/pwd", 0));
        assertEquals(host, run(r, "cd /unreal/etc && cat ../etc/hostname", 0));
        assertEquals("yes\n", run(r, "[ -d /unreal/usr/bin ] && echo yes", 0));
        // the control channel, as the in-view commands use it
        assertEquals("unreal: test\n", run(r, CTL + "ls_service", 0));
        assertEquals("-1 No such file or directory\n", run(r, CTL + "del_service nosuch", 0));
        // mount(2) of a type a module claims is virtual
        assertEquals("0\n" + host, run(r, "mkdir -p m && perl -e 'my ($s, $t, $f) = (\"/etc\", \"m\", \"unreal\"); print syscall(165, $s, $t, $f, 0, 0), \"\\n\"' && cat m/hostname", 0));
        assertEquals("/ /unreal unreal defaults (?)\n/etc " + tmp.getRoot().getCanonicalPath() + "/m unreal defaults (?)\n", run(r, CTL + "mounts", 0));
    }
}
