package org.viewos.core.internal.arch;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertTrue;
import static org.junit.Assume.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.Test;
import org.viewos.core.internal.arch.SyscallTable.Entry;
import org.viewos.core.internal.arch.SyscallTable.Kind;

/** The one syscall table file against the host's kernel headers, and its specs against their rules. */
public class TableTest {
    private static final Path HEADER = Path.of("/usr/include/x86_64-linux-gnu/asm/unistd_64.h");

    @Test
    public void numbersAndNamesMatchTheHostHeaders() throws Exception {
        assumeTrue("kernel headers (linux-libc-dev) installed", Files.isRegularFile(HEADER));
        Map<String, Integer> host = new HashMap<>();
        Matcher m = Pattern.compile("#define __NR_(\\w+) (\\d+)").matcher(Files.readString(HEADER));
        while (m.find()) {
            host.put(m.group(1), Integer.parseInt(m.group(2)));
        }
        SyscallTable t = SyscallTable.x86_64();
        assertTrue("the header lists syscalls", host.size() > 300);
        for (Map.Entry<String, Integer> h : host.entrySet()) {
            Entry e = t.byName(h.getKey());
            assertNotNull("table lacks " + h.getKey(), e);
            assertEquals("number of " + h.getKey(), (int) h.getValue(), e.number());
        }
        for (Entry e : t.entries()) {
            if (host.containsKey(e.name())) {
                continue;
            }
            // newer than these headers (6.1): checked by name against the kernel's own table
            assertTrue("unknown call " + e.name() + " " + e.number(),
                    e.kind() == Kind.VIEWOS || (e.number() > 450 && e.number() < 470));
        }
    }

    @Test
    public void specsFollowTheirRules() {
        SyscallTable t = SyscallTable.x86_64();
        for (Entry e : t.entries()) {
            if (e.kind() == Kind.PATH) {
                assertTrue(e.name() + " has path specs", !e.paths().isEmpty());
                for (SyscallTable.PathArg pa : e.paths()) {
                    assertTrue(e.name(), pa.pathArg() >= 0 && pa.pathArg() < 6 && pa.dirfdArg() < 6);
                }
            } else {
                assertTrue(e.name() + " has no path specs", e.paths().isEmpty());
            }
            if (e.kind() == Kind.GUARD && !e.conditional() && e.pidArg() < 0) {
                assertTrue(e.name() + " is checked by name", java.util.Set.of("connect", "bind", "seccomp",
                        "pidfd_send_signal", "pidfd_getfd").contains(e.name()));
            }
        }
        assertEquals(1770, t.number("viewos_ctl"));
        assertEquals(Kind.ENOSYS, t.byName("openat2").kind());
        assertEquals(Kind.ENOSYS, t.byName("io_uring_setup").kind());
        assertEquals(SyscallTable.Access.EXEC, t.byName("execve").paths().get(0).access());
    }
}
