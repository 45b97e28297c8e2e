"""The sensors' own counters (docs/record.md) summed per node, hour, slot and type in the table
``sensor_hours``: what a publish reads every hour for each node's data quality, from a few rows
per node instead of every window. Every path that stores a record or moves its window (insert,
bulk insert, re-timing) calls :func:`add` in its transaction, so the sums stay exact.
"""

from __future__ import annotations

from typing import Iterable

HOUR = 3600
# every stored window's counters by hour (schema migration 6 fills the table so, and recount)
RECOUNT = ("INSERT INTO sensor_hours SELECT r.eff_t0 - r.eff_t0 % 3600, r.node, s.slot, s.type, COUNT(*), SUM(s.frames),"
           " SUM(s.bad), SUM(s.warmup), SUM(s.missing) FROM records r JOIN record_sensors s ON s.record = r.id"
           " WHERE r.eff_t0 IS NOT NULL GROUP BY r.eff_t0 - r.eff_t0 % 3600, r.node, s.slot, s.type")
_UPSERT = ("INSERT INTO sensor_hours (hour, node, slot, type, records, frames, bad, warmup, missing)"
           " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (hour, node, slot, type) DO UPDATE SET"
           + ",".join(f" {c} = sensor_hours.{c} + excluded.{c}" for c in ("records", "frames", "bad", "warmup", "missing")))


def add(db, rows: Iterable[tuple]) -> None:
    """Count windows in: *rows* ``(node, t0, slot, type, frames, bad, warmup, missing, sign)``,
    one per sensor of a window, *sign* -1 to take one out (a window moved away from *t0*). Written
    as the transaction commits (:mod:`tynys.store.deferred`); a savepoint rolled back takes its rows back."""
    db.deferred.add(_write, rows)


def _write(db, rows: list[tuple]) -> None:
    sums: dict[tuple, list[int]] = {}
    for node, t0, slot, kind, frames, bad, warmup, missing, sign in rows:
        s = sums.setdefault((t0 - t0 % HOUR, node, slot, kind), [0, 0, 0, 0, 0])
        s[0] += sign
        s[1] += sign * frames
        s[2] += sign * bad
        s[3] += sign * warmup
        s[4] += sign * missing
    # in key order, the transaction's last writes: two writers lock these rows in one order (tynys.store.deferred)
    db.executemany(_UPSERT, [(*k, *v) for k, v in sorted(sums.items()) if any(v)])


def of_records(db, ids: list[int]) -> list[list[tuple]]:
    """Per record of *ids* (in that order), its sensors as ``(node, eff_t0, slot, type, frames,
    bad, warmup, missing)``: where its window counts now."""
    out: dict[int, list[tuple]] = {i: [] for i in ids}
    for at in range(0, len(ids), 500):
        part = ids[at:at + 500]
        for rid, *rest in db.execute(
                "SELECT r.id, r.node, r.eff_t0, s.slot, s.type, s.frames, s.bad, s.warmup, s.missing FROM records r"
                f" JOIN record_sensors s ON s.record = r.id WHERE r.id IN ({', '.join('?' * len(part))})", part):
            out[rid].append(tuple(rest))
    return [out[i] for i in ids]


def recount(db) -> int:
    """Sum the table again from every stored window, in one transaction; returns its rows. For a
    database an older tynys (before schema v6) kept writing into after a newer one upgraded it:
    writers meanwhile wait, and add what they store after the count."""
    with db.transaction():
        db.lock_table("sensor_hours")
        db.execute("DELETE FROM sensor_hours")
        db.execute(RECOUNT)
        return db.execute("SELECT COUNT(*) FROM sensor_hours").fetchone()[0]


def summed(db, t0: int, t1: int) -> list[tuple]:
    """``(node, slot, type, records, frames, bad, warmup, missing)`` over the whole hours ``[t0, t1)``,
    by node, slot and type (*t0*, *t1* on the hour)."""
    return db.execute(
        "SELECT node, slot, type, SUM(records), SUM(frames), SUM(bad), SUM(warmup), SUM(missing) FROM sensor_hours"
        " WHERE hour >= ? AND hour < ? GROUP BY node, slot, type HAVING SUM(records) > 0 ORDER BY node, slot, type",
        (t0, t1)).fetchall()
