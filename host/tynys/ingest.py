"""The one ingest path every transport (serial, HTTP, MQTT, and later sim and import) goes through.

For each received line, in this order:

1. bounded length, UTF-8, ``{…,"sig":"<64 hex>"}`` form, JSON, a node id  → else ``malformed``
2. a node id that is registered and has a key                   → else ``unknown_node``
3. HMAC-SHA256 under that node's key                            → else ``bad_signature``
4. the transport named the same node (MQTT topic, HTTP header)  → else ``node_mismatch``
5. the version-1 schema                                         → else ``schema``
6. the node is active (window ended before its retirement)      → else ``retired_node``
7. the window is neither far in the future nor far in the past  → else ``clock``
8. ``(node, boot, seq)`` not stored yet                         → else ``replay`` / ``conflict``
9. store the line untouched plus its decoded sensors and channels.

A record made before the node's clock was set (``"clock":"unsynced"``) skips 6 and 7: its times
are the node's guess. It is stored pending and re-timed from the node's uptime once a record of
the same boot with a set clock is stored (:mod:`tynys.retime`, run for every boot a batch stored
records of, in the same transaction), which checks the re-timed window instead.

Every refusal is a row in ``rejects``. A batch is one transaction; outcomes are returned (and
acknowledgements may be sent) only after its commit is on disk. Which outcomes free the node's
spool is in :data:`REASONS` (docs/record.md, "Transports and acknowledgement").

Library use (a sim orchestrator, an importer)::

    ing = Ingestor(Store.open("city.db"), KeyFile("city.keys"))
    outcomes = ing.ingest(lines, transport="sim")
    with Collector(ing) as col:                     # group commit for concurrent transports
        col.submit(lines, "http", source="10.0.0.7", on_done=send_acks)
"""

from __future__ import annotations

import hmac
import logging
import math
import queue
import sqlite3
import threading
import time
from collections import Counter
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Callable, Iterable, Sequence

from . import record
from .errors import TynysError
from .keys import KeyFile
from .registry import node_id_ok
from .retime import retime
from .store import Store, StoreError
from .timeutil import iso

log = logging.getLogger("tynys.ingest")

# reason -> (acknowledged, meaning). Acknowledged means the node may delete the record from its
# spool. Only a record whose signature was verified is ever acknowledged: an acknowledgement
# must not be forgeable, and a wrongly provisioned key must not empty a node's spool.
REASONS: dict[str, tuple[bool, str]] = {
    "malformed": (False, "not a signed JSON record line (truncated, noise, too long, not UTF-8, no node id)"),
    "unknown_node": (False, "the node is not registered on this host, or its key is missing"),
    "bad_signature": (False, "the HMAC does not match the key registered for the node"),
    "schema": (True, "signed by the node but not a valid version-1 record"),
    # not acknowledged: a copy of node A's record published as node B must not free B's spool
    "node_mismatch": (False, "the transport (MQTT topic, HTTP header) named another node than the record"),
    "retired_node": (True, "the node was retired before this window ended"),
    "clock": (True, "the node says its clock was set, but the window is too far ahead of or behind the host clock"),
    "replay": (True, "this (node, boot, seq) is already stored with the same bytes: a resend or a replay"),
    "conflict": (True, "this (node, boot, seq) is already stored with different content"),
}

DEFAULT_MAX_FUTURE = 600  # s: node clocks drift and windows close at t1; ten minutes is generous
DEFAULT_MAX_PAST = 366 * 86400  # s: a node may sit offline with a full spool for months
DEFAULT_MAX_LINE = 65536  # bytes: a record with every sensor is ~3 kB


@dataclass
class Outcome:
    """What became of one line. ``status``: ``stored``, ``replay`` (already stored), ``rejected``
    (refused; see ``reason``) or ``retry`` (the store failed: nothing was written)."""

    status: str
    node: str | None = None
    boot: int | None = None
    seq: int | None = None
    reason: str | None = None
    detail: str = ""
    clock: str | None = None

    @property
    def ack(self) -> bool:
        """May the node delete this record from its spool?"""
        if self.status in ("stored", "replay"):
            return True
        return self.status == "rejected" and REASONS[self.reason][0] and self.seq is not None

    def as_dict(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if v not in (None, "")}


class _Refused(Exception):
    def __init__(self, reason: str, detail: str):
        self.reason, self.detail = reason, detail


class Ingestor:
    """Verify, deduplicate and store record lines in one database. Use from one thread at a time."""

    def __init__(self, store: Store, keys: KeyFile, *, max_future: int = DEFAULT_MAX_FUTURE,
                 max_past: int | None = DEFAULT_MAX_PAST, max_line: int = DEFAULT_MAX_LINE,
                 now: Callable[[], float] = time.time):
        self.store, self.keys = store, keys
        self.max_future, self.max_past, self.max_line = max_future, max_past, max_line
        self.now = now
        self.counts: Counter[str] = Counter()
        self._rev = None
        self._keys_mtime = None
        self._last_forced = 0.0
        self._refresh()

    def _refresh(self, force: bool = False) -> None:
        """Reload nodes and keys when the registry changed (``tynys nodes add`` while running)."""
        rev = self.store.registry_rev()
        try:
            mtime = self.keys.path.stat().st_mtime_ns
        except FileNotFoundError:
            mtime = None
        if not force and rev == self._rev and mtime == self._keys_mtime:
            return
        nodes = {n.id: n.retired for n in self.store.nodes()}
        self._key = self.keys.load()  # raises on a damaged file: the caller keeps the last nodes and keys
        self._nodes, self._rev, self._keys_mtime = nodes, rev, mtime

    def _reload(self, force: bool = False) -> None:
        try:
            self._refresh(force)
        except TynysError as e:  # a damaged key file must not stop the collection: keep the last keys
            log.error("registry not reloaded: %s", e)

    def _lookup(self, node: str) -> bytes:
        if node not in self._nodes or node not in self._key:
            if time.monotonic() - self._last_forced > 1.0:
                self._last_forced = time.monotonic()
                self._reload(force=True)
        if node not in self._nodes:
            raise _Refused("unknown_node", f"node {node!r} is not registered on this host: "
                                           f"register it with tynys nodes add {node} (and provision its key)")
        if node not in self._key:
            raise _Refused("unknown_node", f"node {node!r} is registered but its key is not in {self.keys.path}: "
                                           "restore the key file or pass the right --keys")
        return self._key[node]

    def key(self, node: str) -> bytes | None:
        """The node's key as last loaded (transports sign their replies with it, tynys.reply)."""
        return self._key.get(node)

    def ingest(self, lines: Iterable[bytes | str], transport: str, source: str = "", node: str | None = None) -> list[Outcome]:
        """Ingest lines in one transaction; *node* is the node the transport claims, if it says."""
        return self.ingest_many([(list(lines), transport, source, node)])[0]

    def ingest_many(self, batches: Sequence[tuple[Sequence[bytes | str], str, str, str | None]]) -> list[list[Outcome]]:
        """Several submissions ``(lines, transport, source, node)`` in one transaction (group commit)."""
        self._reload()
        now = int(self.now())
        try:
            with self.store.transaction():
                results = [[self._one(line, transport, source, claimed, now) for line in lines]
                           for lines, transport, source, claimed in batches]
                self._retime(results, now)
        except (sqlite3.Error, StoreError) as e:
            log.error("store failed, nothing of this batch was written (the nodes will resend): %s", e)
            return [[Outcome("retry", reason="store", detail=str(e)) for _ in lines] for lines, *_ in batches]
        for res in results:
            for o in res:
                self.counts[o.reason or o.status] += 1
        return results

    def _retime(self, results: list[list[Outcome]], now: int) -> None:
        """Re-time each boot this batch stored records of (tynys.retime)."""
        since: dict[tuple, int | None] = {}  # per boot: the lowest seq stored, None if one was unsynced
        for o in (o for res in results for o in res if o.status == "stored"):
            k = (o.node, o.boot)
            if o.clock == "unsynced" or (k in since and since[k] is None):
                since[k] = None
            else:
                since[k] = min(since.get(k, o.seq), o.seq)
        for (node, boot), seq in since.items():
            retime(self.store, node, boot, now, self.max_future, since=seq)

    def _one(self, line: bytes | str, transport: str, source: str, claimed: str | None, now: int) -> Outcome:
        if isinstance(line, str):
            line = line.encode()
        line = line.rstrip(b"\r\n")
        body: dict = {}
        try:
            body, signed, sig = self._parse(line)
            self._check(body, signed, sig, claimed, now)
        except _Refused as r:
            return self._reject(line, transport, source, now, r.reason, r.detail, body)
        text = line.decode()  # _check proved it is UTF-8
        o = Outcome("stored", body["node"], body["boot"], body["seq"], clock=body["clock"])
        c = self.store.conn
        c.execute("SAVEPOINT line")
        try:
            rid = self.store.insert_record(body, text, now, transport, source)
        except sqlite3.IntegrityError as e:  # a bug or a gap in the checks above: refuse this line only
            c.execute("ROLLBACK TO line")
            c.execute("RELEASE line")
            log.error("record not storable: %s", e)
            return self._reject(line, transport, source, now, "schema", f"not storable: {e}", body)
        c.execute("RELEASE line")
        if rid is not None:
            return o
        raw, received, via = self.store.stored_record(body["node"], body["boot"], body["seq"])
        ident = f"({body['node']}, boot {body['boot']}, seq {body['seq']})"
        if raw == text:
            out = self._reject(line, transport, source, now, "replay",
                               f"record {ident} is already stored (received {iso(received)} via {via})", body)
            out.status = "replay"
            return out
        return self._reject(line, transport, source, now, "conflict",
                            f"record {ident} is already stored with different content (received {iso(received)} via {via}): "
                            "the node may have lost its boot/seq counters", body)

    def _parse(self, line: bytes) -> tuple[dict, bytes, str]:
        if len(line) > self.max_line:
            raise _Refused("malformed", f"line of {len(line)} bytes is longer than the {self.max_line} byte limit")
        try:
            line.decode()
        except UnicodeDecodeError as e:
            raise _Refused("malformed", f"not UTF-8 at byte {e.start}") from None
        try:
            return record.parse(line)
        except record.RecordError as e:
            raise _Refused(e.reason, e.detail) from None

    def _check(self, body: dict, signed: bytes, sig: str, claimed: str | None, now: int) -> None:
        node = body.get("node")
        if not isinstance(node, str) or not node_id_ok(node):  # nothing verified: never acknowledged
            raise _Refused("malformed", f"node: {node!r} is not a node id")
        key = self._lookup(node)
        if not hmac.compare_digest(record.signature(signed, key), sig):
            raise _Refused("bad_signature", f"HMAC-SHA256 does not match the key registered for node {node!r}")
        # before any acknowledged refusal: a copy of node A's record sent as node B must not free B's spool
        if claimed is not None and claimed != node:
            raise _Refused("node_mismatch", f"record of node {node!r} arrived as node {claimed!r}")
        try:
            record.validate(body, sig)
        except record.RecordError as e:
            raise _Refused(e.reason, e.detail) from None
        bad = _unstorable_number(body)
        if bad:
            raise _Refused("schema", bad)
        if body["clock"] == "unsynced":
            return  # stored pending; retime() checks the window it gets
        t1 = body["t1"]
        retired = self._nodes[node]
        if retired is not None and t1 > retired:
            raise _Refused("retired_node", f"node {node!r} was retired at {iso(retired)}; this window ends at {iso(t1)}")
        if t1 - now > self.max_future:
            raise _Refused("clock", f"window ends at {iso(t1)}, {t1 - now} s ahead of the host clock (limit {self.max_future} s; "
                                    f"node clock {body['clock']}): the node's clock is wrong")
        if self.max_past is not None and now - t1 > self.max_past:
            raise _Refused("clock", f"window ends at {iso(t1)}, {(now - t1) / 86400:.1f} days before the host clock "
                                    f"(limit {self.max_past / 86400:g} days; node clock {body['clock']}): the node's clock is wrong")

    def _reject(self, line: bytes, transport, source, now, reason, detail, body: dict) -> Outcome:
        def field(k):
            v = body.get(k)
            return v if isinstance(v, int) and not isinstance(v, bool) and -(2**63) <= v < 2**63 else None

        node = body.get("node") if isinstance(body.get("node"), str) else None
        o = Outcome("rejected", node, field("boot"), field("seq"), reason, detail,
                    body.get("clock") if isinstance(body.get("clock"), str) else None)
        self.store.insert_reject(now, transport, source, reason, detail, line, node and node[:64], o.boot, o.seq)
        return o


def _unstorable_number(doc, path: str = "") -> str | None:
    """JSON has no NaN/Infinity (Python's parser takes them) and SQLite integers are 64-bit."""
    if isinstance(doc, dict):
        items = doc.items()
    elif isinstance(doc, list):
        items = enumerate(doc)
    elif isinstance(doc, bool):
        return None
    elif isinstance(doc, int):
        return None if -(2**63) <= doc < 2**63 else f"{path[1:]}: {doc} does not fit in 64 bits"
    elif isinstance(doc, float):
        return None if math.isfinite(doc) else f"{path[1:]}: {doc} is not a JSON number"
    else:
        return None
    for k, v in items:
        bad = _unstorable_number(v, f"{path}/{k}")
        if bad:
            return bad
    return None


class CollectorBusy(TynysError):
    """The collector's queue is full (the disk cannot keep up); the sender should retry later."""


@dataclass
class _Job:
    lines: list
    transport: str
    source: str
    node: str | None
    future: Future
    on_done: Callable[[list[Outcome]], None] | None


class Collector:
    """Group commit for concurrent transports: one writer thread ingests whatever has queued
    (up to *max_batch* lines) in one transaction, then resolves each submission's future and
    calls its ``on_done(outcomes)`` — after the commit, so acknowledgements sent from there are safe."""

    def __init__(self, ingestor: Ingestor, *, max_batch: int = 2000, max_queue: int = 50_000):
        self.ingestor = ingestor
        self.max_batch, self.max_queue = max_batch, max_queue
        self._q: queue.Queue[_Job | None] = queue.Queue()
        self._queued = 0
        self._lock = threading.Lock()
        self._closed = False
        self.batches = 0
        self.started = time.time()
        self._thread = threading.Thread(target=self._run, name="tynys-collector", daemon=True)
        self._thread.start()

    def submit(self, lines: Sequence[bytes | str], transport: str, source: str = "", node: str | None = None,
               on_done: Callable[[list[Outcome]], None] | None = None) -> Future:
        fut: Future = Future()
        with self._lock:
            if self._closed:
                raise CollectorBusy("the collector is shutting down")
            if self._queued + len(lines) > self.max_queue:
                raise CollectorBusy(f"{self._queued} lines are waiting to be stored; retry later")
            self._queued += len(lines)
            # under the lock: a close() in between would queue its stop mark first and leave this job unserved
            self._q.put(_Job(list(lines), transport, source, node, fut, on_done))
        return fut

    def ingest(self, lines, transport: str, source: str = "", node: str | None = None, timeout: float | None = 60) -> list[Outcome]:
        """Submit and wait for the outcomes."""
        return self.submit(lines, transport, source, node).result(timeout)

    def _run(self) -> None:
        stop = False
        while not stop:
            job = self._q.get()
            if job is None:
                break
            jobs, n = [job], len(job.lines)
            while n < self.max_batch:
                try:
                    nxt = self._q.get_nowait()
                except queue.Empty:
                    break
                if nxt is None:
                    stop = True
                    break
                jobs.append(nxt)
                n += len(nxt.lines)
            try:
                results = self.ingestor.ingest_many([(j.lines, j.transport, j.source, j.node) for j in jobs])
            except Exception as e:  # a bug must not stop the collection; nothing was acknowledged
                log.exception("ingest failed")
                results = [[Outcome("retry", reason="internal", detail=f"{type(e).__name__}: {e}") for _ in j.lines] for j in jobs]
            self.batches += 1
            with self._lock:
                self._queued -= n
            for j, res in zip(jobs, results):
                j.future.set_result(res)
                if j.on_done is not None:
                    try:
                        j.on_done(res)
                    except Exception:
                        log.exception("acknowledgement callback failed")

    def stats(self) -> dict:
        return {"queued": self._queued, "batches": self.batches, "outcomes": dict(self.ingestor.counts),
                "uptime_s": int(time.time() - self.started)}

    def close(self, timeout: float | None = 30) -> None:
        """Store everything already submitted, then stop the writer thread."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        self._q.put(None)
        self._thread.join(timeout)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def open_ingestor(db, keys=None, **limits) -> Ingestor:
    """An Ingestor over the database at *db* and its key file (default: beside it)."""
    from .keys import default_path

    store = Store.open(db, create=False)
    return Ingestor(store, KeyFile(keys or default_path(db)), **limits)
