# In a view: open /dev/net/tun, attach a TAP and exchange Ethernet frames with peer.py (which
# echoes frames of EtherType 0x88b5 back with the addresses swapped) over the VDE switch.
import errno, fcntl, os, select, signal, struct, sys, time
TUNSETIFF, TUNGETIFF = 0x400454ca, 0x800454d2
IFF_TUN, IFF_TAP, IFF_NO_PI = 1, 2, 0x1000
ME, PEER = bytes.fromhex('020000000001'), bytes.fromhex('020000000002')

def err(fn):
    try:
        fn()
        return 'ok'
    except OSError as e:
        return errno.errorcode[e.errno]

def frame(i, dst=b'\xff' * 6):
    return dst + ME + b'\x88\xb5' + bytes((i * 7 + k) % 256 for k in range(46 + (i * 37) % 1400))

f = os.open('/dev/net/tun', os.O_RDWR)
print('before', err(lambda: os.read(f, 2000)), err(lambda: fcntl.ioctl(f, TUNGETIFF, bytes(40))))
print('tun', err(lambda: fcntl.ioctl(f, TUNSETIFF, struct.pack('16sH22x', b'', IFF_TUN))))
r = fcntl.ioctl(f, TUNSETIFF, struct.pack('16sH22x', b'vtap%d', IFF_TAP | IFF_NO_PI))
print('name', r[:16].rstrip(b'\0').decode())
print('again', err(lambda: fcntl.ioctl(f, TUNSETIFF, struct.pack('16sH22x', b'', IFF_TAP | IFF_NO_PI))))
g = fcntl.ioctl(f, TUNGETIFF, bytes(40))
print('get', g[:16].rstrip(b'\0').decode(), hex(struct.unpack('H', g[16:18])[0]))
os.set_blocking(f, False)
print('nonblocking', err(lambda: os.read(f, 2000)))
os.set_blocking(f, True)

# a poll-driven loop with up to 8 frames in flight, mixed with a pipe that is never ready; frames
# the switch drops under load (Ethernet may lose frames) are sent again after a second
n = int(sys.argv[1])
rp, wp = os.pipe()
sent = [frame(i) for i in range(n)]
want = {ME + PEER + s[12:]: i for i, s in enumerate(sent)}
got = {}
pending = set()
i = 0
resends = 0
p = select.poll()
p.register(f, select.POLLIN)
p.register(rp, select.POLLIN)
while len(got) < n and resends < 30:
    while i < n and len(pending) < 8:
        os.write(f, sent[i])
        pending.add(i)
        i += 1
    ev = p.poll(1000)
    if not ev:
        resends += 1
        for k in pending:
            os.write(f, sent[k])
        continue
    assert all(fd == f for fd, _ in ev), ev
    fr = os.read(f, 2000)
    k = want.get(fr)
    if k is not None and k in pending:
        got[k] = fr
        pending.discard(k)
print('echoed', len(got), 'identical', len(got) == n and all(want[g] == k for k, g in got.items()))

# a blocking read that has to wait for the echo; then one a signal interrupts
os.write(f, frame(n))
print('blocking', os.read(f, 2000) == ME + PEER + frame(n)[12:])
def alarm(sig, fr):
    raise InterruptedError('alarm')
signal.signal(signal.SIGALRM, alarm)
signal.setitimer(signal.ITIMER_REAL, 0.3)
try:
    os.read(f, 2000)
    print('read returned')
except InterruptedError:
    print('interrupted')
sys.stdout.flush()
if len(sys.argv) > 2:
    # wait for the switch to go away: the read must fail, not hang
    open(sys.argv[2], 'w').close()
    try:
        while True:
            os.read(f, 2000)
    except OSError as e:
        print('switch gone', errno.errorcode[e.errno])
