"""The one ingest path every transport (serial, HTTP, MQTT, and later sim and import) goes through.

For each received line, in this order:

1. bounded length, UTF-8, ``{…,"sig":"<64 hex>"}`` form, JSON, a node id  → else ``malformed``
2. a node id that is registered and has a key                   → else ``unknown_node``
3. HMAC-SHA256 under that node's key                            → else ``bad_signature``
4. the transport named the same node (MQTT topic, HTTP header)  → else ``node_mismatch``
5. the version-1 schema                                         → else ``schema``
6. the window is neither far in the future nor far in the past  → else stored *pending* (below)
7. the node is active (window ended before its retirement)      → else ``retired_node``
8. ``(node, boot, seq)`` not stored yet                         → else ``replay`` / ``conflict``
9. store the line untouched plus its decoded sensors and channels.

Steps 1–8 are one loop per batch on the clean path (:meth:`Ingestor._check_all`): the signed
bytes are parsed and validated into typed structs at once (:func:`tynys.record.decode_clean`),
the HMAC is a copy of the node's keyed one, and what the checks look up is looked up once per
batch. A line that loop is not sure of goes through the checks one by one (:meth:`Ingestor._check`),
which give the reason in the order above (a line refused by the one-pass decode is read again
loosely for that).

A measurement is never thrown away for its timestamp. A record made before the node's clock was
set (``"clock":"unsynced"``), or whose set clock puts its window further ahead of or behind the
host's clock than the limits (6), is stored *pending*: acknowledged, kept raw, left out of every
query by time, its reason in ``timing_note``. :mod:`tynys.retime` gives pending windows world
times from the node's uptime once the same boot has records with a right clock (run for every
boot a batch stored records of, in the same transaction), and checks what it infers.

Nothing one line does fails another: a line that cannot be checked or stored (a host bug, a
value the database refuses) is refused alone with the reason ``unstorable`` — acknowledged when
its signature was verified, its whole line kept in ``rejects`` to be ingested again after a fix
— and the rest of its batch and of the group commit is stored. Refusals are counted exactly and
sampled (:mod:`tynys.store.rejects`). A batch is one transaction; outcomes are returned (and
acknowledgements may be sent) only after its commit is on disk. Which outcomes free the node's
spool is in :data:`REASONS` (docs/record.md, "Transports and acknowledgement").

Library use (a sim orchestrator, an importer)::

    ing = Ingestor(Store.open("city.db"), KeyFile("city.keys"))
    outcomes = ing.ingest(lines, transport="sim")
    with Collector(ing) as col:                     # group commit for concurrent transports
        col.submit(lines, "http", source="10.0.0.7", on_done=send_acks)
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import math
import queue
import threading
import time
from collections import Counter, defaultdict
from concurrent.futures import Future, InvalidStateError
from dataclasses import dataclass
from operator import attrgetter
from typing import Callable, Iterable, Sequence

from . import record
from .errors import TynysError
from .keys import KeyFile
from .registry import node_id_ok
from .retime import retime
from .store import Store, StoreError
from .store.records import Stored
from .store.rejects import Reject
from .timeutil import iso

log = logging.getLogger("tynys.ingest")
_KEY = attrgetter("rec.node", "rec.boot", "rec.seq")  # a checked line's (node, boot, seq)

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
    "replay": (True, "this (node, boot, seq) is already stored with the same bytes: a resend or a replay"),
    "conflict": (True, "this (node, boot, seq) is already stored with different content"),
    "unstorable": (True, "signed by the node and valid, but the host failed to store it (a host bug: the whole line "
                         "is kept in rejects to be ingested again)"),
}

DEFAULT_MAX_FUTURE = 600  # s: node clocks drift and windows close at t1; ten minutes is generous
DEFAULT_MAX_PAST = 366 * 86400  # s: a node may sit offline with a full spool for months
DEFAULT_MAX_LINE = 65536  # bytes: a record with every sensor is ~3 kB


@dataclass(slots=True)
class Outcome:
    """What became of one line. ``status``: ``stored``, ``replay`` (already stored), ``rejected``
    (refused; see ``reason``) or ``retry`` (the store failed: nothing was written). A record
    stored pending because its clock is off says so in ``reason`` (``clock``) and ``detail``."""

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
        return {k: v for k in self.__slots__ if (v := getattr(self, k)) not in (None, "")}


class _Refused(Exception):
    def __init__(self, reason: str, detail: str):
        self.reason, self.detail = reason, detail


class _Line:
    """One line on its way: refused (``outcome`` set), or checked and ready to store (``rec``)."""

    __slots__ = ("raw", "text", "transport", "source", "rec", "ident", "outcome", "timing", "note", "verified")

    def __init__(self, raw: bytes, transport: str, source: str, text: str | None = None, rec: record.Record | None = None):
        """With *text* and *rec*: a line the clean path checked (verified, timed by its node)."""
        self.raw, self.transport, self.source, self.text, self.rec = raw, transport, source, text, rec
        self.outcome = None
        self.timing, self.note = "node", ""
        if rec is None:
            self.ident = (None, None, None, None)  # (node, boot, seq, clock) as far as they could be read
            self.verified = False
        else:
            self.ident = (rec.node, rec.boot, rec.seq, rec.clock)
            self.verified = True


class Ingestor:
    """Verify, deduplicate and store record lines in one database. Use from one thread at a time."""

    def __init__(self, store: Store, keys: KeyFile, *, max_future: int | None = DEFAULT_MAX_FUTURE,
                 max_past: int | None = DEFAULT_MAX_PAST, max_line: int = DEFAULT_MAX_LINE,
                 now: Callable[[], float] = time.time):
        self.store, self.keys = store, keys
        self.max_future, self.max_past, self.max_line = max_future, max_past, max_line
        self.now = now
        self.counts: Counter[str] = Counter()
        self._settled: dict[tuple[str, int], int] = {}  # per boot: the seq after which re-timing has nothing to do
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
        nodes = self.store.retirements()
        self._key = self.keys.load()  # raises on a damaged file: the caller keeps the last nodes and keys
        self._nodes, self._rev, self._keys_mtime = nodes, rev, mtime
        self._macs: dict[str, hmac.HMAC] = {}  # per node, keyed HMAC-SHA256 made on first use (_mac)

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

    def _mac(self, node: str) -> hmac.HMAC | None:
        """The node's HMAC-SHA256 with its key already set, made once per registry load (a copy
        per line skips the key set-up); None if the node is not registered or has no key."""
        if node not in self._nodes or node not in self._key:
            return None
        mac = self._macs[node] = hmac.new(self._key[node], digestmod=hashlib.sha256)
        return mac

    def key(self, node: str) -> bytes | None:
        """The node's key as last loaded (transports sign their replies with it, tynys.transport.reply)."""
        return self._key.get(node)

    def ingest(self, lines: Iterable[bytes | str], transport: str, source: str = "", node: str | None = None) -> list[Outcome]:
        """Ingest lines in one transaction; *node* is the node the transport claims, if it says."""
        return self.ingest_many([(list(lines), transport, source, node)])[0]

    def ingest_many(self, batches: Sequence[tuple[Sequence[bytes | str], str, str, str | None]]) -> list[list[Outcome]]:
        """Several submissions ``(lines, transport, source, node)`` in one transaction (group commit)."""
        self._reload()
        now = int(self.now())
        items = [self._check_all(lines, transport, source, claimed, now) for lines, transport, source, claimed in batches]
        flat = [it for batch in items for it in batch]
        try:
            with self.store.transaction():
                self._store(flat, now)
        except (self.store.db.Error, StoreError) as e:
            log.error("store failed, nothing of this batch was written (the nodes will resend): %s", e)
            return [[Outcome("retry", reason="store", detail=str(e)) for _ in batch] for batch in items]
        results = [[it.outcome for it in batch] for batch in items]
        self.counts.update(o.reason if o.status != "stored" else "stored" for res in results for o in res)
        return results

    # -- checking (nothing written) -------------------------------------------------------------

    def _check_all(self, lines: Sequence[bytes | str], transport: str, source: str, claimed: str | None, now: int) -> list[_Line]:
        """Check *lines*: the clean path in one loop, with what it needs looked up once. It takes
        only a line that every check of :meth:`_verify` passes and that its node's clock times
        (steps 1–8 of the module docstring, step 8 being left to the store's unique key); any
        other line goes through :meth:`_check`, which finds the reason or the pending timing."""
        split, decode, compare = record.split, record.decode_clean, hmac.compare_digest
        max_line = self.max_line
        hi = math.inf if self.max_future is None else now + self.max_future
        lo = -math.inf if self.max_past is None else now - self.max_past
        macs, nodes = self._macs, self._nodes
        out = []
        for line in lines:
            it = None
            try:
                raw = (line.encode() if isinstance(line, str) else line).rstrip(b"\r\n")
                if len(raw) <= max_line:
                    text = raw.decode()
                    signed, sig = split(raw)
                    rec = decode(signed)
                    if rec is not None and rec.clock != "unsynced" and lo <= rec.t1 <= hi and claimed in (None, rec.node):
                        node = rec.node
                        mac = macs.get(node) or self._mac(node)
                        retired = nodes.get(node)
                        if mac is not None and (retired is None or rec.t1 <= retired):
                            mac = mac.copy()
                            mac.update(signed)
                            if compare(mac.hexdigest(), sig):
                                it = _Line(raw, transport, source, text, rec)
            except Exception:  # anything unusual is _check's to judge and to say
                pass
            if it is None:
                it = self._check(line, transport, source, claimed, now)
                macs, nodes = self._macs, self._nodes  # _check may have reloaded the registry
            out.append(it)
        return out

    def _check(self, line: bytes | str, transport: str, source: str, claimed: str | None, now: int) -> _Line:
        if isinstance(line, str):
            line = line.encode()
        it = _Line(line.rstrip(b"\r\n"), transport, source)
        try:
            self._verify(it, claimed, now)
        except _Refused as r:
            self._refuse(it, r.reason, r.detail)
        except Exception as e:  # a bug in a check: this line only, the others go on
            log.exception("checking a line failed")
            self._refuse(it, "unstorable" if it.verified else "malformed", f"the host failed to check it ({type(e).__name__}: {e})")
        return it

    def _verify(self, it: _Line, claimed: str | None, now: int) -> None:
        line = it.raw
        if len(line) > self.max_line:
            raise _Refused("malformed", f"line of {len(line)} bytes is longer than the {self.max_line} byte limit")
        try:
            it.text = line.decode()
        except UnicodeDecodeError as e:
            raise _Refused("malformed", f"not UTF-8 at byte {e.start}") from None
        try:
            signed, sig = record.split(line)
        except record.RecordError as e:
            raise _Refused(e.reason, e.detail) from None
        try:
            rec = record.decode(signed)  # the clean path: parsed and validated in one pass
        except record.RecordError:
            rec = None
        if rec is None:  # say why, in the order of the module docstring
            body = self._loose(line)
            it.ident = _identity(body)
            self._signed_by(it, body.get("node"), signed, sig, claimed)
            try:
                rec = record.validate(body)
            except record.RecordError as e:
                raise _Refused(e.reason, e.detail) from None
        else:
            it.ident = (rec.node, rec.boot, rec.seq, rec.clock)
            self._signed_by(it, rec.node, signed, sig, claimed, checked=True)
            try:
                record.check(rec)
            except record.RecordError as e:
                raise _Refused(e.reason, e.detail) from None
        it.rec = rec
        if rec.clock == "unsynced":
            it.timing, it.note = "pending", f"no record of boot {rec.boot} with a set clock yet"
        else:
            self._judge_clock(it, rec, now)
        retired = self._nodes[rec.node]
        if retired is not None and rec.t1 > retired and it.timing == "node":
            raise _Refused("retired_node", f"node {rec.node!r} was retired at {iso(retired)}; this window ends at {iso(rec.t1)}")

    def _loose(self, line: bytes) -> dict:
        try:
            return record.parse(line)[0]
        except record.RecordError as e:
            raise _Refused(e.reason, e.detail) from None

    def _signed_by(self, it: _Line, node, signed: bytes, sig: str, claimed: str | None, checked: bool = False) -> None:
        """*checked*: the decoder already matched the node id against the schema's pattern."""
        if not checked and (not isinstance(node, str) or not node_id_ok(node)):  # nothing verified: never acknowledged
            raise _Refused("malformed", f"node: {node!r} is not a node id")
        key = self._lookup(node)
        if not hmac.compare_digest(record.signature(signed, key), sig):
            raise _Refused("bad_signature", f"HMAC-SHA256 does not match the key registered for node {node!r}")
        # before any acknowledged refusal: a copy of node A's record sent as node B must not free B's spool
        if claimed is not None and claimed != node:
            raise _Refused("node_mismatch", f"record of node {node!r} arrived as node {claimed!r}")
        it.verified = True

    def _judge_clock(self, it: _Line, rec, now: int) -> None:
        """A set clock that puts the window too far from the host's: kept pending, with why."""
        t1 = rec.t1
        if self.max_future is not None and t1 - now > self.max_future:
            off = f"ends at {iso(t1)}, {t1 - now} s ahead of the host clock (limit {self.max_future} s"
        elif self.max_past is not None and now - t1 > self.max_past:
            off = f"ends at {iso(t1)}, {(now - t1) / 86400:.1f} days before the host clock (limit {self.max_past / 86400:g} days"
        else:
            return
        it.timing = "pending"
        it.note = (f"kept pending: the window {off}; node clock {rec.clock}): the node's clock is wrong; "
                   "re-timed from its uptime once its boot has records with a right clock")

    def _refuse(self, it: _Line, reason: str, detail: str) -> None:
        node, boot, seq, clock = it.ident
        it.outcome = Outcome("rejected", node, boot, seq, reason, detail, clock)

    # -- storing, one transaction -------------------------------------------------------------

    def _store(self, items: list[_Line], now: int) -> None:
        # in key order: collectors writing one server database at once then wait on each other's
        # copies of a record instead of deadlocking
        new = sorted((it for it in items if it.outcome is None), key=_KEY)
        # the clean path: one bulk insert; the unique key finds resends, then they are sorted out
        if new and not self._bulk(new, now):
            new = self._dedupe(new, now)
            if new and not self._bulk(new, now):
                for it in new:  # one the database refuses: the others still go in
                    self._bulk([it], now, alone=True)
        for it in new:
            if it.outcome is None:
                r = it.rec
                off = it.timing == "pending" and r.clock != "unsynced"
                it.outcome = Outcome("stored", r.node, r.boot, r.seq, "clock" if off else None, it.note if off else "", r.clock)
        refused = [it for it in items if it.outcome.status != "stored"]
        if refused:
            self.store.add_rejects([Reject(now, it.transport, it.source, it.outcome.reason, it.outcome.detail, it.raw,
                                           it.outcome.node and it.outcome.node[:64], it.outcome.boot, it.outcome.seq)
                                    for it in refused])
        self._retime(new, now)

    def _bulk(self, its: list[_Line], now: int, alone: bool = False) -> bool:
        """Insert *its* at once (all or nothing); False if one was already stored or failed."""
        try:
            with self.store.db.savepoint("bulk"):
                # a pending record has no effective window yet
                self.store.insert_records([(it.rec, it.text, it.transport, it.source, it.timing,
                                            it.rec.t0 if it.timing == "node" else None, it.rec.t1 if it.timing == "node" else None,
                                            it.note) for it in its], now)
            return True
        except Stored:
            # alone: another collector stored it since _dedupe looked; it is a resend like any other
            if alone and self._dedupe(its, now):
                self._refuse(its[0], "unstorable", "the host failed to store it (its key is taken, yet no record has it); "
                                                   "the whole line is kept in rejects")
            return False
        except StoreError:
            raise  # the database's trouble (busy, gone, full): the whole batch is retried
        except Exception as e:  # a value or constraint the checks did not foresee
            if not alone:
                log.error("%d records not storable at once (%s): storing them one by one", len(its), e)
                return False
            r = its[0].rec
            log.error("record %s boot %s seq %s not storable: %s", r.node, r.boot, r.seq, e)
            self._refuse(its[0], "unstorable", f"the host failed to store it ({type(e).__name__}: {e}); "
                                               "the whole line is kept in rejects")
            return False

    def _dedupe(self, its: list[_Line], now: int) -> list[_Line]:
        """Sort out records already stored (replay or conflict) and copies within the batch; the new ones."""
        by_boot: dict[tuple[str, int], list[_Line]] = defaultdict(list)
        for it in its:
            by_boot[(it.rec.node, it.rec.boot)].append(it)
        new = []
        for (node, boot), group in by_boot.items():
            stored = self.store.existing(node, boot, sorted({it.rec.seq for it in group}))
            for it in group:
                seq = it.rec.seq
                if seq in stored:
                    self._duplicate(it, *stored[seq])
                else:
                    stored[seq] = (it.text, now, it.transport)  # a second copy in this batch is a duplicate
                    new.append(it)
        return new

    def _duplicate(self, it: _Line, raw: str, received: int, via: str) -> None:
        r = it.rec
        ident = f"({r.node}, boot {r.boot}, seq {r.seq})"
        if raw == it.text:
            self._refuse(it, "replay", f"record {ident} is already stored (received {iso(received)} via {via})")
            it.outcome.status = "replay"
        else:
            self._refuse(it, "conflict", f"record {ident} is already stored with different content (received {iso(received)} "
                                         f"via {via}): the node may have lost its boot/seq counters")

    def _retime(self, new: list[_Line], now: int) -> None:
        """Re-time each boot this batch stored records of (tynys.retime); a failure there leaves
        that boot's windows pending and stores everything else."""
        since: dict[tuple, int | None] = {}  # per boot: the lowest seq stored, None if one was not timed by its clock
        for it in new:  # in key order (_store): a boot's first record stored has its lowest seq
            if it.outcome.status != "stored":
                continue
            r = it.rec
            k = (r.node, r.boot)
            if k not in since:
                since[k] = r.seq if it.timing == "node" else None
            elif it.timing != "node":
                since[k] = None
        for key, seq in since.items():
            if seq is not None and seq > self._settled.get(key, 2**63):
                continue  # a live node's steady state: this boot has nothing left to re-time
            try:
                with self.store.db.savepoint("retime"):
                    settled = retime(self.store, *key, now, self.max_future, since=seq, max_past=self.max_past)
            except Exception:
                log.exception("re-timing %s boot %s failed; its windows stay as they were", *key)
                continue
            if settled is not None:
                if len(self._settled) > 100_000:
                    self._settled.clear()
                self._settled[key] = settled


def _identity(body: dict) -> tuple:
    """``(node, boot, seq, clock)`` of a loosely read body, where they are of the right type."""
    def field(k):
        v = body.get(k)
        return v if isinstance(v, int) and not isinstance(v, bool) and -(2**63) <= v < 2**63 else None

    node, clock = body.get("node"), body.get("clock")
    return (node if isinstance(node, str) else None, field("boot"), field("seq"), clock if isinstance(clock, str) else None)


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
                try:
                    j.future.set_result(res)
                except InvalidStateError:  # cancelled by a caller that gave up waiting
                    pass
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
    """An Ingestor over the database at *db* (integrity checked first) and its key file (default: beside it)."""
    from .keys import default_path

    store = Store.open(db, create=False, check=True)  # a collector must not start on a damaged file
    return Ingestor(store, KeyFile(keys or default_path(db)), **limits)
