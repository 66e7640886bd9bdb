# View A's servers on its own stack: HTTP on 10.123.45.1:8000 and [fd42:7::1]:8001 (files of the cwd),
# UDP echo on 10.123.45.1:9000 and [fd42:7::1]:9001. Touches READY when listening, ends when STOP exists.
import http.server, os, socket, sys, threading, time

ready, stop = sys.argv[1], sys.argv[2]

class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass

class Http4(http.server.ThreadingHTTPServer):
    address_family = socket.AF_INET

class Http6(http.server.ThreadingHTTPServer):
    address_family = socket.AF_INET6

servers = [Http4(('10.123.45.1', 8000), Quiet), Http6(('fd42:7::1', 8001), Quiet)]
for s in servers:
    threading.Thread(target=s.serve_forever, daemon=True).start()

def echo(family, addr):
    u = socket.socket(family, socket.SOCK_DGRAM)
    u.bind(addr)
    while True:
        data, peer = u.recvfrom(65536)
        u.sendto(data, peer)

threading.Thread(target=echo, args=(socket.AF_INET, ('10.123.45.1', 9000)), daemon=True).start()
threading.Thread(target=echo, args=(socket.AF_INET6, ('fd42:7::1', 9001)), daemon=True).start()
open(ready, 'w').close()
while not os.path.exists(stop):
    time.sleep(0.1)
print('server done')
