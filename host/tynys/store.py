"""The host's store: one SQLite file in WAL mode with a narrow, engine-neutral schema.

Tables (docs/host.md has the full schema):

- ``nodes``, ``node_sensors``: the registry (keys live outside the database, see ``keys.py``);
- ``records``: one row per stored record, with the exact line received (``raw``) — never rewritten;
  ``t0``/``t1`` as the node sent them, ``eff_t0``/``eff_t1`` the window the host uses (re-timed when
  the node's clock was not set, NULL while pending: ``tynys.retime``);
- ``timed_records``: a view of ``records`` with the effective window as ``t0``/``t1`` and pending
  records left out. Every query by window time below reads it;
- ``record_sensors``: per record and sensor slot, the frame/error/warm-up counters;
- ``channel_values``: per record and channel (``pm.pm25_cf1``): ``n, mean, sd, min, max``;
- ``rejects``: every refused line with its reason, detail, transport and (bounded) raw bytes;
- ``imports``: the ledger that makes an imported file land once (keyed by its SHA-256);
- ``sites``, ``observations``: data that did not come from a Tynys node (reference stations,
  other networks' sensors), one value per ``(site, parameter, t0)``;
- ``calibration_profiles``: versioned profiles per node channel (the profile JSON document);
- ``corrected_values``: per record and channel, the corrected value and the profile that made it.

The schema is versioned in ``schema_migrations``; opening a database applies what is missing.
Query API for the rest of the toolkit::

    store = Store.open("city.db")
    s = store.series("osk-01", "pm.pm25_cf1", t0, t1)   # numpy arrays: s.t0, s.mean, s.n, ...
    store.latest()                                       # newest record per node, with channel means
    w = store.windows("osk-01", ["pm.pm25_cf1", "th.rh"])  # channels aligned on records
    ref = store.observations("airnowtech:370630099", "pm25") # imported values: ref.t0, ref.value, ref.unit
    c = store.corrected("osk-01", "pm.pm25_cf1")          # corrected values with profile id/version
"""

from __future__ import annotations

import contextlib
import json
import math
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
    (2, "imported sites and observations, calibration profiles, corrected values", [
        """CREATE TABLE sites (
            id INTEGER PRIMARY KEY,
            provider TEXT NOT NULL, provider_id TEXT NOT NULL,
            name TEXT NOT NULL DEFAULT '', lat REAL, lon REAL,
            kind TEXT NOT NULL CHECK (kind IN ('reference', 'sensor')),
            tz TEXT NOT NULL DEFAULT '', notes TEXT NOT NULL DEFAULT '',
            added INTEGER NOT NULL,
            UNIQUE (provider, provider_id))""",
        """CREATE TABLE observations (
            site INTEGER NOT NULL REFERENCES sites (id),
            parameter TEXT NOT NULL,
            t0 INTEGER NOT NULL, t1 INTEGER NOT NULL,
            value REAL NOT NULL, unit TEXT NOT NULL,
            qc TEXT NOT NULL DEFAULT '',
            import INTEGER NOT NULL REFERENCES imports (id),
            PRIMARY KEY (site, parameter, t0)) WITHOUT ROWID""",
        """CREATE TABLE calibration_profiles (
            id INTEGER PRIMARY KEY,
            node TEXT NOT NULL REFERENCES nodes (id),
            channel TEXT NOT NULL, version INTEGER NOT NULL,
            model TEXT NOT NULL, unit TEXT NOT NULL DEFAULT '',
            valid_from INTEGER NOT NULL, valid_to INTEGER,
            created INTEGER NOT NULL,
            doc TEXT NOT NULL,
            UNIQUE (node, channel, version))""",
        """CREATE TABLE corrected_values (
            record INTEGER NOT NULL REFERENCES records (id),
            channel TEXT NOT NULL,
            value REAL,
            profile INTEGER NOT NULL REFERENCES calibration_profiles (id),
            PRIMARY KEY (record, channel)) WITHOUT ROWID""",
    ]),
    (3, "effective window times: unsynced records stored pending, re-timed from the node's uptime", [
        # t0/t1 stay the node's own; eff_t0/eff_t1 are the window every reader uses (the view
        # timed_records): t0/t1 when the node's clock was set, re-timed for an unsynced one, NULL
        # while pending. Rows stored before v3 were accepted with their own times: they stay so.
        """ALTER TABLE records ADD COLUMN timing TEXT NOT NULL DEFAULT 'node'
            CHECK (timing IN ('node', 'retimed', 'pending'))""",
        """ALTER TABLE records ADD COLUMN eff_t0 INTEGER""",
        """ALTER TABLE records ADD COLUMN eff_t1 INTEGER""",
        """ALTER TABLE records ADD COLUMN retimed_by INTEGER REFERENCES records (id)""",
        """ALTER TABLE records ADD COLUMN timing_note TEXT NOT NULL DEFAULT ''""",
        """UPDATE records SET eff_t0 = t0, eff_t1 = t1""",
        """DROP INDEX records_node_t0""",
        """CREATE INDEX records_node_eff_t0 ON records (node, eff_t0)""",
        """CREATE INDEX records_untimed ON records (node, boot) WHERE timing != 'node'""",
        """CREATE VIEW timed_records AS
            SELECT id, node, boot, seq, eff_t0 AS t0, eff_t1 AS t1, t0 AS node_t0, t1 AS node_t1, clock, timing,
                   retimed_by, fw, heap_free, uptime, reset, rssi, spool, dropped, received, transport, source, raw
            FROM records WHERE eff_t0 IS NOT NULL""",
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


class _Timed:
    """Series-like results: as long as their ``t0``."""

    def __len__(self) -> int:
        return len(self.t0)


@dataclass(frozen=True)
class Series(_Timed):
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


@dataclass
class Site:
    """A place whose data were imported (not a Tynys node): a reference station or another network's sensor."""

    id: int
    provider: str
    provider_id: str
    name: str = ""
    lat: float | None = None
    lon: float | None = None
    kind: str = "reference"
    tz: str = ""
    notes: str = ""
    added: int = 0

    @property
    def ref(self) -> str:
        """How commands name it: ``provider:provider_id`` (``airnowtech:370630099``)."""
        return f"{self.provider}:{self.provider_id}"


@dataclass(frozen=True)
class Observations(_Timed):
    """One parameter of one imported site over time: ``t0``/``t1`` int64 seconds since 1970 UTC
    (the averaging period), ``value`` float64 in ``unit``, ``qc`` the source's flag ('' = none)."""

    site: Site
    parameter: str
    unit: str
    t0: np.ndarray
    t1: np.ndarray
    value: np.ndarray
    qc: np.ndarray


@dataclass(frozen=True)
class Windows(_Timed):
    """Several channels of one node aligned on its records (one row per stored window, by time):
    ``record`` ids, ``t0``/``t1`` [s], and per channel ``mean`` (NaN where absent or n = 0) and ``n``."""

    node: str
    record: np.ndarray
    t0: np.ndarray
    t1: np.ndarray
    mean: dict
    n: dict


@dataclass(frozen=True)
class Corrected(_Timed):
    """Corrected values of one node channel (``corrected_values``), by window time: ``value`` in the
    profile's ``unit`` (NaN where the profile gives none), and per value the ``profile`` id and ``version``."""

    node: str
    channel: str
    record: np.ndarray
    t0: np.ndarray
    t1: np.ndarray
    value: np.ndarray
    profile: np.ndarray
    version: np.ndarray
    unit: str


_SITE_COLS = ("id", "provider", "provider_id", "name", "lat", "lon", "kind", "tz", "notes", "added")
_FAR = 2**62


def _span(t0, t1) -> tuple[int, int]:
    return (-_FAR if t0 is None else int(t0), _FAR if t1 is None else int(t1))


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
        """Insert a verified, validated record; return its row id, or None if (node, boot, seq) exists.
        A record whose clock was not set is stored pending (no effective window) until re-timed."""
        h = body["health"]
        if body["clock"] == "unsynced":
            timing, eff, note = "pending", (None, None), f"no record of boot {body['boot']} with a set clock yet"
        else:
            timing, eff, note = "node", (body["t0"], body["t1"]), ""
        row = self.conn.execute(
            "INSERT INTO records (node, boot, seq, t0, t1, clock, fw, heap_free, uptime, reset, rssi, spool, dropped,"
            " received, transport, source, raw, timing, eff_t0, eff_t1, timing_note)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (node, boot, seq) DO NOTHING RETURNING id",
            (body["node"], body["boot"], body["seq"], body["t0"], body["t1"], body["clock"], body["fw"],
             *(h.get(k) for k in _HEALTH), received, transport, source, raw, timing, *eff, note)).fetchone()
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

    # -- re-timing unsynced records (tynys.retime holds the rule) ------------------------------

    def clock_anchors(self, node: str, boot: int, n: int) -> list[tuple]:
        """The first *n* records of one boot of a node with a set clock: ``(id, seq, t0, t1, uptime)`` by seq."""
        return self.conn.execute(
            "SELECT id, seq, t0, t1, uptime FROM records WHERE node = ? AND boot = ? AND timing = 'node'"
            " AND clock != 'unsynced' ORDER BY seq LIMIT ?", (node, boot, n)).fetchall()

    def clocked_before(self, node: str, boot: int, seq: int, n: int) -> int:
        """How many (up to *n*) records of one boot of a node before *seq* had a set clock."""
        return self.conn.execute(
            "SELECT COUNT(*) FROM (SELECT 1 FROM records WHERE node = ? AND boot = ? AND seq < ? AND timing = 'node'"
            " AND clock != 'unsynced' ORDER BY seq DESC LIMIT ?)", (node, boot, seq, n)).fetchone()[0]

    def untimed(self, node: str, boot: int) -> list[tuple]:
        """The records of one boot of a node that its clock did not time: ``(id, seq, t0, t1, uptime,
        timing, eff_t0, eff_t1, retimed_by, timing_note)`` by seq (read through the partial index)."""
        return sorted(self.conn.execute(
            "SELECT id, seq, t0, t1, uptime, timing, eff_t0, eff_t1, retimed_by, timing_note FROM records"
            " WHERE node = ? AND boot = ? AND timing != 'node'", (node, boot)), key=lambda r: r[1])

    def set_windows(self, node: str, lo: int, hi: int, longest: int) -> np.ndarray:
        """``(boot, seq, t0, t1)`` of the node's windows timed by a set clock that may overlap
        ``[lo, hi)`` (those starting in ``[lo - longest, hi)``), by start."""
        return np.array(self.conn.execute(
            "SELECT boot, seq, eff_t0, eff_t1 FROM records WHERE node = ? AND eff_t0 >= ? AND eff_t0 < ?"
            " AND timing = 'node' AND clock != 'unsynced' ORDER BY eff_t0", (node, lo - longest, hi)).fetchall(),
            dtype=np.int64).reshape(-1, 4)

    def set_timing(self, rows: Iterable[tuple]) -> None:
        """Write ``(timing, eff_t0, eff_t1, retimed_by, timing_note, id)`` rows (inside the caller's transaction)."""
        self.conn.executemany("UPDATE records SET timing = ?, eff_t0 = ?, eff_t1 = ?, retimed_by = ?, timing_note = ?"
                              " WHERE id = ?", rows)

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

    def record_import(self, sha256: str, name: str, kind: str, size: int, rows: int, detail: str = "") -> int | None:
        """Add a ledger entry inside the caller's transaction (the one that stored the file's rows)
        and return its id. Returns None when the same content was imported before: the caller must
        then roll back."""
        row = self.conn.execute(
            "INSERT INTO imports (sha256, name, kind, size, imported, rows, detail) VALUES (?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (sha256) DO NOTHING RETURNING id", (sha256, name, kind, size, int(time.time()), rows, detail)).fetchone()
        return None if row is None else row[0]

    def finish_import(self, import_id: int, rows: int, detail: str) -> None:
        """Set the row count and summary of a ledger entry (same transaction as its rows)."""
        self.conn.execute("UPDATE imports SET rows=?, detail=? WHERE id=?", (rows, detail, import_id))

    # -- imported sites and observations -----------------------------------------------------

    def sites(self) -> list[Site]:
        return [Site(*r) for r in self.conn.execute(f"SELECT {', '.join(_SITE_COLS)} FROM sites ORDER BY provider, provider_id")]

    def site(self, ref: str | int) -> Site:
        """A site by ``provider:provider_id``, its number, its provider id or its name (when unique)."""
        text = str(ref).strip()
        found = [s for s in self.sites() if text in (s.ref, str(s.id))]
        if not found:
            found = [s for s in self.sites() if text in (s.provider_id, s.name)]
        if len(found) == 1:
            return found[0]
        if not found:
            raise StoreError(f"no imported site {text!r} in {self.path}: see tynys db sites (import one with tynys import)")
        raise StoreError(f"site {text!r} is ambiguous: {', '.join(s.ref for s in found)}; name it as provider:id")

    def ensure_site(self, provider: str, provider_id: str, *, kind: str, name: str = "", lat: float | None = None,
                    lon: float | None = None, tz: str = "", notes: str = "") -> tuple[Site, bool]:
        """The site ``provider:provider_id``, created if new (inside the caller's transaction);
        returns ``(site, created)``. A known site keeps its kind; missing name/location are filled in."""
        row = self.conn.execute(f"SELECT {', '.join(_SITE_COLS)} FROM sites WHERE provider=? AND provider_id=?",
                                (provider, provider_id)).fetchone()
        if row is None:
            sid = self.conn.execute(
                "INSERT INTO sites (provider, provider_id, name, lat, lon, kind, tz, notes, added) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
                " RETURNING id", (provider, provider_id, name, lat, lon, kind, tz, notes, int(time.time()))).fetchone()[0]
            return Site(sid, provider, provider_id, name, lat, lon, kind, tz, notes), True
        site = Site(*row)
        if site.kind != kind:
            raise StoreError(f"site {site.ref} is stored as a {site.kind} site, this import says {kind}: "
                             f"import with --kind {site.kind}, or under another site id")
        if (not site.name and name) or (site.lat is None and lat is not None):
            site.name = site.name or name
            site.lat, site.lon = (lat, lon) if site.lat is None else (site.lat, site.lon)
            self.conn.execute("UPDATE sites SET name=?, lat=?, lon=? WHERE id=?", (site.name, site.lat, site.lon, site.id))
        return site, False

    def observation_unit(self, site: int, parameter: str) -> str | None:
        row = self.conn.execute("SELECT unit FROM observations WHERE site=? AND parameter=? LIMIT 1", (site, parameter)).fetchone()
        return None if row is None else row[0]

    def insert_observations(self, import_id: int, site: int, parameter: str, t0, t1, value, unit: str, qc=None) -> dict:
        """Store one parameter's values of one site (inside the caller's transaction).

        ``(site, parameter, t0)`` is stored once: values already stored (an overlapping file) are
        kept as they are. Returns counts: ``new``, ``duplicate`` (already stored), ``differing``
        (already stored with another value: the stored one was kept), ``repeated`` (the same time
        twice in this batch: the first was kept)."""
        t0 = np.asarray(t0, np.int64)
        n = len(t0)
        qc = [""] * n if qc is None else np.asarray(qc, dtype=str).tolist()
        c = self.conn
        c.execute("CREATE TEMP TABLE IF NOT EXISTS obs_stage (site INTEGER, parameter TEXT, t0 INTEGER, t1 INTEGER,"
                  " value REAL, unit TEXT, qc TEXT)")
        c.execute("DELETE FROM obs_stage")
        c.executemany("INSERT INTO obs_stage VALUES (?, ?, ?, ?, ?, ?, ?)",
                      zip([site] * n, [parameter] * n, t0.tolist(), np.asarray(t1, np.int64).tolist(),
                          np.asarray(value, np.float64).tolist(), [unit] * n, qc))
        dup, differ = c.execute(
            "SELECT COUNT(*), COALESCE(SUM(o.value != s.value), 0) FROM obs_stage s JOIN observations o"
            " ON o.site = s.site AND o.parameter = s.parameter AND o.t0 = s.t0").fetchone()
        new = c.execute("INSERT OR IGNORE INTO observations (site, parameter, t0, t1, value, unit, qc, import)"
                        " SELECT site, parameter, t0, t1, value, unit, qc, ? FROM obs_stage ORDER BY rowid",
                        (import_id,)).rowcount
        c.execute("DELETE FROM obs_stage")
        return {"new": new, "duplicate": dup, "differing": differ, "repeated": n - new - dup}

    def observations(self, site: Site | str | int, parameter: str, t0: int | None = None, t1: int | None = None,
                     *, include_flagged: bool = False) -> Observations:
        """Parameter *parameter* of an imported site for periods starting in ``[t0, t1)``, by time.
        Values the source flagged are left out unless *include_flagged*."""
        site = site if isinstance(site, Site) else self.site(site)
        params = self.site_parameters(site.id)
        if parameter not in params:
            raise StoreError(f"site {site.ref} has no {parameter!r}; it has {', '.join(params) or 'nothing'}")
        flag = "" if include_flagged else " AND qc = ''"
        rows = self.conn.execute(
            f"SELECT t0, t1, value, qc FROM observations WHERE site=? AND parameter=? AND t0 >= ? AND t0 < ?{flag} ORDER BY t0",
            (site.id, parameter, *_span(t0, t1))).fetchall()
        times = np.array([r[:2] for r in rows], dtype=np.int64).reshape(-1, 2)
        return Observations(site, parameter, params[parameter]["unit"], times[:, 0], times[:, 1],
                            np.array([r[2] for r in rows], dtype=np.float64), np.array([r[3] for r in rows], dtype=object))

    def site_parameters(self, site: int) -> dict[str, dict]:
        """Per parameter of a site: ``unit``, ``n``, ``flagged``, ``first``/``last`` period start."""
        return {p: {"unit": u, "n": n, "flagged": f, "first": a, "last": b} for p, u, n, f, a, b in self.conn.execute(
            "SELECT parameter, MIN(unit), COUNT(*), SUM(qc != ''), MIN(t0), MAX(t0) FROM observations WHERE site=?"
            " GROUP BY parameter ORDER BY parameter", (site,))}

    # -- calibration profiles and corrected values -------------------------------------------

    def add_profile(self, node: str, channel: str, doc: dict, *, model: str, unit: str, valid_from: int,
                    valid_to: int | None) -> tuple[int, int]:
        """Store a calibration profile document as the next version for ``(node, channel)``; sets
        ``doc["version"]`` and returns ``(id, version)``. Stored profiles are never changed."""
        with self.transaction() as c:
            if c.execute("SELECT 1 FROM nodes WHERE id=?", (node,)).fetchone() is None:
                raise StoreError(f"no node {node!r} in {self.path}: see tynys nodes list")
            version = c.execute("SELECT COALESCE(MAX(version), 0) + 1 FROM calibration_profiles WHERE node=? AND channel=?",
                                (node, channel)).fetchone()[0]
            doc["version"] = version
            pid = c.execute(
                "INSERT INTO calibration_profiles (node, channel, version, model, unit, valid_from, valid_to, created, doc)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                (node, channel, version, model, unit, valid_from, valid_to, int(time.time()),
                 json.dumps(doc, ensure_ascii=False))).fetchone()[0]
        return pid, version

    def profiles(self, node: str | None = None, channel: str | None = None) -> list[dict]:
        """Stored profiles (oldest version first): ``id``, ``node``, ``channel``, ``version``, ``doc``."""
        rows = self.conn.execute(
            "SELECT id, node, channel, version, doc FROM calibration_profiles WHERE (? IS NULL OR node = ?)"
            " AND (? IS NULL OR channel = ?) ORDER BY node, channel, version", (node, node, channel, channel)).fetchall()
        return [{"id": i, "node": n, "channel": ch, "version": v, "doc": json.loads(d)} for i, n, ch, v, d in rows]

    def put_corrected(self, records, channel: str, values, profiles) -> int:
        """Store corrected values (NaN as NULL) beside the raw ones, replacing earlier corrections
        of the same windows (inside the caller's transaction). Returns the rows written."""
        v = np.asarray(values, np.float64)
        vals = [x if math.isfinite(x) else None for x in v.tolist()]
        cur = self.conn.executemany(
            "INSERT INTO corrected_values (record, channel, value, profile) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (record, channel) DO UPDATE SET value = excluded.value, profile = excluded.profile",
            zip(np.asarray(records, np.int64).tolist(), [channel] * len(v), vals, np.asarray(profiles, np.int64).tolist()))
        return cur.rowcount

    def corrected(self, node: str, channel: str, t0: int | None = None, t1: int | None = None) -> Corrected:
        """Corrected values of *channel* of *node* for windows starting in ``[t0, t1)``, by time."""
        rows = self.conn.execute(
            "SELECT r.id, r.t0, r.t1, c.profile, p.version, c.value, p.unit FROM timed_records r"
            " JOIN corrected_values c ON c.record = r.id AND c.channel = ?"
            " JOIN calibration_profiles p ON p.id = c.profile"
            " WHERE r.node = ? AND r.t0 >= ? AND r.t0 < ? ORDER BY r.t0, r.boot, r.seq",
            (channel, node, *_span(t0, t1))).fetchall()
        ints = np.array([r[:5] for r in rows], dtype=np.int64).reshape(-1, 5)
        units = {r[6] for r in rows}
        return Corrected(node, channel, ints[:, 0], ints[:, 1], ints[:, 2], np.array([r[5] for r in rows], dtype=np.float64),
                         ints[:, 3], ints[:, 4], units.pop() if len(units) == 1 else "/".join(sorted(units)))

    # -- queries -----------------------------------------------------------------------------

    def series(self, node: str, channel: str, t0: int | None = None, t1: int | None = None) -> Series:
        """Channel *channel* (``slot.name``) of *node* for windows starting in ``[t0, t1)``, by time."""
        rows = self.conn.execute(
            "SELECT r.t0, r.t1, v.n, v.mean, v.sd, v.min, v.max FROM timed_records r"
            " JOIN channel_values v ON v.record = r.id AND v.channel = ?"
            " WHERE r.node = ? AND r.t0 >= ? AND r.t0 < ? ORDER BY r.t0, r.boot, r.seq",
            (channel, node, -(2**62) if t0 is None else t0, 2**62 if t1 is None else t1)).fetchall()
        times = np.array([r[:3] for r in rows], dtype=np.int64).reshape(-1, 3)
        stats = np.array([r[3:] for r in rows], dtype=np.float64).reshape(-1, 4)  # None -> NaN
        return Series(node, channel, times[:, 0], times[:, 1], times[:, 2], stats[:, 0], stats[:, 1], stats[:, 2], stats[:, 3])

    def windows(self, node: str, channels: Iterable[str], t0: int | None = None, t1: int | None = None) -> Windows:
        """Channels *channels* of *node* aligned on its records (windows starting in ``[t0, t1)``)."""
        span = _span(t0, t1)
        head = np.array(self.conn.execute(
            "SELECT id, t0, t1 FROM timed_records WHERE node = ? AND t0 >= ? AND t0 < ? ORDER BY t0, boot, seq",
            (node, *span)).fetchall(), dtype=np.int64).reshape(-1, 3)
        ids = head[:, 0]
        order = np.argsort(ids)
        mean, count = {}, {}
        for ch in channels:
            rows = self.conn.execute(
                "SELECT v.record, v.n, v.mean FROM channel_values v JOIN timed_records r ON r.id = v.record"
                " WHERE r.node = ? AND v.channel = ? AND r.t0 >= ? AND r.t0 < ?", (node, ch, *span)).fetchall()
            rec = np.array([r[0] for r in rows], dtype=np.int64)
            at = order[np.searchsorted(ids, rec, sorter=order)] if len(rec) else rec
            m, k = np.full(len(ids), np.nan), np.zeros(len(ids), np.int64)
            m[at] = np.array([r[2] for r in rows], dtype=np.float64)
            k[at] = [r[1] for r in rows]
            mean[ch], count[ch] = m, k
        return Windows(node, ids, head[:, 1], head[:, 2], mean, count)

    def channel_names(self, node: str | None = None) -> list[str]:
        """Channels a node (or any node) has ever reported (scans its values: not for hot paths)."""
        if node is None:
            q, args = "SELECT DISTINCT channel FROM channel_values", ()
        else:
            q = ("SELECT DISTINCT v.channel FROM channel_values v JOIN records r ON r.id = v.record WHERE r.node = ?")
            args = (node,)
        return sorted(r[0] for r in self.conn.execute(q, args))

    def sensor_counts(self, t0: int | None = None, t1: int | None = None) -> list[dict]:
        """Per node and sensor slot, the sensors' own counters summed over windows starting in
        ``[t0, t1)``: records, frames, bad, warmup, missing (docs/record.md)."""
        rows = self.conn.execute(
            "SELECT r.node, s.slot, s.type, COUNT(*), SUM(s.frames), SUM(s.bad), SUM(s.warmup), SUM(s.missing)"
            " FROM timed_records r JOIN record_sensors s ON s.record = r.id"
            " WHERE r.t0 >= ? AND r.t0 < ? GROUP BY r.node, s.slot, s.type ORDER BY r.node, s.slot",
            _span(t0, t1)).fetchall()
        keys = ("node", "slot", "type", "records", "frames", "bad", "warmup", "missing")
        return [dict(zip(keys, r)) for r in rows]

    def latest(self, nodes: Iterable[str] | None = None) -> list[dict]:
        """Per node, its newest record (by window start): times, identity, health and channel means."""
        ids = list(nodes) if nodes is not None else [n.id for n in self.nodes()]
        out = []
        for nid in ids:
            cur = self.conn.execute(
                f"SELECT id, node, boot, seq, t0, t1, clock, fw, {', '.join(_HEALTH)}, received, transport, source"
                " FROM timed_records WHERE node = ? ORDER BY t0 DESC, boot DESC, seq DESC LIMIT 1", (nid,))
            row = cur.fetchone()
            if row is None:
                continue
            rec = dict(zip([d[0] for d in cur.description], row))
            rid = rec.pop("id")
            rec["values"] = dict(self.conn.execute("SELECT channel, mean FROM channel_values WHERE record=? ORDER BY channel", (rid,)).fetchall())
            out.append(rec)
        return out

    def raw_lines(self, node: str, t0: int | None = None, t1: int | None = None) -> list[str]:
        """The lines as received (signature intact) for re-verification or export, by effective
        window (pending records have none yet and are left out)."""
        return [r[0] for r in self.conn.execute(
            "SELECT raw FROM timed_records WHERE node=? AND t0 >= ? AND t0 < ? ORDER BY t0, boot, seq",
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
        first, last = c.execute("SELECT MIN(t0), MAX(t1) FROM timed_records").fetchone()
        timing = dict(c.execute("SELECT timing, COUNT(*) FROM records WHERE timing != 'node' GROUP BY timing").fetchall())
        return {
            "nodes": one("SELECT COUNT(*) FROM nodes"),
            "active_nodes": one("SELECT COUNT(*) FROM nodes WHERE retired IS NULL"),
            "records": one("SELECT COUNT(*) FROM records"),
            "channel_values": one("SELECT COUNT(*) FROM channel_values"),
            "retimed": timing.get("retimed", 0),
            "pending": timing.get("pending", 0),
            "rejected": one("SELECT COUNT(*) FROM rejects"),
            "rejected_by_reason": dict(c.execute("SELECT reason, COUNT(*) FROM rejects GROUP BY reason ORDER BY reason").fetchall()),
            "imports": one("SELECT COUNT(*) FROM imports"),
            "sites": one("SELECT COUNT(*) FROM sites"),
            "observations": one("SELECT COUNT(*) FROM observations"),
            "profiles": one("SELECT COUNT(*) FROM calibration_profiles"),
            "corrected_values": one("SELECT COUNT(*) FROM corrected_values"),
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
