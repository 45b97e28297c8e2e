"""Calibration profiles (versioned documents per node channel, never changed) and the corrected
values they produced, stored beside the raw ones."""

from __future__ import annotations

import json
import math
import time

import numpy as np

from .model import Corrected, StoreError, span


def add_profile(db, node: str, channel: str, doc: dict, *, model: str, unit: str, valid_from: int,
                valid_to: int | None) -> tuple[int, int]:
    """Store a calibration profile document as the next version for ``(node, channel)``; sets
    ``doc["version"]`` and returns ``(id, version)``. Stored profiles are never changed."""
    with db.transaction():
        db.lock("profiles")  # two fits at once must not take the same version
        if db.execute("SELECT 1 FROM nodes WHERE id=?", (node,)).fetchone() is None:
            raise StoreError(f"no node {node!r} in {db.path}: see tynys nodes list")
        version = db.execute("SELECT COALESCE(MAX(version), 0) + 1 FROM calibration_profiles WHERE node=? AND channel=?",
                             (node, channel)).fetchone()[0]
        doc["version"] = version
        pid = db.execute(
            "INSERT INTO calibration_profiles (node, channel, version, model, unit, valid_from, valid_to, created, doc)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            (node, channel, version, model, unit, valid_from, valid_to, int(time.time()),
             json.dumps(doc, ensure_ascii=False))).fetchone()[0]
    return pid, version


def profiles(db, node: str | None = None, channel: str | None = None) -> list[dict]:
    """Stored profiles (oldest version first): ``id``, ``node``, ``channel``, ``version``, ``doc``."""
    where, args = [], []
    if node is not None:
        where.append("node = ?")
        args.append(node)
    if channel is not None:
        where.append("channel = ?")
        args.append(channel)
    rows = db.execute(
        f"SELECT id, node, channel, version, doc FROM calibration_profiles {'WHERE ' + ' AND '.join(where) if where else ''}"
        " ORDER BY node, channel, version", args).fetchall()
    return [{"id": i, "node": n, "channel": ch, "version": v, "doc": json.loads(d)} for i, n, ch, v, d in rows]


def put_corrected(db, records, channel: str, values, profiles) -> int:
    """Store corrected values (NaN as NULL) beside the raw ones, replacing earlier corrections
    of the same windows (inside the caller's transaction). Returns the rows written."""
    v = np.asarray(values, np.float64)
    vals = [x if math.isfinite(x) else None for x in v.tolist()]
    cur = db.executemany(
        "INSERT INTO corrected_values (record, channel, value, profile) VALUES (?, ?, ?, ?)"
        " ON CONFLICT (record, channel) DO UPDATE SET value = excluded.value, profile = excluded.profile",
        zip(np.asarray(records, np.int64).tolist(), [channel] * len(v), vals, np.asarray(profiles, np.int64).tolist()))
    return cur.rowcount


def corrected(db, node: str, channel: str, t0: int | None = None, t1: int | None = None) -> Corrected:
    """Corrected values of *channel* of *node* for windows starting in ``[t0, t1)``, by time."""
    rows = db.execute(
        "SELECT r.id, r.t0, r.t1, c.profile, p.version, c.value, p.unit FROM timed_records r"
        " JOIN corrected_values c ON c.record = r.id AND c.channel = ?"
        " JOIN calibration_profiles p ON p.id = c.profile"
        " WHERE r.node = ? AND r.t0 >= ? AND r.t0 < ? ORDER BY r.t0, r.boot, r.seq",
        (channel, node, *span(t0, t1))).fetchall()
    ints = np.array([r[:5] for r in rows], dtype=np.int64).reshape(-1, 5)
    units = {r[6] for r in rows}
    return Corrected(node, channel, ints[:, 0], ints[:, 1], ints[:, 2], np.array([r[5] for r in rows], dtype=np.float64),
                     ints[:, 3], ints[:, 4], units.pop() if len(units) == 1 else "/".join(sorted(units)))
