"""The host's store: one SQLite file in WAL mode with a narrow, engine-neutral schema.

Tables (docs/host.md has the full schema):

- ``nodes``, ``node_sensors``: the registry (keys live outside the database, see ``keys.py``);
- ``records``: one row per stored record, with the exact line received (``raw``) — never rewritten;
- ``record_sensors``: per record and sensor slot, the frame/error/warm-up counters;
- ``channel_values``: per record and channel (``pm.pm25_cf1``): ``n, mean, sd, min, max``;
- ``rejects``: every refused line with its reason, detail, transport and (bounded) raw bytes;
- ``imports``: the ledger that makes an imported file land once (keyed by its SHA-256).

The schema is versioned in ``schema_migrations``; opening a database applies what is missing.
Query API for the rest of the toolkit::

    store = Store.open("city.db")
    s = store.series("osk-01", "pm.pm25_cf1", t0, t1)   # numpy arrays: s.t0, s.mean, s.n, ...
    store.latest()                                       # newest record per node, with channel means
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator

import numpy as np

from .errors import TynysError
from .timeutil import iso as _iso

REJECT_RAW_MAX = 4096  # bytes of a refused line kept: enough to diagnose, bounded against floods

# Each migration: (version, description, statements). Append only; never edit a released one.
MIGRATIONS: list[tuple[int, str, list[str]]] = [
    (1, "registry, records, channel values, rejects, import ledger", [
        """CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)""",
        """CREATE TABLE nodes (
            id TEXT PRIMARY KEY,
            name TEXT NOT NULL DEFAULT '',
            lat REAL, lon REAL, height_m REAL,
            placement TEXT NOT NULL DEFAULT 'outdoor' CHECK (placement IN ('outdoor', 'indoor')),
            district TEXT NOT NULL DEFAULT '',
            installed INTEGER, retired INTEGER, retired_reason TEXT NOT NULL DEFAULT '',
            notes TEXT NOT NULL DEFAULT '',
            added INTEGER NOT NULL)""",
        """CREATE TABLE node_sensors (
            id INTEGER PRIMARY KEY,
            node TEXT NOT NULL REFERENCES nodes (id),
            slot TEXT NOT NULL, type TEXT NOT NULL, model TEXT NOT NULL DEFAULT '',
            installed INTEGER, removed INTEGER)""",
        """CREATE INDEX node_sensors_node ON node_sensors (node, slot)""",
        """CREATE TABLE records (
            id INTEGER PRIMARY KEY,
            node TEXT NOT NULL REFERENCES nodes (id),
            boot INTEGER NOT NULL, seq INTEGER NOT NULL,
            t0 INTEGER NOT NULL, t1 INTEGER NOT NULL,
            clock TEXT NOT NULL, fw TEXT NOT NULL,
            heap_free INTEGER, uptime INTEGER, reset TEXT, rssi INTEGER, spool INTEGER, dropped INTEGER,
            received INTEGER NOT NULL, transport TEXT NOT NULL, source TEXT NOT NULL DEFAULT '',
            raw TEXT NOT NULL,
            UNIQUE (node, boot, seq))""",
        """CREATE INDEX records_node_t0 ON records (node, t0)""",
        """CREATE TABLE record_sensors (
            record INTEGER NOT NULL REFERENCES records (id),
            slot TEXT NOT NULL, type TEXT NOT NULL, model TEXT, sensor_id TEXT,
            frames INTEGER NOT NULL, bad INTEGER NOT NULL, warmup INTEGER NOT NULL, missing INTEGER NOT NULL,
            state INTEGER,
            PRIMARY KEY (record, slot)) WITHOUT ROWID""",
        """CREATE TABLE channel_values (
            record INTEGER NOT NULL REFERENCES records (id),
            channel TEXT NOT NULL,
            n INTEGER NOT NULL, mean REAL, sd REAL, min REAL, max REAL,
            PRIMARY KEY (record, channel)) WITHOUT ROWID""",
        """CREATE TABLE rejects (
            id INTEGER PRIMARY KEY,
            received INTEGER NOT NULL, transport TEXT NOT NULL, source TEXT NOT NULL DEFAULT '',
            reason TEXT NOT NULL, detail TEXT NOT NULL,
            node TEXT, boot INTEGER, seq INTEGER,
            raw BLOB NOT NULL, raw_len INTEGER NOT NULL)""",
        """CREATE INDEX rejects_received ON rejects (received)""",
        """CREATE TABLE imports (
            id INTEGER PRIMARY KEY,
            sha256 TEXT NOT NULL UNIQUE,
            name TEXT NOT NULL, kind TEXT NOT NULL, size INTEGER NOT NULL,
            imported INTEGER NOT NULL, rows INTEGER NOT NULL DEFAULT 0, detail TEXT NOT NULL DEFAULT '')""",
        """INSERT INTO meta (key, value) VALUES ('registry_rev', '0')""",
    ]),
]

_NODE_COLS = ("id", "name", "lat", "lon", "height_m", "placement", "district", "installed", "retired",
              "retired_reason", "notes", "added")
_HEALTH = ("heap_free", "uptime", "reset", "rssi", "spool", "dropped")


class StoreError(TynysError):
    """The database cannot be used as asked (missing, newer schema, locked, full disk)."""


@dataclass
class NodeSensor:
    slot: str
    type: str
    model: str = ""
    installed: int | None = None
    removed: int | None = None


@dataclass
class Node:
    id: str
    name: str = ""
    lat: float | None = None
    lon: float | None = None
    height_m: float | None = None
    placement: str = "outdoor"
    district: str = ""
    installed: int | None = None
    retired: int | None = None
    retired_reason: str = ""
    notes: str = ""
    added: int = 0
    sensors: list[NodeSensor] = field(default_factory=list)

    @property
    def active(self) -> bool:
        return self.retired is None


@dataclass(frozen=True)
class Series:
    """One channel of one node over time. Times are int64 seconds since 1970 UTC (window start
    ``t0`` and end ``t1``); statistics are float64 with NaN where the window had no reading."""

    node: str
    channel: str
    t0: np.ndarray
    t1: np.ndarray
    n: np.ndarray
    mean: np.ndarray
    sd: np.ndarray
    min: np.ndarray
    max: np.ndarray

    def __len__(self) -> int:
        return len(self.t0)


class Store:
    """A connection to one database file. Not shared between threads: open one per thread."""

    def __init__(self, conn: sqlite3.Connection, path: Path):
        self.conn = conn
        self.path = path

    @classmethod
    def open(cls, path: str | os.PathLike, *, create: bool = True, timeout: float = 10.0,
             synchronous: str = "FULL") -> "Store":
        """Open (and create or migrate) the database at *path*.

        ``synchronous=FULL`` makes every commit durable against power loss, not only against a
        killed process; commits are batched, so it costs one fsync per batch.
        """
        path = Path(path)
        if not create and not path.exists():
            raise StoreError(f"no database at {path}: register a node first (tynys nodes add --db {path} ...) or pass --db")
        try:
            conn = sqlite3.connect(path, timeout=timeout, isolation_level=None, check_same_thread=False)
            mode = conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
        except sqlite3.DatabaseError as e:
            raise StoreError(f"cannot open {path} as a SQLite database: {e}") from None
        if mode.lower() != "wal":
            raise StoreError(f"{path}: SQLite refused WAL mode ({mode}); is it on a network file system? Use a local disk")
        conn.execute(f"PRAGMA synchronous={synchronous}")
        conn.execute("PRAGMA foreign_keys=ON")
        store = cls(conn, path)
        store.migrate()
        return store

    def close(self) -> None:
        self.conn.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # -- schema ------------------------------------------------------------------------------

    def schema_version(self) -> int:
        has = self.conn.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name='schema_migrations'").fetchone()
        if not has:
            return 0
        return self.conn.execute("SELECT COALESCE(MAX(version), 0) FROM schema_migrations").fetchone()[0]

    def migrate(self) -> list[int]:
        """Apply the migrations this database lacks, each in its own transaction; return their versions."""
        latest = MIGRATIONS[-1][0]
        current = self.schema_version()
        if current > latest:
            raise StoreError(f"{self.path} has schema version {current}, newer than this tynys knows ({latest}): upgrade tynys")
        applied = []
        for version, description, statements in MIGRATIONS:
            if version <= current:
                continue
            with self.transaction():
                if self.schema_version() >= version:  # another process got there first
                    continue
                if version == 1:
                    self.conn.execute("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, "
                                      "applied INTEGER NOT NULL, description TEXT NOT NULL)")
                for sql in statements:
                    self.conn.execute(sql)
                self.conn.execute("INSERT INTO schema_migrations VALUES (?, ?, ?)", (version, int(time.time()), description))
            applied.append(version)
        return applied

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """``BEGIN IMMEDIATE`` … ``COMMIT`` (rolled back on any exception). When it returns, the
        commit is on disk: only then may a caller acknowledge what it wrote."""
        try:
            self.conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as e:
            raise StoreError(f"{self.path} is busy ({e}): another program holds the write lock; retry") from None
        try:
            yield self.conn
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        else:
            self.conn.execute("COMMIT")

    # -- registry ----------------------------------------------------------------------------

    def registry_rev(self) -> int:
        """A counter bumped by every registry change, so long-running ingest notices new nodes."""
        return int(self.conn.execute("SELECT value FROM meta WHERE key='registry_rev'").fetchone()[0])

    def _bump_registry(self) -> None:
        self.conn.execute("UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key='registry_rev'")

    def add_node(self, node: Node) -> None:
        with self.transaction() as c:
            if c.execute("SELECT 1 FROM nodes WHERE id=?", (node.id,)).fetchone():
                raise StoreError(f"node {node.id!r} is already registered: see tynys nodes show {node.id}")
            c.execute(f"INSERT INTO nodes ({', '.join(_NODE_COLS)}) VALUES ({', '.join('?' * len(_NODE_COLS))})",
                      tuple(getattr(node, k) for k in _NODE_COLS))
            c.executemany("INSERT INTO node_sensors (node, slot, type, model, installed, removed) VALUES (?, ?, ?, ?, ?, ?)",
                          [(node.id, s.slot, s.type, s.model, s.installed, s.removed) for s in node.sensors])
            self._bump_registry()

    def retire_node(self, node_id: str, when: int, reason: str = "") -> None:
        with self.transaction() as c:
            row = c.execute("SELECT retired FROM nodes WHERE id=?", (node_id,)).fetchone()
            if row is None:
                raise StoreError(f"no node {node_id!r} in {self.path}: see tynys nodes list")
            if row[0] is not None:
                raise StoreError(f"node {node_id!r} was already retired on {_iso(row[0])}")
            c.execute("UPDATE nodes SET retired=?, retired_reason=? WHERE id=?", (when, reason, node_id))
            c.execute("UPDATE node_sensors SET removed=? WHERE node=? AND removed IS NULL", (when, node_id))
            self._bump_registry()

    def nodes(self, *, include_retired: bool = True) -> list[Node]:
        where = "" if include_retired else "WHERE retired IS NULL"
        rows = self.conn.execute(f"SELECT {', '.join(_NODE_COLS)} FROM nodes {where} ORDER BY id").fetchall()
        sensors: dict[str, list[NodeSensor]] = {}
        for nid, *s in self.conn.execute("SELECT node, slot, type, model, installed, removed FROM node_sensors ORDER BY node, slot, id"):
            sensors.setdefault(nid, []).append(NodeSensor(*s))
        return [Node(**dict(zip(_NODE_COLS, r)), sensors=sensors.get(r[0], [])) for r in rows]

    def node(self, node_id: str) -> Node:
        for n in self.nodes():
            if n.id == node_id:
                return n
        raise StoreError(f"no node {node_id!r} in {self.path}: see tynys nodes list")

    # -- writing records (the ingest path calls these inside one transaction) ----------------

    def insert_record(self, body: dict, raw: str, received: int, transport: str, source: str) -> int | None:
        """Insert a verified, validated record; return its row id, or None if (node, boot, seq) exists."""
        h = body["health"]
        row = self.conn.execute(
            "INSERT INTO records (node, boot, seq, t0, t1, clock, fw, heap_free, uptime, reset, rssi, spool, dropped,"
            " received, transport, source, raw) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (node, boot, seq) DO NOTHING RETURNING id",
            (body["node"], body["boot"], body["seq"], body["t0"], body["t1"], body["clock"], body["fw"],
             *(h.get(k) for k in _HEALTH), received, transport, source, raw)).fetchone()
        if row is None:
            return None
        rid = row[0]
        sensors = body["sensors"]
        self.conn.executemany(
            "INSERT INTO record_sensors VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(rid, slot, s["type"], s.get("model"), s.get("id"), s["frames"], s["bad"], s["warmup"], s["missing"], s.get("state"))
             for slot, s in sensors.items()])
        self.conn.executemany(
            "INSERT INTO channel_values VALUES (?, ?, ?, ?, ?, ?, ?)",
            [(rid, f"{slot}.{name}", st["n"], st["mean"], st["sd"], st["min"], st["max"])
             for slot, s in sensors.items() for name, st in s["ch"].items()])
        return rid

    def stored_record(self, node: str, boot: int, seq: int) -> tuple[str, int, str] | None:
        """``(raw, received, transport)`` of the stored record with this identity, if any."""
        return self.conn.execute("SELECT raw, received, transport FROM records WHERE node=? AND boot=? AND seq=?",
                                 (node, boot, seq)).fetchone()

    def insert_reject(self, received: int, transport: str, source: str, reason: str, detail: str, raw: bytes,
                      node: str | None = None, boot: int | None = None, seq: int | None = None) -> None:
        self.conn.execute(
            "INSERT INTO rejects (received, transport, source, reason, detail, node, boot, seq, raw, raw_len)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (received, transport, source, reason, detail, node, boot, seq, bytes(raw[:REJECT_RAW_MAX]), len(raw)))

    # -- import ledger -----------------------------------------------------------------------

    def imported(self, sha256: str) -> dict | None:
        """The ledger entry of an earlier import of a file with this content, if any."""
        cur = self.conn.execute("SELECT id, sha256, name, kind, size, imported, rows, detail FROM imports WHERE sha256=?", (sha256,))
        row = cur.fetchone()
        return dict(zip([d[0] for d in cur.description], row)) if row else None

    def record_import(self, sha256: str, name: str, kind: str, size: int, rows: int, detail: str = "") -> bool:
        """Add a ledger entry inside the caller's transaction (the one that stored the file's rows).
        Returns False when the same content was imported before: the caller must then roll back."""
        cur = self.conn.execute(
            "INSERT INTO imports (sha256, name, kind, size, imported, rows, detail) VALUES (?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (sha256) DO NOTHING", (sha256, name, kind, size, int(time.time()), rows, detail))
        return cur.rowcount == 1

    # -- queries -----------------------------------------------------------------------------

    def series(self, node: str, channel: str, t0: int | None = None, t1: int | None = None) -> Series:
        """Channel *channel* (``slot.name``) of *node* for windows starting in ``[t0, t1)``, by time."""
        rows = self.conn.execute(
            "SELECT r.t0, r.t1, v.n, v.mean, v.sd, v.min, v.max FROM records r"
            " JOIN channel_values v ON v.record = r.id AND v.channel = ?"
            " WHERE r.node = ? AND r.t0 >= ? AND r.t0 < ? ORDER BY r.t0, r.boot, r.seq",
            (channel, node, -(2**62) if t0 is None else t0, 2**62 if t1 is None else t1)).fetchall()
        times = np.array([r[:3] for r in rows], dtype=np.int64).reshape(-1, 3)
        stats = np.array([r[3:] for r in rows], dtype=np.float64).reshape(-1, 4)  # None -> NaN
        return Series(node, channel, times[:, 0], times[:, 1], times[:, 2], stats[:, 0], stats[:, 1], stats[:, 2], stats[:, 3])

    def channel_names(self, node: str | None = None) -> list[str]:
        """Channels a node (or any node) has ever reported (scans its values: not for hot paths)."""
        if node is None:
            q, args = "SELECT DISTINCT channel FROM channel_values", ()
        else:
            q = ("SELECT DISTINCT v.channel FROM channel_values v JOIN records r ON r.id = v.record WHERE r.node = ?")
            args = (node,)
        return sorted(r[0] for r in self.conn.execute(q, args))

    def latest(self, nodes: Iterable[str] | None = None) -> list[dict]:
        """Per node, its newest record (by window start): times, identity, health and channel means."""
        ids = list(nodes) if nodes is not None else [n.id for n in self.nodes()]
        out = []
        for nid in ids:
            cur = self.conn.execute(
                f"SELECT id, node, boot, seq, t0, t1, clock, fw, {', '.join(_HEALTH)}, received, transport, source"
                " FROM records WHERE node = ? ORDER BY t0 DESC, boot DESC, seq DESC LIMIT 1", (nid,))
            row = cur.fetchone()
            if row is None:
                continue
            rec = dict(zip([d[0] for d in cur.description], row))
            rid = rec.pop("id")
            rec["values"] = dict(self.conn.execute("SELECT channel, mean FROM channel_values WHERE record=? ORDER BY channel", (rid,)).fetchall())
            out.append(rec)
        return out

    def raw_lines(self, node: str, t0: int | None = None, t1: int | None = None) -> list[str]:
        """The lines as received (signature intact) for re-verification or export."""
        return [r[0] for r in self.conn.execute(
            "SELECT raw FROM records WHERE node=? AND t0 >= ? AND t0 < ? ORDER BY t0, boot, seq",
            (node, -(2**62) if t0 is None else t0, 2**62 if t1 is None else t1))]

    def rejects(self, *, since: int | None = None, reason: str | None = None, node: str | None = None,
                limit: int = 100) -> list[dict]:
        """Newest refusals first."""
        where, args = ["received >= ?"], [since or 0]
        if reason:
            where.append("reason = ?")
            args.append(reason)
        if node:
            where.append("node = ?")
            args.append(node)
        cur = self.conn.execute(
            "SELECT id, received, transport, source, reason, detail, node, boot, seq, raw_len, raw FROM rejects"
            f" WHERE {' AND '.join(where)} ORDER BY id DESC LIMIT ?", (*args, limit))
        cols = [d[0] for d in cur.description]
        return [dict(zip(cols, r)) for r in cur.fetchall()]

    def stats(self) -> dict:
        """Counts for ``tynys db stats``: nodes, records, rejected (exact; counting is O(rows))."""
        c = self.conn
        one = lambda q: c.execute(q).fetchone()[0]  # noqa: E731
        first, last = c.execute("SELECT MIN(t0), MAX(t1) FROM records").fetchone()
        return {
            "nodes": one("SELECT COUNT(*) FROM nodes"),
            "active_nodes": one("SELECT COUNT(*) FROM nodes WHERE retired IS NULL"),
            "records": one("SELECT COUNT(*) FROM records"),
            "channel_values": one("SELECT COUNT(*) FROM channel_values"),
            "rejected": one("SELECT COUNT(*) FROM rejects"),
            "rejected_by_reason": dict(c.execute("SELECT reason, COUNT(*) FROM rejects GROUP BY reason ORDER BY reason").fetchall()),
            "imports": one("SELECT COUNT(*) FROM imports"),
            "first": _iso(first),
            "last": _iso(last),
            "schema_version": self.schema_version(),
            "path": str(self.path),
            "bytes": sum(p.stat().st_size for p in (self.path, Path(f"{self.path}-wal")) if p.exists()),
        }

    def backup(self, dest: str | os.PathLike) -> Path:
        """A consistent copy while ingest keeps running (SQLite's online backup), then checked."""
        dest = Path(dest)
        if dest.exists():
            raise StoreError(f"{dest} exists: choose a new file name for the backup")
        target = sqlite3.connect(dest)
        try:
            self.conn.backup(target)
            ok = target.execute("PRAGMA integrity_check").fetchone()[0]
        finally:
            target.close()
        if ok != "ok":
            raise StoreError(f"backup {dest} failed its integrity check: {ok}")
        return dest
