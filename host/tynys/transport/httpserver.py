"""Records over HTTP: ``POST /api/v1/records`` (ndjson) and ``GET /api/v1/status``, served by
aiohttp's low-level asyncio server in a thread of its own.

Why aiohttp: its llhttp parser is strict about framing (two ``Content-Length`` headers, ``1_0``,
``-5`` or ``Content-Length`` beside chunked are a 400, never "first wins"), and an asyncio server
holds thousands of slow connections at the cost of a socket each. What the collector adds:

- a slot per connection (``max_clients``): when all are taken, the oldest connection that is not
  in the middle of a request (idle, or still dribbling its head) is closed to make room, so slow
  or stalled clients cannot lock nodes out; only when every slot is serving a request does a new
  connection get ``503``;
- a deadline for a request head (``head_timeout`` from connect or from the previous answer);
- a body limit answered before the body is read (``413`` instead of ``100 Continue``, or right
  after the head, the rest drained for a few seconds so the client reads the answer);
- JSON errors naming the fix, a client that vanishes counted (``vanished``), never a traceback;
- read endpoints (``/api/v1/status``) answer loopback clients, or anyone with the status token
  (``Authorization: Bearer …``); writing is guarded by each node's HMAC, not by the server.

    server = RecordServer(("127.0.0.1", 0), collector).start()   # a thread; .stop() drains
    print(server.url)
    server.route("GET", "/", site_handler, prefix=True)           # more endpoints (async aiohttp handlers)
"""

from __future__ import annotations

import asyncio
import hmac
import ipaddress
import json
import logging
import socket
import threading
import time
from concurrent import futures
from http import HTTPStatus
from typing import Awaitable, Callable

from aiohttp import web

from .. import __version__
from ..ingest import Collector, CollectorBusy
from ..registry import node_id_ok
from . import reply

log = logging.getLogger("tynys.http")

RECORDS_PATH = "/api/v1/records"
STATUS_PATH = "/api/v1/status"
CONTENT_TYPES = ("application/x-ndjson", "application/jsonl", "application/json", "text/plain", "")
DRAIN_SECONDS = 5.0  # how long the rest of a refused body is read and discarded so the client reads our answer
SERVER = f"tynys/{__version__}"

Handler = Callable[[web.BaseRequest], Awaitable[web.StreamResponse]]


class HttpError(Exception):
    """An answer other than 200: status, detail, extra headers; ``close`` ends the connection."""

    def __init__(self, status: int, detail: str, headers: dict | None = None, close: bool = False):
        super().__init__(detail)
        self.status, self.detail, self.headers, self.close = status, detail, headers or {}, close


def _json(status: int, doc: dict, headers: dict | None = None, close: bool = False) -> web.Response:
    resp = web.Response(status=status, body=(json.dumps(doc) + "\n").encode(), content_type="application/json",
                        headers={"Server": SERVER, **(headers or {})})
    if close:
        resp.force_close()
    return resp


def _error(e: HttpError) -> web.Response:
    return _json(e.status, {"error": HTTPStatus(e.status).phrase, "detail": e.detail}, e.headers, e.close)


class _Protocol(web.RequestHandler):
    """aiohttp's per-connection handler with HTTP errors (bad framing) answered as our JSON and
    counted, not logged with a traceback."""

    def handle_error(self, request, status=500, exc=None, message=None):
        owner: RecordServer = self._manager.owner
        if status == 500:
            log.error("HTTP request failed", exc_info=exc)
            owner.count("errors")
        else:
            owner.count("malformed_http")
            log.debug("malformed HTTP request from %s: %s", request.remote, message or exc)
        if request.writer.output_size > 0:
            raise ConnectionError("response already started")
        detail = f"malformed HTTP request: {message or exc}" if status != 500 else "internal error (logged on the host)"
        return _error(HttpError(status, detail[:300], close=True))


class _Server(web.Server):
    """aiohttp's connection manager with one slot per connection (see the module docstring)."""

    def __init__(self, handler, owner: "RecordServer", **kw):
        super().__init__(handler, **kw)
        self.owner = owner
        self.open: dict[web.RequestHandler, asyncio.Transport] = {}  # oldest first
        self.serving: set[web.RequestHandler] = set()

    def __call__(self) -> web.RequestHandler:
        return _Protocol(self, loop=self._loop, **self._kwargs)

    def connection_made(self, handler, transport) -> None:
        super().connection_made(handler, transport)
        self.open[handler] = transport
        if len(self.open) <= self.owner.max_clients:
            return
        idle = next((h for h in self.open if h is not handler and h not in self.serving), None)
        if idle is not None:
            self.owner.count("evicted")
            idle.force_close()
            self.open.pop(idle, None)
            return
        self.owner.count("busy")
        transport.write(b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: 5\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        handler.force_close()
        self.open.pop(handler, None)

    def connection_lost(self, handler, exc=None) -> None:
        super().connection_lost(handler, exc)
        self.open.pop(handler, None)


class RecordServer:
    """The HTTP collector: binds at construction (so a taken port fails at once), serves from
    :meth:`start` in a background thread, drains on :meth:`stop`."""

    def __init__(self, address, collector: Collector, *, max_body: int = 1 << 20, max_records: int = 2000,
                 max_clients: int = 64, timeout: float = 30.0, wait: float = 60.0, head_timeout: float = 15.0,
                 status_token: str | None = None):
        for name, v in (("max_body", max_body), ("max_records", max_records), ("max_clients", max_clients)):
            if v < 1:
                raise ValueError(f"{name} must be at least 1, got {v}")
        self.collector = collector
        self.on_outcomes = None  # callback (client address, outcomes) after each POST is stored
        self.max_body, self.max_records, self.max_clients = max_body, max_records, max_clients
        self.timeout, self.wait, self.head_timeout = timeout, wait, head_timeout
        self.status_token = status_token or None
        self.started = time.time()
        self.counts = {"posts": 0, "refused_posts": 0, "vanished": 0, "evicted": 0, "busy": 0, "malformed_http": 0,
                       "errors": 0}
        self._lock = threading.Lock()
        self._routes: dict[tuple[str, str], Handler] = {}
        self._prefixes: list[tuple[str, str, Handler]] = []
        self.route("POST", RECORDS_PATH, self._post_records)
        self.route("GET", STATUS_PATH, self._status)
        host, port = address[:2]
        self.sock = socket.create_server((host, port), family=socket.AF_INET6 if ":" in host else socket.AF_INET,
                                         reuse_port=False, backlog=512)
        self.server_address = self.sock.getsockname()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._active = 0  # POSTs being stored
        self._server: _Server | None = None
        self._listener: asyncio.base_events.Server | None = None

    # -- set-up ----------------------------------------------------------------------------

    def route(self, method: str, path: str, handler: Handler, *, prefix: bool = False) -> None:
        """Serve *method* on *path* (or every path under it, with *prefix*) with an aiohttp handler
        ``async def handler(request) -> web.StreamResponse``."""
        if prefix:
            self._prefixes.append((method, path, handler))
            self._prefixes.sort(key=lambda p: -len(p[1]))
        else:
            self._routes[(method, path)] = handler

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{f'[{host}]' if ':' in host else host}:{port}"

    def count(self, name: str, n: int = 1) -> None:
        with self._lock:
            self.counts[name] = self.counts.get(name, 0) + n

    def start(self) -> "RecordServer":
        self._thread = threading.Thread(target=self._serve, name="tynys-http", daemon=True)
        self._thread.start()
        self._ready.wait(10)
        return self

    def _serve(self) -> None:
        loop = self._loop = asyncio.new_event_loop()
        try:
            loop.run_until_complete(self._listen())
            self._ready.set()
            loop.run_forever()
        finally:
            loop.close()

    async def _listen(self) -> None:
        self._server = _Server(self._dispatch, owner=self, keepalive_timeout=self.head_timeout,
                               lingering_time=DRAIN_SECONDS, access_log=None,
                               logger=logging.getLogger("tynys.http.aiohttp"))
        self._listener = await asyncio.get_running_loop().create_server(self._server, sock=self.sock)

    def stop(self, timeout: float = 10.0) -> None:
        """Stop accepting, let posts in progress finish (their records stored and answered)."""
        if self._loop is None:
            self.sock.close()
            return
        fut = asyncio.run_coroutine_threadsafe(self._shutdown(timeout), self._loop)
        try:
            fut.result(timeout + 5)
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            if self._thread:
                self._thread.join(timeout)

    async def _shutdown(self, timeout: float) -> None:
        self._listener.close()
        deadline = time.monotonic() + timeout
        while self._active and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        await self._server.shutdown(1.0)
        await self._listener.wait_closed()

    # -- requests ----------------------------------------------------------------------------

    async def _dispatch(self, request: web.BaseRequest) -> web.StreamResponse:
        proto = request.protocol
        self._server.serving.add(proto)
        try:
            handler = self._routes.get((request.method, request.path))
            if handler is None:
                handler = next((h for m, p, h in self._prefixes if m == request.method and request.path.startswith(p)), None)
            try:
                if handler is None:
                    raise self._no_route(request)
                resp = await handler(request)
            except HttpError as e:
                if request.method == "POST":
                    self.count("refused_posts")
                resp = _error(e)
            try:
                await resp.prepare(request)
                await resp.write_eof()
            except ConnectionError:
                self.count("vanished")
            return resp
        finally:
            self._server.serving.discard(proto)

    def _no_route(self, request: web.BaseRequest) -> HttpError:
        known = {p for _, p in self._routes}
        if request.path in known:
            allowed = sorted(m for m, p in self._routes if p == request.path)
            if request.path == RECORDS_PATH and request.method == "GET":
                return HttpError(405, "POST records here (application/x-ndjson, one record per line)", {"Allow": "POST"})
            return HttpError(405, f"use POST {RECORDS_PATH} or GET {STATUS_PATH}", {"Allow": ", ".join(allowed)},
                             close=True)
        if request.method == "POST":
            return HttpError(404, f"no such path {request.path[:100]!r}: POST records to {RECORDS_PATH}", close=True)
        return HttpError(404, f"no such path {request.path[:100]!r}: POST {RECORDS_PATH} or GET {STATUS_PATH}")

    async def _post_records(self, request: web.BaseRequest) -> web.StreamResponse:
        n = self._length(request)
        ctype = request.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if ctype not in CONTENT_TYPES:
            raise HttpError(415, f"Content-Type {ctype!r}: send application/x-ndjson, one record per line", close=True)
        node = request.headers.get("X-Tynys-Node")
        if node is not None and not node_id_ok(node):
            raise HttpError(400, f"X-Tynys-Node {node[:70]!r} is not a node id", close=True)
        if request.headers.get("Expect", "").lower() == "100-continue":
            await request.writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        try:
            body = await asyncio.wait_for(request.content.readexactly(n), self.timeout)
        except (asyncio.IncompleteReadError, ConnectionError):  # the client went away mid-body: counted on answering
            raise HttpError(400, "the body ended before Content-Length", close=True) from None
        except asyncio.TimeoutError:
            raise HttpError(408, f"the body did not arrive within {self.timeout:g} s", close=True) from None
        lines = [ln for ln in body.split(b"\n") if ln.strip()]
        if len(lines) > self.max_records:
            raise HttpError(413, f"{len(lines)} records in one POST; at most {self.max_records}")
        self.count("posts")
        self._active += 1
        try:
            return await self._ingest(request.remote or "", lines, node)
        finally:
            self._active -= 1

    def _length(self, request: web.BaseRequest) -> int:
        """The declared body length, within the limit (the parser already refused malformed ones)."""
        if "chunked" in request.headers.get("Transfer-Encoding", "").lower():
            raise HttpError(411, "chunked bodies are not accepted: send Content-Length", close=True)
        n = request.content_length
        if n is None:
            raise HttpError(411, "Content-Length is required", close=True)
        if n > self.max_body:
            raise HttpError(413, f"body of {n} bytes is larger than the {self.max_body} byte limit: post fewer records at a time",
                            close=True)
        return n

    async def _ingest(self, source: str, lines: list[bytes], node: str | None) -> web.StreamResponse:
        try:
            fut = self.collector.submit(lines, "http", source, node)
            # shielded: giving up waiting must not cancel the storing (the collector resolves it anyway)
            outcomes = await asyncio.wait_for(asyncio.shield(asyncio.wrap_future(fut)), self.wait)
        except CollectorBusy as e:
            raise HttpError(503, str(e), {"Retry-After": "5"}) from None
        except (asyncio.TimeoutError, futures.TimeoutError):
            raise HttpError(503, f"not stored within {self.wait:g} s; resend later (a resend is deduplicated)",
                            {"Retry-After": "10"}) from None
        if self.on_outcomes:
            self.on_outcomes(source, outcomes)
        if any(o.status == "retry" for o in outcomes):
            raise HttpError(503, f"the host could not store the records ({outcomes[0].detail}); resend later",
                            {"Retry-After": "30"})
        ing = self.collector.ingestor  # the signed reply, or an unsigned answer no node obeys
        body = reply.http_body(ing.key, node, outcomes, int(ing.now()))
        return web.Response(status=200, body=body, content_type="application/json", headers={"Server": SERVER})

    # -- reading -----------------------------------------------------------------------------

    def _may_read(self, request: web.BaseRequest) -> None:
        """Read endpoints answer this machine, or a client holding the status token."""
        if self.status_token is not None:
            given = request.headers.get("Authorization", "")
            if hmac.compare_digest(given.encode(), f"Bearer {self.status_token}".encode()):
                return
        try:
            if ipaddress.ip_address((request.remote or "").split("%")[0]).is_loopback:
                return
        except ValueError:
            pass
        how = ("send the token: Authorization: Bearer <token>" if self.status_token is not None
               else "start tynys serve with --status-token (or TYNYS_STATUS_TOKEN) and send Authorization: Bearer <token>")
        raise HttpError(403, f"{request.path} answers this machine only; from elsewhere {how}")

    async def _status(self, request: web.BaseRequest) -> web.StreamResponse:
        self._may_read(request)
        try:
            doc = await asyncio.get_running_loop().run_in_executor(None, self.status)
        except Exception as e:  # the database may be busy or gone: say so, keep serving
            log.warning("status failed: %s", e)
            raise HttpError(503, f"status unavailable: {e}") from None
        return _json(200, doc)

    def status(self) -> dict:
        from ..store import Store

        with Store.open(self.collector.ingestor.store.location, readonly=True) as store:
            nodes = store.nodes()
            latest = {r["node"]: r for r in store.latest([n.id for n in nodes])}
        with self._lock:
            http = dict(self.counts)
        return {
            "status": "ok",
            "version": __version__,
            "time": int(time.time()),
            "uptime_s": int(time.time() - self.started),
            "db": str(self.collector.ingestor.store.path),
            "http": http,
            "collector": self.collector.stats(),
            "nodes": [{"node": n.id, "active": n.active, "last_t1": latest.get(n.id, {}).get("t1"),
                       "last_received": latest.get(n.id, {}).get("received"),
                       "last_transport": latest.get(n.id, {}).get("transport")} for n in nodes],
        }
