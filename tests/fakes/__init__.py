"""Local fakes of the external services, speaking their real HTTP protocol on loopback.

Each fake is a FakeServer subclass: real sockets, real HTTP, requests recorded for assertions, and
switches to make it misbehave (errors, slowness) the way the real service can.
"""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


class RecordedRequest:
    def __init__(self, method, path, query, headers, body):
        self.method, self.path, self.query, self.headers, self.body = method, path, query, headers, body

    def json(self):
        return json.loads(self.body)

    def form(self):
        return {
            k: v if len(v) > 1 else v[0]
            for k, v in parse_qs(self.body.decode(), keep_blank_values=True).items()
        }


class FakeServer:
    """Start with `with FakeSub() as fake:`; `fake.url` is its base URL, `fake.requests` what it got.

    Subclasses implement `handle(request) -> (status, body_dict_or_bytes, headers_dict)`.
    """

    def __init__(self):
        self.requests: list[RecordedRequest] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._server.shutdown()
        self._server.server_close()

    def handle(self, request: RecordedRequest):
        raise NotImplementedError  # each fake says how it answers

    def _handler_class(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _serve(self):
                length = int(self.headers.get("Content-Length") or 0)
                parts = urlsplit(self.path)
                request = RecordedRequest(
                    self.command,
                    parts.path,
                    parse_qs(parts.query),
                    dict(self.headers),
                    self.rfile.read(length),
                )
                fake.requests.append(request)
                status, body, headers = fake.handle(request)
                payload = body if isinstance(body, bytes) else json.dumps(body).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", headers.pop("Content-Type", "application/json"))
                    for name, value in headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a timeout test): nothing to answer

            do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _serve

        return Handler
