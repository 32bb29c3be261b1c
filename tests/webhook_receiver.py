"""A real HTTP receiver for outgoing webhooks, on loopback in a thread: it records what it is sent,
checks each signature with the README's recipe, and answers the status codes a test asks for."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


def _readme_recipe():
    """The `verify` function of the README's *Outgoing webhooks* section, run as written there: the
    tests check signatures with exactly what receivers are told to paste."""
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    section = readme.split("## Outgoing webhooks", 1)[1].split("\n## ", 1)[0]
    code = section.split("```python\n", 1)[1].split("```", 1)[0]
    namespace: dict = {}
    exec(compile(code, "README.md (Outgoing webhooks)", "exec"), namespace)  # noqa: S102 - our own README
    return namespace["verify"]


verify = _readme_recipe()


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
