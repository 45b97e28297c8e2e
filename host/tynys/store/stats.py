"""Counts for ``tynys db stats``: exact (counting is O(rows)), never failing on what is stored."""

from __future__ import annotations

from ..timeutil import iso
from . import schema


def stats(db) -> dict:
    """Nodes, records (re-timed and pending), refusals by reason, imports, profiles, time span, size."""
    one = lambda q: db.execute(q).fetchone()[0]  # noqa: E731
    first, last = db.execute("SELECT MIN(t0), MAX(t1) FROM timed_records").fetchone()
    timing = dict(db.execute("SELECT timing, COUNT(*) FROM records WHERE timing != 'node' GROUP BY timing").fetchall())
    clock_off = one("SELECT COUNT(*) FROM records WHERE timing = 'pending' AND clock != 'unsynced'")
    by_reason = dict(db.execute("SELECT reason, SUM(n) FROM reject_counts GROUP BY reason ORDER BY reason").fetchall())
    return {
        "nodes": one("SELECT COUNT(*) FROM nodes"),
        "active_nodes": one("SELECT COUNT(*) FROM nodes WHERE retired IS NULL"),
        "records": one("SELECT COUNT(*) FROM records"),
        "channel_values": one("SELECT COUNT(*) FROM channel_values"),
        "retimed": timing.get("retimed", 0),
        "pending": timing.get("pending", 0),
        "pending_clock": clock_off,
        "rejected": sum(by_reason.values()),
        "rejected_by_reason": by_reason,
        "rejects_kept": one("SELECT COUNT(*) FROM rejects"),
        "imports": one("SELECT COUNT(*) FROM imports"),
        "sites": one("SELECT COUNT(*) FROM sites"),
        "observations": one("SELECT COUNT(*) FROM observations"),
        "profiles": one("SELECT COUNT(*) FROM calibration_profiles"),
        "corrected_values": one("SELECT COUNT(*) FROM corrected_values"),
        "first": iso(first),
        "last": iso(last),
        "schema_version": schema.version(db),
        "path": str(db.path),
        "bytes": db.size(),
    }
