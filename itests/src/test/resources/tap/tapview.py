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

# a poll-driven loop with up to 32 frames in flight, mixed with a pipe that is never ready
n = int(sys.argv[1])
rp, wp = os.pipe()
sent = [frame(i) for i in range(n)]
got = []
i = 0
p = select.poll()
p.register(f, select.POLLIN)
p.register(rp, select.POLLIN)
while len(got) < n:
    if i < n and i - len(got) < 32:
        os.write(f, sent[i])
        i += 1
        continue
    ev = p.poll(5000)
    if not ev:
        print('timeout after', len(got))
        break
    assert all(fd == f for fd, _ in ev), ev
    got.append(os.read(f, 2000))
print('echoed', len(got), 'identical', all(g == ME + PEER + s[12:] for g, s in zip(got, sent)))

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
