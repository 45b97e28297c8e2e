"""Reading the nodes' records by window time (through the view ``timed_records``, which leaves
pending records out): one channel as a series, several aligned on records, the newest record per
node, the sensors' counters over a period, the raw lines."""

from __future__ import annotations

from itertools import chain
from typing import Iterable

import numpy as np

from . import counters
from .counters import HOUR
from .model import NodeRows, Series, Windows, keyed, span
from .nodes import nodes as _nodes
from .records import HEALTH


def series(db, node: str, channel: str, t0: int | None = None, t1: int | None = None) -> Series:
    """Channel *channel* (``slot.name``) of *node* for windows starting in ``[t0, t1)``, by time."""
    rows = db.execute(
        "SELECT r.t0, r.t1, v.n, v.mean, v.sd, v.min, v.max FROM timed_records r"
        " JOIN channel_values v ON v.record = r.id AND v.channel = ?"
        " WHERE r.node = ? AND r.t0 >= ? AND r.t0 < ? ORDER BY r.t0, r.boot, r.seq",
        (channel, node, *span(t0, t1))).fetchall()
    times = np.array([r[:3] for r in rows], dtype=np.int64).reshape(-1, 3)
    stats = np.array([r[3:] for r in rows], dtype=np.float64).reshape(-1, 4)  # None -> NaN
    return Series(node, channel, times[:, 0], times[:, 1], times[:, 2], stats[:, 0], stats[:, 1], stats[:, 2], stats[:, 3])


def series_many(db, nodes: list[str], channel: str, t0: int | None = None, t1: int | None = None) -> NodeRows:
    """Channel *channel* of each of *nodes* for windows starting in ``[t0, t1)``, in one read:
    rows by node (``i``, the index in *nodes*), then as :func:`series` orders them."""
    rows = []
    for head, args in keyed(list(nodes)):
        rows += db.execute(
            head + "SELECT k.i, r.t0, r.t1, v.mean FROM k JOIN timed_records r ON r.node = k.node AND r.t0 >= ? AND r.t0 < ?"
            " JOIN channel_values v ON v.record = r.id AND v.channel = ? ORDER BY k.i, r.t0, r.boot, r.seq",
            (*args, *span(t0, t1), channel)).fetchall()
    return NodeRows.of(rows, 4)


def channels_many(db, nodes: list[str], raw: Iterable[str] = (), corrected: Iterable[str] = (), t0: int | None = None,
                  t1: int | None = None, *, late: Iterable[str] = (), late_from: int | None = None
                  ) -> dict[tuple[str, str], NodeRows]:
    """Several channels of each of *nodes* in one pass, keyed ``("raw", channel)`` (the rows
    :func:`series_many` gives) and ``("corrected", channel)`` (the values of
    :func:`tynys.store.profiles.corrected`, with the profile's version, by node as here). One pass
    over the windows instead of one per channel: the windows' times are fetched once. *late*: raw
    channels needed only for windows starting from *late_from* (one also in *raw* comes whole)."""
    raw, corrected = list(raw), list(corrected)
    late = [c for c in dict.fromkeys(late) if c not in raw]
    specs = [("raw", c) for c in raw] + [("corrected", c) for c in corrected] + [("raw", c) for c in late]
    lo, hi = span(t0, t1)
    split = lo if late_from is None or not late else min(max(int(late_from), lo), hi)
    # Every column is a number, never NULL, so that all rows go into numpy in one np.fromiter:
    # the rows crossing into Python are most of the time. A raw channel the window lacks comes
    # as +inf; a raw window without a value (mean NULL: it still counts as a window, its length)
    # as -inf; a corrected value the window lacks has version 0, a NULL corrected value is -inf.
    # None of these is stored: records refuse infinities, corrected values are stored finite or
    # NULL, profile versions start at 1.
    cols, joins, fill = [], [], []
    for j, (kind, name) in enumerate(specs):
        if kind == "raw":
            cols.append([f"COALESCE(v{j}.mean, CASE WHEN v{j}.record IS NULL THEN ? ELSE ? END)"])
            joins.append(f" LEFT JOIN channel_values v{j} ON v{j}.record = r.id AND v{j}.channel = ?")
            fill.append([np.inf, -np.inf])
        else:
            cols.append([f"COALESCE(p{j}.version, 0)", f"COALESCE(c{j}.value, ?)"])
            joins.append(f" LEFT JOIN corrected_values c{j} ON c{j}.record = r.id AND c{j}.channel = ?"
                         f" LEFT JOIN calibration_profiles p{j} ON p{j}.id = c{j}.profile")
            fill.append([-np.inf])

    def statement(k: int) -> tuple[str, list, int]:
        """The query of the first *k* channels, its arguments but the node and times, its width."""
        picked = ["r.t0", "r.t1", *(c for cs in cols[:k] for c in cs)]
        return (f"SELECT {', '.join(picked)} FROM timed_records r{''.join(joins[:k])}"
                " WHERE r.node = ? AND r.t0 >= ? AND r.t0 < ? ORDER BY r.t0, r.boot, r.seq",
                [x for f in fill[:k] for x in f] + [name for _, name in specs[:k]], len(picked))

    (before, head_before, narrow), (whole, head, width) = statement(len(specs) - len(late)), statement(len(specs))
    # the windows before *late_from* come without the late channels: the open data's PM10 is read
    # for the reported hours only (0.12 s less for 1,000 nodes x 48 h)
    parts = ((before, head_before, narrow, lo, split, []), (whole, head, width, split, hi, []))
    counts = []
    # node by node: a node's windows come in the order of the index of windows, so the engine
    # sorts nothing (one query over all nodes sorted them all: 0.3 s of 1.6 for 1,000 nodes x 48 h);
    # and each node's rows become numbers at once, so their objects are freed while small and hot
    # in the cache (all rows alive at once: 0.13 s more, and 150 MB)
    for node in nodes:
        for sql, args, w, t_lo, t_hi, into in parts:
            rows = db.execute(sql, (*args, node, t_lo, t_hi)).fetchall() if t_lo < t_hi else []
            into.append(np.fromiter(chain.from_iterable(rows), np.float64, count=w * len(rows)))
            counts.append(len(rows))
    early, rest = (np.concatenate([np.empty(0), *p[5]]).reshape(-1, p[2]) for p in parts)
    if len(early):  # each node's windows before *late_from*, then its others
        a = np.full((len(early) + len(rest), width), np.inf)
        first = np.repeat(np.tile([True, False], len(nodes)), counts)
        a[first, :narrow], a[~first] = early, rest
    else:
        a = rest
    i = np.repeat(np.arange(len(nodes)), np.array(counts, np.int64).reshape(-1, 2).sum(axis=1))
    w0, w1 = a[:, 0].astype(np.int64), a[:, 1].astype(np.int64)  # times and versions are exact in a double
    out, at = {}, 2
    for (kind, name), c in zip(specs, cols):
        if kind == "raw":
            v = a[:, at]
            have = v != np.inf
            out[kind, name] = NodeRows(i[have], w0[have], w1[have], np.where(v[have] == -np.inf, np.nan, v[have]),
                                       np.zeros(int(have.sum()), np.int64))
        else:
            version, value = a[:, at].astype(np.int64), a[:, at + 1]
            have = version != 0
            out[kind, name] = NodeRows(i[have], w0[have], w1[have], np.where(value[have] == -np.inf, np.nan, value[have]),
                                       version[have])
        at += len(c)
    return out


def windows(db, node: str, channels: Iterable[str], t0: int | None = None, t1: int | None = None) -> Windows:
    """Channels *channels* of *node* aligned on its records (windows starting in ``[t0, t1)``)."""
    sp = span(t0, t1)
    head = np.array(db.execute(
        "SELECT id, t0, t1 FROM timed_records WHERE node = ? AND t0 >= ? AND t0 < ? ORDER BY t0, boot, seq",
        (node, *sp)).fetchall(), dtype=np.int64).reshape(-1, 3)
    ids = head[:, 0]
    order = np.argsort(ids)
    mean, count = {}, {}
    for ch in channels:
        rows = db.execute(
            "SELECT v.record, v.n, v.mean FROM channel_values v JOIN timed_records r ON r.id = v.record"
            " WHERE r.node = ? AND v.channel = ? AND r.t0 >= ? AND r.t0 < ?", (node, ch, *sp)).fetchall()
        rec = np.array([r[0] for r in rows], dtype=np.int64)
        at = order[np.searchsorted(ids, rec, sorter=order)] if len(rec) else rec
        m, k = np.full(len(ids), np.nan), np.zeros(len(ids), np.int64)
        m[at] = np.array([r[2] for r in rows], dtype=np.float64)
        k[at] = [r[1] for r in rows]
        mean[ch], count[ch] = m, k
    return Windows(node, ids, head[:, 1], head[:, 2], mean, count)


def channel_names(db, node: str | None = None, t0: int | None = None, t1: int | None = None) -> list[str]:
    """Channels a node (or any node) has reported, ever (scans its values: not for hot paths) or,
    given a span, in its windows starting in ``[t0, t1)`` (a node's day: through the index of windows)."""
    if node is None:
        q, args = "SELECT DISTINCT channel FROM channel_values", ()
    elif t0 is None and t1 is None:
        q, args = "SELECT DISTINCT v.channel FROM channel_values v JOIN records r ON r.id = v.record WHERE r.node = ?", (node,)
    else:
        q, args = ("SELECT DISTINCT v.channel FROM timed_records r JOIN channel_values v ON v.record = r.id"
                   " WHERE r.node = ? AND r.t0 >= ? AND r.t0 < ?", (node, *span(t0, t1)))
    return sorted(r[0] for r in db.execute(q, args))


def latest(db, nodes: Iterable[str] | None = None) -> list[dict]:
    """Per node, its newest record (by window start): times, identity, health and channel means."""
    ids = list(nodes) if nodes is not None else [n.id for n in _nodes(db)]
    out = []
    for head, args in keyed(ids):
        cur = db.execute(
            head + f"SELECT r.id, r.node, r.boot, r.seq, r.t0, r.t1, r.clock, r.fw, {', '.join('r.' + h for h in HEALTH)},"
            " r.received, r.transport, r.source FROM k JOIN timed_records r ON r.id = (SELECT id FROM timed_records"
            " WHERE node = k.node ORDER BY t0 DESC, boot DESC, seq DESC LIMIT 1) ORDER BY k.i", args)
        keys = [d[0] for d in cur.description]
        out += [dict(zip(keys, row)) for row in cur.fetchall()]
    values: dict[int, dict] = {rec["id"]: {} for rec in out}
    ids = list(values)
    for at in range(0, len(ids), 4000):
        part = ids[at:at + 4000]
        for rid, ch, mean in db.execute("SELECT record, channel, mean FROM channel_values"
                                        f" WHERE record IN ({', '.join('?' * len(part))}) ORDER BY record, channel", part):
            values[rid][ch] = mean
    for rec in out:
        rec["values"] = values[rec.pop("id")]
    return out


def sensor_counts(db, t0: int | None = None, t1: int | None = None) -> list[dict]:
    """Per node and sensor slot, the sensors' own counters summed over windows starting in
    ``[t0, t1)``: records, frames, bad, warmup, missing (docs/record.md)."""
    keys = ("node", "slot", "type", "records", "frames", "bad", "warmup", "missing")
    lo, hi = span(t0, t1)
    if all(t is None or int(t) % HOUR == 0 for t in (t0, t1)):  # whole hours (a publish's day): sums kept at ingest
        return [dict(zip(keys, r)) for r in counters.summed(db, lo, hi)]
    return [dict(zip(keys, r)) for r in db.execute(  # a span off the hour: from the windows themselves
        "SELECT r.node, s.slot, s.type, COUNT(*), SUM(s.frames), SUM(s.bad), SUM(s.warmup), SUM(s.missing)"
        " FROM timed_records r JOIN record_sensors s ON s.record = r.id WHERE r.t0 >= ? AND r.t0 < ?"
        " GROUP BY r.node, s.slot, s.type ORDER BY r.node, s.slot, s.type", (lo, hi))]


def raw_lines(db, node: str, t0: int | None = None, t1: int | None = None) -> list[str]:
    """The lines as received (signature intact) for re-verification or export, by effective
    window (pending records have none yet and are left out)."""
    return [r[0] for r in db.execute(
        "SELECT raw FROM timed_records WHERE node=? AND t0 >= ? AND t0 < ? ORDER BY t0, boot, seq", (node, *span(t0, t1)))]


def last_arrival(db) -> int:
    """The row id of the newest record stored (0 when none): where :func:`arrived_after` starts."""
    return db.execute("SELECT COALESCE(MAX(id), 0) FROM records").fetchone()[0]


def arrived_after(db, after: int, nodes: Iterable[str]) -> list[dict]:
    """Records of *nodes* stored after row id *after*, in the order they arrived (pending ones
    included): ``id``, identity, times, clock, transport, received and the ``raw`` line."""
    names = list(nodes)
    cur = db.execute("SELECT id, node, boot, seq, t0, t1, clock, transport, received, raw FROM records"
                     f" WHERE id > ? AND node IN ({','.join('?' * len(names))}) ORDER BY id", (after, *names))
    keys = [d[0] for d in cur.description]
    return [dict(zip(keys, r)) for r in cur.fetchall()]


def node_totals(db, node: str) -> dict:
    """*node*'s record count and lowest free heap (all records), and its first and last window
    by the times the host uses (pending records have none)."""
    n, heap = db.execute("SELECT COUNT(*), MIN(heap_free) FROM records WHERE node = ?", (node,)).fetchone()
    t0, t1 = db.execute("SELECT MIN(t0), MAX(t1) FROM timed_records WHERE node = ?", (node,)).fetchone()
    return {"records": n, "heap_free_min": heap, "first": t0, "last": t1}
