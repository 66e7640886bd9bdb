#!/usr/bin/env python3
"""Job control at a terminal: runs COMMAND... (an interactive bash, natively or in a view) on a new
pseudo-terminal and types at it like a user: a sleep, Ctrl-Z, jobs, fg, Ctrl-C, a background job
brought back with fg and ended by Ctrl-C again. Prints what the user would note, one line each.

usage: ptyjobs.py COMMAND [ARGS...]
"""
import os
import pty
import re
import select
import sys
import time

pid, fd = pty.fork()
if pid == 0:
    os.environ["PS1"] = "PROMPT$ "
    os.environ["TERM"] = "dumb"
    os.execvp(sys.argv[1], sys.argv[1:])

buf = b""


def expect(pattern, timeout=20):
    """Reads until the regex shows up in what came since the last expect; returns that text."""
    global buf
    end = time.time() + timeout
    while True:
        m = re.search(pattern.encode(), buf)
        if m:
            out = buf[:m.end()]
            buf = buf[m.end():]
            return out.decode(errors="replace")
        left = end - time.time()
        if left <= 0:
            print("TIMEOUT waiting for %r; got %r" % (pattern, buf[-300:]))
            sys.exit(1)
        r, _, _ = select.select([fd], [], [], left)
        if r:
            try:
                data = os.read(fd, 4096)
            except OSError:
                data = b""
            if not data:
                print("EOF waiting for %r; got %r" % (pattern, buf[-300:]))
                sys.exit(1)
            buf += data


def say(text):
    os.write(fd, text.encode())


expect(r"PROMPT\$ ")
say("sleep 30\n")
time.sleep(1.0)
say("\x1a")  # Ctrl-Z
out = expect(r"PROMPT\$ ")
print("ctrl-z: " + ("stopped" if "Stopped" in out else "not stopped: %r" % out))
say("jobs -l\n")
out = expect(r"PROMPT\$ ")
print("jobs: " + ("sleep stopped" if re.search(r"Stopped\s+sleep 30", out) else "%r" % out))
say("fg\n")
expect(r"sleep 30")
time.sleep(1.0)
say("\x03")  # Ctrl-C
expect(r"PROMPT\$ ")
say("echo status=$?\n")
out = expect(r"PROMPT\$ ")
print("after fg and ctrl-c: " + re.search(r"status=\d+", out).group(0))
say("sleep 30 &\n")
expect(r"PROMPT\$ ")
say("fg %1\n")
expect(r"sleep 30")
time.sleep(1.0)
say("\x03")
expect(r"PROMPT\$ ")
say("echo status=$?; jobs | wc -l\n")
out = expect(r"PROMPT\$ ")
m = re.search(r"status=(\d+)\s+(\d+)", out)
print("background job, fg, ctrl-c: status=%s jobs-left=%s" % (m.group(1), m.group(2)))
say("exit\n")
_, st = os.waitpid(pid, 0)
print("exit: %d" % os.waitstatus_to_exitcode(st))
