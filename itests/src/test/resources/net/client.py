# View B: UDP echoes over IPv4 and IPv6, poll/select/epoll mixing a virtual socket with a pipe,
# then N TCP connections at once (half over IPv4, half over IPv6), against server.py in view A.
#   python3 client.py [N]
import errno, hashlib, os, select, socket, sys, threading

want = hashlib.md5(open('small.txt', 'rb').read()).hexdigest()
ok = []

def fetch(i):
    try:
        get(i)
    except OSError as e:
        print('connection', i, 'failed:', e, file=sys.stderr)

def get(i):
    fam, host, port = (socket.AF_INET, '10.123.45.1', 8000) if i % 2 else (socket.AF_INET6, 'fd42:7::1', 8001)
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.connect((host, port))
    s.sendall(b'GET /small.txt HTTP/1.0\r\nHost: x\r\n\r\n')
    data = b''
    while True:
        b = s.recv(65536)
        if not b:
            break
        data += b
    s.close()
    if b'\r\n\r\n' not in data:
        raise OSError('a reply of %d bytes without a header over %s' % (len(data), 'IPv4' if i % 2 else 'IPv6'))
    body = data.split(b'\r\n\r\n', 1)[1]
    if hashlib.md5(body).hexdigest() == want:
        ok.append(i)


for fam, addr in ((socket.AF_INET, ('10.123.45.1', 9000)), (socket.AF_INET6, ('fd42:7::1', 9001))):
    u = socket.socket(fam, socket.SOCK_DGRAM)
    u.settimeout(1)  # UDP may lose a datagram (lwip drops the first ones while ARP/NDP resolve)
    got = 0
    for n in range(50):
        msg = os.urandom(1 + n * 20)
        for attempt in range(5):
            u.sendto(msg, addr)
            try:
                data, peer = u.recvfrom(65536)
            except socket.timeout:
                continue
            got += data == msg
            break
    print('udp', 'v4' if fam == socket.AF_INET else 'v6', got)

# readiness: a pipe that never becomes ready beside a UDP socket that does
r, w = os.pipe()
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.setblocking(False)
try:
    u.recv(10)
    print('recv on empty: no error')
except BlockingIOError:
    print('recv on empty: EAGAIN')
u.sendto(b'ping', ('10.123.45.1', 9000))
rl, _, _ = select.select([r, u], [], [], 10)
print('select', [x is u for x in rl])
u.recv(10)
p = select.poll()
p.register(r, select.POLLIN)
p.register(u, select.POLLIN)
u.sendto(b'ping', ('10.123.45.1', 9000))
ev = p.poll(10000)
print('poll', [fd == u.fileno() for fd, _ in ev])
u.recv(10)
e = select.epoll()
e.register(r, select.EPOLLIN)
e.register(u.fileno(), select.EPOLLIN)
u.sendto(b'ping', ('10.123.45.1', 9000))
ev = e.poll(10)
print('epoll', [fd == u.fileno() for fd, _ in ev])
print('names', u.getsockname()[0] in ('0.0.0.0', '10.123.45.2'), u.getsockname()[1] > 0)
n = int(sys.argv[1]) if len(sys.argv) > 1 else 0
threads = [threading.Thread(target=fetch, args=(i,)) for i in range(n)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print('connections', len(ok))
