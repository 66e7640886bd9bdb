#!/usr/bin/env python3
"""A hostile FUSE daemon, run inside a view: opens the view's /dev/fuse, mounts MNT with mount(2)
(fd=N, as libfuse does), answers INIT correctly and every later request with garbage chosen by
MODE and a seed. Fault injection for umfuse: its callers must get errors, never a hang or a crash.

usage: badfuse.py MNT MODE SEED     MODE: short | badlen | longer | unique | errno | body | random | close
"""
import ctypes
import os
import random
import struct
import sys

mnt, mode, seed = sys.argv[1], sys.argv[2], int(sys.argv[3])
rng = random.Random(seed)
fd = os.open("/dev/fuse", os.O_RDWR)
libc = ctypes.CDLL(None, use_errno=True)
opts = ("fd=%d,rootmode=40000,user_id=0,group_id=0" % fd).encode()
if libc.mount(b"badfuse", mnt.encode(), b"fuse.badfuse", 0, opts) != 0:
    print("mount failed:", os.strerror(ctypes.get_errno()), file=sys.stderr)
    sys.exit(1)
print("mounted", flush=True)
sent = 0


def reply(unique, error, body=b""):
    os.write(fd, struct.pack("<IiQ", 16 + len(body), error, unique) + body)


while True:
    try:
        req = os.read(fd, 1 << 20)
    except OSError:
        break
    if len(req) < 40:
        break
    length, opcode, unique = struct.unpack_from("<IIQ", req)
    if opcode == 26:  # INIT: a correct answer, so that the garbage reaches the later requests
        reply(unique, 0, struct.pack("<IIIIHHII", 7, 31, 65536, 0, 16, 12, 65536, 1) + bytes(32))
        continue
    if opcode == 3 and struct.unpack_from("<Q", req, 16)[0] == 1:  # GETATTR of the root: correct too
        attr = struct.pack("<QQQQQQIIIIIIIIII", 1, 0, 0, 0, 0, 0, 0, 0, 0, 0o40755, 2, 0, 0, 0, 4096, 0)
        reply(unique, 0, struct.pack("<QII", 1, 0, 0) + attr)
        continue
    if opcode == 38:  # DESTROY
        reply(unique, 0)
        break
    sent += 1
    m = mode if mode != "random" else rng.choice(["short", "badlen", "longer", "errno", "body", "unique"])
    if m == "short":
        os.write(fd, bytes(rng.randrange(0, 16)))
    elif m == "badlen":
        os.write(fd, struct.pack("<IiQ", rng.choice([0, 15, 1 << 30, 0xFFFFFFFF]), 0, unique) + bytes(rng.randrange(0, 64)))
    elif m == "longer":
        body = os.urandom(rng.randrange(8, 200))
        os.write(fd, struct.pack("<IiQ", 16 + len(body) // 2, 0, unique) + body)
    elif m == "errno":
        reply(unique, rng.choice([-5000, 7, -(1 << 31), 4096, -4096]))
    elif m == "body":
        reply(unique, 0, os.urandom(rng.randrange(0, 200)))
    elif m == "unique":
        reply(unique + 1000, 0, bytes(120))
        reply(unique, -2)  # then the true answer: ENOENT
    elif m == "close":
        os.close(fd)
        break
print("garbage replies:", sent, file=sys.stderr, flush=True)
