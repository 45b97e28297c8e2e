"""The schema and its migrations: versioned in ``schema_migrations``; opening a database applies
what it lacks, each migration in its own transaction. docs/host.md section 7 describes the tables.

Migrations are written in SQLite's DDL, which the dialect layer passes to its engine
(:meth:`tynys.store.sqlite.SQLite.ddl`); times are integer seconds since 1970 UTC everywhere.
"""

from __future__ import annotations

import time

from . import counters
from .model import StoreError

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
    (4, "exact refusal counts per transport, source and reason; rejects keeps a bounded sample", [
        # A flood of junk is counted here exactly and sampled in rejects (tynys.store.rejects).
        """CREATE TABLE reject_counts (
            transport TEXT NOT NULL, source TEXT NOT NULL, reason TEXT NOT NULL,
            n INTEGER NOT NULL, bytes INTEGER NOT NULL, first INTEGER NOT NULL, last INTEGER NOT NULL,
            kept INTEGER NOT NULL,
            PRIMARY KEY (transport, source, reason))""",
        """INSERT INTO reject_counts (transport, source, reason, n, bytes, first, last, kept)
            SELECT transport, source, reason, COUNT(*), SUM(raw_len), MIN(received), MAX(received), COUNT(*)
            FROM rejects GROUP BY transport, source, reason""",
        # pending records by why (unsynced clock, or a set clock off the host's): tynys db stats
        """CREATE INDEX records_pending ON records (clock) WHERE timing = 'pending'""",
    ]),
    (5, "records by node and window, covering what the readers of windows need", [
        # Replaces (node, eff_t0): the same searches, and a read of windows (tynys publish, aqi,
        # the pipeline) finds their time, order and id in the index without the rows, which hold
        # the signed lines. One index for one: inserts cost the same.
        """CREATE INDEX records_node_window ON records (node, eff_t0, boot, seq, eff_t1)""",
        """DROP INDEX records_node_eff_t0""",
    ]),
    (6, "the sensors' counters summed per hour, node and slot (what a publish reads for data quality)", [
        # kept by every path that stores or re-times a record (tynys.store.counters); keyed by
        # hour first: a publish reads the last day's rows of all nodes, however long the history
        """CREATE TABLE sensor_hours (
            hour INTEGER NOT NULL, node TEXT NOT NULL REFERENCES nodes (id),
            slot TEXT NOT NULL, type TEXT NOT NULL,
            records INTEGER NOT NULL, frames INTEGER NOT NULL, bad INTEGER NOT NULL, warmup INTEGER NOT NULL,
            missing INTEGER NOT NULL,
            PRIMARY KEY (hour, node, slot, type)) WITHOUT ROWID""",
        counters.RECOUNT,
    ]),
]


def version(db) -> int:
    """The schema version of the database (0: empty)."""
    if not db.has_table("schema_migrations"):
        return 0
    return db.execute("SELECT COALESCE(MAX(version), 0) FROM schema_migrations").fetchone()[0]


def latest() -> int:
    return MIGRATIONS[-1][0]


def migrate(db) -> list[int]:
    """Apply the migrations this database lacks, each in its own transaction; return their versions."""
    current = version(db)
    if current > latest():
        raise StoreError(f"{db.path} has schema version {current}, newer than this tynys knows ({latest()}): upgrade tynys")
    applied = []
    for number, description, statements in MIGRATIONS:
        if number <= current:
            continue
        with db.transaction():
            db.lock("schema")
            if version(db) >= number:  # another process got there first
                continue
            if number == 1:
                db.execute(db.ddl("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, "
                                  "applied INTEGER NOT NULL, description TEXT NOT NULL)"))
            for sql in statements:
                db.execute(db.ddl(sql))
            db.execute("INSERT INTO schema_migrations VALUES (?, ?, ?)", (number, int(time.time()), description))
        applied.append(number)
    return applied
