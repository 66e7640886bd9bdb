#!/usr/bin/env python3
"""Hostile NETLINK_ROUTE input from a traced program (run under mstack on a umnet stack): headers
with lying lengths, truncated buffers, attributes that overrun their message, unknown types, random
bytes; receives into tiny buffers and at bad addresses. Prints how many inputs were tried and how
the calls ended; then checks that the stack still answers a link dump.

usage: nlfuzz.py ROUNDS SEED
"""
import ctypes
import errno
import os
import random
import socket
import struct
import sys

rounds, seed = int(sys.argv[1]), int(sys.argv[2])
rng = random.Random(seed)
outcomes = {}


def note(what):
    outcomes[what] = outcomes.get(what, 0) + 1


def hdr(length, typ, flags=1, seq=1):
    return struct.pack("<IHHII", length, typ, flags, seq, 0)


def hostile():
    k = rng.randrange(9)
    if k == 0:  # a header whose length lies
        return hdr(rng.choice([0, 1, 15, 17, 4096, 0xFFFFFFFF, 1 << 31]), rng.choice([18, 20, 22, 26])) + os.urandom(rng.randrange(0, 40))
    if k == 1:  # shorter than a header
        return os.urandom(rng.randrange(0, 16))
    if k == 2:  # rtattrs overrunning the message (RTM_NEWADDR, ifaddrmsg + attribute)
        attr = struct.pack("<HH", rng.choice([0, 1, 3, 200, 0xFFFF]), 1) + os.urandom(4)
        body = struct.pack("<BBBBI", 2, 24, 0, 0, 1) + attr
        return hdr(16 + len(body), 20, 1 | 0x400 | 0x200) + body
    if k == 3:  # fixed part missing (RTM_GETLINK with 2 bytes)
        return hdr(18, 18, 1 | 0x300) + b"\0\0"
    if k == 4:  # an rtnetlink type lwip does not serve
        return hdr(32, rng.choice([28, 30, 64, 100, 0xFFFF]), 1) + os.urandom(16)
    if k == 5:  # random bytes
        return os.urandom(rng.randrange(16, 300))
    if k == 6:  # several messages, the second broken
        good = hdr(32, 18, 1 | 0x300) + bytes(16)
        return good + hdr(rng.choice([3, 1000]), 22) + os.urandom(8)
    if k == 7:  # a correct-looking RTM_NEWLINK with random attributes (valid lengths)
        attrs = b""
        for _ in range(rng.randrange(1, 4)):
            payload = os.urandom(rng.randrange(0, 12))
            a = struct.pack("<HH", 4 + len(payload), rng.randrange(0, 60)) + payload
            attrs += a + bytes((4 - len(a) % 4) % 4)
        body = struct.pack("<BBHiII", 0, 0, 0, rng.randrange(-2, 5), 0, 0) + attrs
        return hdr(16 + len(body), 16, 1 | 0x4) + body
    return hdr(16, rng.randrange(0, 16), rng.randrange(0, 0x10000))  # control types, odd flags


def drain(s):
    while True:
        try:
            data = s.recv(rng.choice([0, 1, 16, 65536]), socket.MSG_DONTWAIT | rng.choice([0, socket.MSG_TRUNC, socket.MSG_PEEK]))
            note("recv %s" % ("empty" if not data else "data"))
            if rng.random() < 0.5:
                continue
            return
        except BlockingIOError:
            return
        except OSError as e:
            note("recv " + errno.errorcode.get(e.errno, str(e.errno)))
            return


libc = ctypes.CDLL(None, use_errno=True)
tried = 0
for r in range(rounds):
    s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, socket.NETLINK_ROUTE)
    for _ in range(10):
        msg = hostile()
        tried += 1
        try:
            s.send(msg)
            note("send ok")
        except OSError as e:
            note("send " + errno.errorcode.get(e.errno, str(e.errno)))
        drain(s)
    # bad addresses: the caller gets EFAULT, the daemon nothing to trip on
    for addr in (1, 0xdead0000, 0x7fffffffffff):
        tried += 1
        n = libc.send(s.fileno(), ctypes.c_void_p(addr), 32, 0)
        note("send-bad-pointer %s" % ("ok" if n >= 0 else errno.errorcode.get(ctypes.get_errno(), "?")))
        tried += 1
        n = libc.recv(s.fileno(), ctypes.c_void_p(addr), 64, 0x40)
        note("recv-bad-pointer %s" % ("ok" if n >= 0 else errno.errorcode.get(ctypes.get_errno(), "?")))
    s.close()

# the stack still answers: a link dump lists its interfaces
s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, socket.NETLINK_ROUTE)
s.send(hdr(32, 18, 1 | 0x300, 99) + bytes(16))
names = []
done = False
while not done:
    data = s.recv(65536)
    off = 0
    while off + 16 <= len(data):
        length, typ = struct.unpack_from("<IH", data, off)
        if typ == 3 or length < 16:
            done = True
            break
        if typ == 16:
            a = off + 32
            while a + 4 <= off + length:
                alen, atype = struct.unpack_from("<HH", data, a)
                if alen < 4:
                    break
                if atype == 3:
                    names.append(data[a + 4:a + alen].split(b"\0")[0].decode())
                a += (alen + 3) & ~3
        off += (length + 3) & ~3
print("inputs %d" % tried)
for k in sorted(outcomes):
    print("%s %d" % (k, outcomes[k]), file=sys.stderr)
print("links " + " ".join(sorted(names)))
