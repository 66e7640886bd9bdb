# In a view with umdevtap: talks to a umnet (liblwipv6) stack of another view over the switch by
# hand-made frames: an ARP request (the stack answers) then UDP datagrams to its echo server.
import fcntl, os, select, socket, struct, sys

TUNSETIFF, IFF_TAP, IFF_NO_PI = 0x400454ca, 2, 0x1000
me_mac = bytes.fromhex('020000000077')
me_ip, peer_ip = socket.inet_aton(sys.argv[1]), socket.inet_aton(sys.argv[2])
f = os.open('/dev/net/tun', os.O_RDWR)
fcntl.ioctl(f, TUNSETIFF, struct.pack('16sH22x', b'', IFF_TAP | IFF_NO_PI))

def frames(seconds):
    while True:
        r, _, _ = select.select([f], [], [], seconds)
        if not r:
            return
        yield os.read(f, 2000)

def checksum(b):
    s = sum(struct.unpack('!%dH' % (len(b) // 2), b))
    s = (s >> 16) + (s & 0xffff)
    s += s >> 16
    return ~s & 0xffff

peer_mac = None
for attempt in range(10):
    arp = (b'\xff' * 6 + me_mac + b'\x08\x06' + struct.pack('!HHBBH', 1, 0x0800, 6, 4, 1)
           + me_mac + me_ip + b'\0' * 6 + peer_ip)
    os.write(f, arp + b'\0' * (60 - len(arp)))
    for fr in frames(0.5):
        if fr[12:14] == b'\x08\x06' and fr[20:22] == b'\x00\x02' and fr[28:32] == peer_ip:
            peer_mac = fr[6:12]
            break
    if peer_mac:
        break
print('arp reply', peer_mac is not None)

echoed = 0
for n in range(20):
    payload = ('datagram %d ' % n).encode() * (n + 1)
    udp = struct.pack('!HHHH', 40000, 9000, 8 + len(payload), 0) + payload
    hdr = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(udp), n + 1, 0, 64, 17, 0, me_ip, peer_ip)
    hdr = hdr[:10] + struct.pack('!H', checksum(hdr)) + hdr[12:]
    got = False
    for attempt in range(5):
        os.write(f, peer_mac + me_mac + b'\x08\x00' + hdr + udp)
        for fr in frames(0.5):
            if fr[12:14] == b'\x08\x00' and fr[23] == 17 and fr[26:30] == peer_ip:
                ihl = (fr[14] & 15) * 4
                u = fr[14 + ihl:]
                if struct.unpack('!H', u[0:2])[0] == 9000 and u[8:8 + len(payload)] == payload:
                    got = True
                    break
        if got:
            break
    echoed += got
print('udp echoes', echoed)
