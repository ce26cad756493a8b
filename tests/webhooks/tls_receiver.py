"""A webhook receiver over TLS, for tests/api/webhooks.rs: Python's own `ssl` and `http.server`,
so the test's TLS is not ours. Serves https on 127.0.0.1 with the certificate and key given,
prints its port on the first line, then one line per POST it got: the `webhook-id`.
Answers 204. Runs until its stdin closes (the test ends: nothing is left running).

Usage: tls_receiver.py CERT KEY"""

import http.server
import ssl
import sys
import threading


class Receiver(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers.get("content-length", "0")))
        print(self.headers.get("webhook-id", ""), flush=True)
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.load_cert_chain(sys.argv[1], sys.argv[2])
server.socket = context.wrap_socket(server.socket, server_side=True)
print(server.server_address[1], flush=True)
threading.Thread(target=server.serve_forever, daemon=True).start()
sys.stdin.read()
