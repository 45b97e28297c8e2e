"""A minimal host for the node's tests: verifies, dedupes and acknowledges records as the real
ingest will (docs/record.md), over HTTP, the serial console or MQTT. Not the product's ingest.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from tynys import record, reply


class Collector:
    """Records by identity (node, boot, seq), first arrival order, duplicates and refusals."""

    def __init__(self, keys: dict[str, bytes]):
        self.keys = keys
        self.records: dict[tuple, dict] = {}
        self.lines: dict[tuple, bytes] = {}
        self.order: list[tuple] = []
        self.duplicates = 0
        self.rejected: list[tuple] = []
        self.lock = threading.Lock()

    def take(self, line: bytes) -> tuple[int | None, str | None]:
        """Verify one line; returns (seq, refusal reason or None)."""
        try:
            body, _, _ = record.parse(line)
            key = self.keys.get(body.get("node"))
            if key is None:
                return body.get("seq"), "unknown_node"
            body = record.verify(line, key)
            record.validate(body)
        except record.RecordError as e:
            seq = None
            try:
                seq = json.loads(record.split(line)[0]).get("seq")
            except Exception:
                pass
            with self.lock:
                self.rejected.append((seq, e.reason))
            return seq, e.reason
        ident = (body["node"], body["boot"], body["seq"])
        with self.lock:
            if ident in self.records:
                self.duplicates += 1
            else:
                self.records[ident] = body
                self.lines[ident] = line
                self.order.append(ident)
        return body["seq"], None

    def seqs(self) -> list[int]:
        with self.lock:
            return [i[2] for i in self.order]

    def wait(self, n: int, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while len(self.order) < n:
            if time.monotonic() > deadline:
                raise AssertionError(f"{len(self.order)} of {n} records arrived within {timeout} s")
            time.sleep(0.05)


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


class HTTPReceiver(Collector, _Server):
    """POST /api/v1/records with NDJSON -> {"ack": [...], "rejected": [...], "time": t}."""

    PATH = "/api/v1/records"

    def __init__(self, keys, time_fn=None, max_lines=None, busy=0):
        """max_lines: answer 413 to a bigger batch; busy: answer 503 to the first requests."""
        super().__init__(keys)
        self.time_fn = time_fn
        self.max_lines, self.busy = max_lines, busy
        self.requests = 0
        self.statuses: list[int] = []
        outer = self

        class Handler(_Handler):
            def do_POST(self):
                outer.requests += 1
                n = int(self.headers.get("Content-Length", 0))
                data = self.rfile.read(n)
                if self.path != "/api/v1/records":
                    return self._send(404, {"error": "not found"})
                if outer.busy:
                    outer.busy -= 1
                    return self._send(503, {"error": "busy"})
                if outer.max_lines and len(data.splitlines()) > outer.max_lines:
                    return self._send(413, {"error": "too large"})
                ack, rejected = [], []
                for line in data.splitlines():
                    if not line.strip():
                        continue
                    seq, why = outer.take(line)
                    if why is None:
                        ack.append(seq)
                    elif seq is not None:
                        rejected.append({"seq": seq, "reason": why})
                node = self.headers.get("X-Tynys-Node")
                if ack and node in outer.keys:  # the node obeys only a reply signed with its key
                    now = outer.time_fn() if outer.time_fn else None
                    return self._send(200, reply.build(node, outer.keys[node], ack, now=now, rejected=rejected))
                self._send(200, {"ack": ack, "rejected": rejected})

            def _send(self, code, obj):
                outer.statuses.append(code)
                body = obj if isinstance(obj, bytes) else json.dumps(obj).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self._serve(Handler)


class SerialReceiver(Collector):
    """Reads record lines from a serial port (a virtual node's pty) and answers with signed reply
    lines (tynys.reply); with `time_fn` a reply to a record whose clock is unsynced carries that time."""

    def __init__(self, port: str, keys, time_fn=None, ack=True):
        super().__init__(keys)
        import serial

        self.ser = serial.Serial(port, 115200, timeout=0.1)
        self.time_fn = time_fn
        self.ack = ack
        self.other: list[bytes] = []
        self._stop = False
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        buf = b""
        while not self._stop:
            try:
                data = self.ser.read(4096)
            except Exception:
                break
            buf += data
            *lines, buf = buf.split(b"\n")
            acks, unsynced = {}, False
            for line in lines:
                line = line.strip()
                if line.startswith(b'{"v":'):
                    seq, why = self.take(line)
                    if seq is not None and why is None:
                        acks.setdefault(json.loads(line)["node"], []).append(seq)
                        unsynced |= b'"clock":"unsynced"' in line
                elif line:
                    self.other.append(line)
            for node, seqs in acks.items() if self.ack else ():
                while seqs:
                    out, carried = reply.console_line(node, self.keys[node], sorted(seqs),
                                                      now=self.time_fn() if self.time_fn and unsynced else None)
                    self.ser.write(out + b"\n")
                    seqs = sorted(seqs)[len(carried):]
                    time.sleep(1.0 if seqs else 0)  # a board reads its console once a pass

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self._stop = True
        self.thread.join(2)
        self.ser.close()


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
    """Something on the path between a node and the real host (a captive portal, a compromised
    router): forwards each POST to `upstream` and passes the host's answer back, keeping a copy
    (`genuine`); while `forge` holds answers, it answers with the next of those instead (the
    records never reach the host). A host-side fault only this stand-in can inject."""

    PATH = "/api/v1/records"

    def __init__(self, upstream: str):
        from urllib.parse import urlsplit

        u = urlsplit(upstream)
        self.upstream = (u.hostname, u.port)
        self.genuine: list[bytes] = []
        self.forge: list[bytes] = []
        self.forged = 0  # answers sent from `forge`
        outer = self

        class Handler(_Handler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if outer.forge:
                    outer.forged += 1
                    return self._answer(200, outer.forge.pop(0))
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
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self._serve(Handler)
