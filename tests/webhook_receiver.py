"""A real HTTP receiver for outgoing webhooks, on loopback in a thread: it records what it is sent,
checks each signature with the README's recipe, and answers the status codes a test asks for."""

import hashlib
import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


# --- the README's recipe (section *Outgoing webhooks*), as a receiver would paste it --------------------
def verify(secret: str, header: str, body: bytes, tolerance: int = 300) -> bool:
    try:
        fields = dict(part.split("=", 1) for part in header.split(","))
        timestamp, received = int(fields["t"]), fields["v1"]
    except (KeyError, ValueError):
        return False
    if abs(time.time() - timestamp) > tolerance:  # an old (replayed) or far-future request
        return False
    signed = f"{timestamp}.".encode() + body
    expected = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, received)


# ---------------------------------------------------------------------------------------------------------


class Received:
    def __init__(self, path, headers, body, verified):
        self.path, self.headers, self.body, self.verified = path, headers, body, verified

    def json(self):
        return json.loads(self.body)


class Receiver:
    def __init__(self, secret: str = ""):
        self.secret = secret
        self.requests: list[Received] = []
        self.statuses: list[int] = []  # answered in turn; 200 once they run out
        self.location = ""  # with a 3xx status: where it points

    def __enter__(self):
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                header = self.headers.get("X-Coccinelle-Signature", "")
                verified = verify(receiver.secret, header, body)
                receiver.requests.append(Received(self.path, dict(self.headers), body, verified))
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                answer = b'{"received": true}' if status < 300 else b"receiver says no"
                self.send_response(status)
                if 300 <= status < 400:
                    self.send_header("Location", receiver.location or receiver.url + "elsewhere")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
