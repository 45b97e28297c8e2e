"""The queries re-timing needs (``tynys.retime`` holds the rule): a boot's records with a set
clock, its records still untimed, the node's set-clock windows near a span, and the update."""

from __future__ import annotations

from typing import Iterable

import numpy as np

from . import counters


def clock_anchors(db, node: str, boot: int, n: int) -> list[tuple]:
    """The first *n* records of one boot of a node with a set clock: ``(id, seq, t0, t1, uptime)`` by seq."""
    return db.execute(
        "SELECT id, seq, t0, t1, uptime FROM records WHERE node = ? AND boot = ? AND timing = 'node'"
        " AND clock != 'unsynced' ORDER BY seq LIMIT ?", (node, boot, n)).fetchall()


def clocked_before(db, node: str, boot: int, seq: int, n: int) -> int:
    """How many (up to *n*) records of one boot of a node before *seq* had a set clock."""
    return db.execute(
        "SELECT COUNT(*) FROM (SELECT 1 FROM records WHERE node = ? AND boot = ? AND seq < ? AND timing = 'node'"
        " AND clock != 'unsynced' ORDER BY seq DESC LIMIT ?) AS a", (node, boot, seq, n)).fetchone()[0]


def untimed(db, node: str, boot: int) -> list[tuple]:
    """The records of one boot of a node that its clock did not time: ``(id, seq, t0, t1, uptime,
    timing, eff_t0, eff_t1, retimed_by, timing_note, clock)`` by seq (read through the partial index)."""
    return sorted(db.execute(
        "SELECT id, seq, t0, t1, uptime, timing, eff_t0, eff_t1, retimed_by, timing_note, clock FROM records"
        " WHERE node = ? AND boot = ? AND timing != 'node'", (node, boot)), key=lambda r: r[1])


def set_windows(db, node: str, lo: int, hi: int, longest: int) -> np.ndarray:
    """``(boot, seq, t0, t1)`` of the node's windows timed by a set clock that may overlap
    ``[lo, hi)`` (those starting in ``[lo - longest, hi)``), by start."""
    return np.array(db.execute(
        "SELECT boot, seq, eff_t0, eff_t1 FROM records WHERE node = ? AND eff_t0 >= ? AND eff_t0 < ?"
        " AND timing = 'node' AND clock != 'unsynced' ORDER BY eff_t0", (node, lo - longest, hi)).fetchall(),
        dtype=np.int64).reshape(-1, 4)


def set_timing(db, rows: Iterable[tuple]) -> None:
    """Write ``(timing, eff_t0, eff_t1, retimed_by, timing_note, id)`` rows (inside the caller's transaction)."""
    rows = sorted(rows, key=lambda r: r[5])  # by id: two collectors re-timing one boot lock its rows in one order
    ids = [r[5] for r in rows]
    # the sensors' hourly sums follow each window, out of the hour it leaves and into the one it
    # enters: where it is, read with its row held, so that two collectors do not both move it
    db.lock_rows("records", ids)
    moves = []
    for (_, t0, *_), sensors in zip(rows, counters.of_records(db, ids)):
        for node, was, slot, kind, *n in sensors:
            moves += [(node, t, slot, kind, *n, sign) for t, sign in ((was, -1), (t0, 1)) if t is not None]
    counters.add(db, moves)
    db.executemany("UPDATE records SET timing = ?, eff_t0 = ?, eff_t1 = ?, retimed_by = ?, timing_note = ?"
                   " WHERE id = ?", rows)
