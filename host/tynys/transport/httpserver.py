"""Records over HTTP: ``POST /api/v1/records`` (ndjson) and ``GET /api/v1/status``.

The standard library's threaded server is enough here: nodes post a few kB every few minutes,
records are signed (no session or auth layer is needed), and TLS, if wanted, belongs to a reverse
proxy in front. What it lacks is added below: a body size limit answered before the body is read
(``Expect: 100-continue`` or a 413 followed by a bounded drain so the client sees the answer),
socket timeouts, a cap on concurrent connections, JSON errors with clear status codes.

    server = RecordServer(("127.0.0.1", 0), collector).start()   # a thread; .stop() drains
    print(server.url)
"""

from __future__ import annotations

import json
import logging
import socket
import threading
import time
from concurrent import futures
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from .. import __version__, reply
from ..ingest import Collector, CollectorBusy
from ..registry import node_id_ok

log = logging.getLogger("tynys.http")

RECORDS_PATH = "/api/v1/records"
STATUS_PATH = "/api/v1/status"
CONTENT_TYPES = ("application/x-ndjson", "application/jsonl", "application/json", "text/plain", "")
DRAIN_MAX = 16 << 20  # bytes of a refused body read and discarded so the client reads our 413
DRAIN_SECONDS = 5.0


class RecordServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address, collector: Collector, *, max_body: int = 1 << 20, max_records: int = 2000,
                 max_clients: int = 64, timeout: float = 30.0, wait: float = 60.0):
        self.collector = collector
        self.on_outcomes = None  # callback (client address, outcomes) after each POST is stored
        self.max_body, self.max_records, self.wait = max_body, max_records, wait
        self.started = time.time()
        self.counts = {"posts": 0, "refused_posts": 0}
        self._slots = threading.BoundedSemaphore(max_clients)
        self._active = 0
        self._active_lock = threading.Condition()  # also guards counts: handlers run in threads of their own
        self._thread: threading.Thread | None = None
        handler = type("Handler", (_Handler,), {"timeout": timeout})
        super().__init__(address, handler)

    def count(self, name: str) -> None:
        with self._active_lock:
            self.counts[name] += 1

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"

    def process_request(self, request, client_address):
        if not self._slots.acquire(blocking=False):  # too many clients: answer at once, spawn nothing
            try:
                request.sendall(b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: 5\r\nContent-Length: 0\r\n"
                                b"Connection: close\r\n\r\n")
            except OSError:
                pass
            self.shutdown_request(request)
            return
        super().process_request(request, client_address)

    def process_request_thread(self, request, client_address):
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()

    def busy(self, delta: int) -> None:
        with self._active_lock:
            self._active += delta
            self._active_lock.notify_all()

    def start(self) -> "RecordServer":
        self._thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.1}, name="tynys-http", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Stop accepting, let posts in progress finish (their records stored and answered)."""
        self.shutdown()
        with self._active_lock:
            self._active_lock.wait_for(lambda: self._active == 0, timeout)
        self.server_close()
        if self._thread:
            self._thread.join(timeout)

    def status(self) -> dict:
        from ..store import Store

        with Store.open(self.collector.ingestor.store.path, create=False) as store:
            nodes = {n.id: n for n in store.nodes()}
            latest = {r["node"]: r for r in store.latest()}
        return {
            "status": "ok",
            "version": __version__,
            "time": int(time.time()),
            "uptime_s": int(time.time() - self.started),
            "db": str(self.collector.ingestor.store.path),
            "http": dict(self.counts),
            "collector": self.collector.stats(),
            "nodes": [{"node": nid, "active": n.active, "last_t1": latest.get(nid, {}).get("t1"),
                       "last_received": latest.get(nid, {}).get("received"),
                       "last_transport": latest.get(nid, {}).get("transport")} for nid, n in nodes.items()],
        }


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = f"tynys/{__version__}"
    server: RecordServer

    def log_message(self, fmt, *args):
        log.debug("%s %s", self.address_string(), fmt % args)

    def _json(self, code: int, doc: dict, headers: dict | None = None) -> None:
        data = (json.dumps(doc) + "\n").encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(data)

    def _reply(self, data: bytes) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(data)

    def _error(self, code: int, detail: str, headers: dict | None = None) -> None:
        if self.command == "POST":
            self.server.count("refused_posts")
        self._json(code, {"error": HTTPStatus(code).phrase, "detail": detail}, headers)

    def _length(self) -> int | None:
        """The declared body length, or None after answering why it is unusable."""
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            self.close_connection = True
            self._error(411, "chunked bodies are not accepted: send Content-Length")
            return None
        raw = self.headers.get("Content-Length")
        if raw is None:
            self.close_connection = True
            self._error(411, "Content-Length is required")
            return None
        try:
            n = int(raw)
            if n < 0:
                raise ValueError
        except ValueError:
            self.close_connection = True
            self._error(400, f"Content-Length {raw!r} is not a byte count")
            return None
        return n

    def handle_expect_100(self):
        # Refuse an oversized body before the client sends it.
        if self.path == RECORDS_PATH and self.command == "POST":
            n = self._length()
            if n is None:
                return False
            if n > self.server.max_body:
                self.close_connection = True
                self._error(413, f"body of {n} bytes is larger than the {self.server.max_body} byte limit: post fewer records at a time")
                return False
        return super().handle_expect_100()

    def do_GET(self):
        if self.path.split("?")[0] == STATUS_PATH:
            try:
                self._json(200, self.server.status())
            except Exception as e:
                log.exception("status failed")
                self._error(503, f"status unavailable: {e}")
        elif self.path.split("?")[0] == RECORDS_PATH:
            self._error(405, "POST records here (application/x-ndjson, one record per line)", {"Allow": "POST"})
        else:
            self._error(404, f"no such path {self.path!r}: POST {RECORDS_PATH} or GET {STATUS_PATH}")

    def do_PUT(self):
        self.close_connection = True
        self._error(405, f"use POST {RECORDS_PATH} or GET {STATUS_PATH}", {"Allow": "GET, POST"})

    do_DELETE = do_PATCH = do_PUT

    def do_POST(self):
        if self.path.split("?")[0] != RECORDS_PATH:
            self.close_connection = True
            self._error(404, f"no such path {self.path!r}: POST records to {RECORDS_PATH}")
            return
        n = self._length()
        if n is None:
            return
        if n > self.server.max_body:
            self.close_connection = True
            self._error(413, f"body of {n} bytes is larger than the {self.server.max_body} byte limit: post fewer records at a time")
            self._drain(n)
            return
        ctype = self.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if ctype not in CONTENT_TYPES:
            self.close_connection = True
            self._error(415, f"Content-Type {ctype!r}: send application/x-ndjson, one record per line")
            self._drain(n)
            return
        node = self.headers.get("X-Tynys-Node")
        if node is not None and not node_id_ok(node):
            self.close_connection = True
            self._error(400, f"X-Tynys-Node {node[:70]!r} is not a node id")
            self._drain(n)
            return
        body = self.rfile.read(n)
        if len(body) < n:  # the client gave up; nothing to answer
            self.close_connection = True
            return
        lines = [ln for ln in body.split(b"\n") if ln.strip()]
        if len(lines) > self.server.max_records:
            self._error(413, f"{len(lines)} records in one POST; at most {self.server.max_records}")
            return
        self.server.count("posts")
        self.server.busy(+1)
        try:
            self._ingest(lines, node)
        finally:
            self.server.busy(-1)

    def _ingest(self, lines: list[bytes], node: str | None) -> None:
        try:
            outcomes = self.server.collector.submit(lines, "http", self.client_address[0], node).result(self.server.wait)
        except CollectorBusy as e:
            self._error(503, str(e), {"Retry-After": "5"})
            return
        except futures.TimeoutError:  # not the builtin TimeoutError before Python 3.11
            self._error(503, f"not stored within {self.server.wait:g} s; resend later (a resend is deduplicated)", {"Retry-After": "10"})
            return
        if self.server.on_outcomes:
            self.server.on_outcomes(self.client_address[0], outcomes)
        if any(o.status == "retry" for o in outcomes):
            self._error(503, f"the host could not store the records ({outcomes[0].detail}); resend later", {"Retry-After": "30"})
            return
        self._reply(reply.http_body(self.server.collector.ingestor.key, node, outcomes, int(self.server.collector.ingestor.now())))

    def _drain(self, n: int) -> None:
        """Read and discard (in 64 KiB pieces, bounded in bytes and time) what the client is still
        sending, so it reads our error instead of a connection reset."""
        deadline = time.monotonic() + DRAIN_SECONDS
        left = min(n, DRAIN_MAX)
        try:
            self.connection.settimeout(1.0)
            while left > 0 and time.monotonic() < deadline:
                chunk = self.rfile.read1(min(left, 65536)) if hasattr(self.rfile, "read1") else self.rfile.read(min(left, 65536))
                if not chunk:
                    break
                left -= len(chunk)
        except (socket.timeout, OSError):
            pass
