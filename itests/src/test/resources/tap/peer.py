import subprocess, sys, struct
url = sys.argv[1]
mine = bytes.fromhex('020000000002')
p = subprocess.Popen(['vde_plug', url], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
print('peer up', flush=True)
n = 0
while True:
    h = p.stdout.read(2)
    if len(h) < 2:
        break
    f = p.stdout.read(struct.unpack('>H', h)[0])
    if f[12:14] == b'\x88\xb5':
        reply = f[6:12] + mine + f[12:]
        p.stdin.write(struct.pack('>H', len(reply)) + reply)
        p.stdin.flush()
        n += 1
print('peer echoed', n, flush=True)
