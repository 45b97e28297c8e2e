"""Stand-ins for what the e2e tests cannot get from the product: faults on the host's side of an
HTTP uplink (a man in the middle of the real `tynys serve`: busy, size limits, forged answers) and
Sensor.Community's push API. The records themselves always go to the real host.
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class _Handler(BaseHTTPRequestHandler):
    """Keep-alive like a real host, and quiet: tests read what they need from the receiver."""

    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass


class _Server:
    """A threaded HTTP server on a free loopback port, as a context manager."""

    PATH = "/"

    def _serve(self, handler):
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{self.PATH}"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


class Capture(_Server):
    """An HTTP server that keeps every request (method, path, headers, body) and answers 201,
    as api.sensor.community does."""

    PATH = "/v1/push-sensor-data/"

    def __init__(self, status=201):
        self.requests: list[tuple[str, str, dict, bytes]] = []
        outer = self

        class Handler(_Handler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                outer.requests.append(("POST", self.path, dict(self.headers), body))
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

        self._serve(Handler)


class Interceptor(_Server):
    """Something on the path between a node and the real host (a proxy, a captive portal, a
    compromised router): forwards each POST to `upstream` and passes the host's answer back,
    keeping a copy (`genuine`). Faults it injects: while `forge` holds answers, it answers with the
    next of those instead; the first `busy` POSTs get 503; a POST of more than `max_lines`
    records gets 413 (in those cases the records never reach the host). `statuses`: every answer's."""

    PATH = "/api/v1/records"

    def __init__(self, upstream: str, busy: int = 0, max_lines: int | None = None):
        from urllib.parse import urlsplit

        u = urlsplit(upstream)
        self.upstream = (u.hostname, u.port)
        self.genuine: list[bytes] = []
        self.forge: list[bytes] = []
        self.forged = 0  # answers sent from `forge`
        self.busy, self.max_lines = busy, max_lines
        self.statuses: list[int] = []
        outer = self

        class Handler(_Handler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if outer.forge:
                    outer.forged += 1
                    return self._answer(200, outer.forge.pop(0))
                if outer.busy:
                    outer.busy -= 1
                    return self._answer(503, b'{"error": "busy"}')
                if outer.max_lines and len(body.splitlines()) > outer.max_lines:
                    return self._answer(413, b'{"error": "too large"}')
                import http.client

                conn = http.client.HTTPConnection(*outer.upstream, timeout=30)
                conn.request("POST", self.path, body=body, headers={k: v for k, v in self.headers.items()
                                                                    if k.lower() in ("content-type", "x-tynys-node")})
                r = conn.getresponse()
                data = r.read()
                conn.close()
                if r.status == 200:
                    outer.genuine.append(data)
                self._answer(r.status, data)

            def _answer(self, code, data):
                outer.statuses.append(code)
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self._serve(Handler)
