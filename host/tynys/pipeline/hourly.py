"""Node windows (raw and corrected) -> hourly and 20-minute means per node, on one hourly axis.

- An hour counts when its valid windows cover at least 75 % of it (9 of 12 five-minute windows;
  :func:`tynys.aqi.averaging.window_means`). Windows are weighted by time (each counts for its
  length), not by their number of sensor frames: a window with fewer frames still stands for the
  same five minutes of air; frames decide only whether a window has a value at all (n > 0). A
  window sent twice (two boots) counts once.
- Kazakhstan's single concentrations are 20-minute means made the same way (3 of 4 windows).
- Corrected values (``tynys calibrate apply``) are averaged the same way; which channel stands for
  a pollutant is :mod:`tynys.pipeline.channels`' rule.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable

import numpy as np

from ..calibrate.stored import pollutant_of, profiles
from ..store import Node, NodeRows, Store, StoreError
from ..timeutil import iso
from .channels import Choice, choose

HOUR = 3600
SINGLE = 1200  # Kazakhstan's single (разовая) concentration: a 20-min mean
LOOKBACK = 24 * HOUR  # hours before the first reported one: NowCast needs 12, the US SO2 24-h mean 24
UNITS = {"pm25": "ug/m3", "so2": "ppb"}


@dataclass
class Quantity:
    """One pollutant of every node: hourly means ``raw``/``corrected`` (nodes x hours, NaN where an
    hour is incomplete), the profile ``version`` used (highest in the hour; 0 none), 20-min means
    ``singles_raw``/``singles_corrected`` (nodes x 3·hours), and each node's channel choice."""

    pollutant: str
    unit: str
    choices: list[Choice]
    raw: np.ndarray
    corrected: np.ndarray
    version: np.ndarray
    singles_raw: np.ndarray
    singles_corrected: np.ndarray
    windows: np.ndarray  # per node: windows with a value in the reported hours

    @property
    def channel(self) -> list:
        """Per node, the channel that stands for the pollutant (None: none)."""
        return [c.channel for c in self.choices]

    @property
    def measured(self) -> np.ndarray:
        """Per node, whether it measures the pollutant (has a channel for it)."""
        return np.array([c.channel is not None for c in self.choices], dtype=bool)

    def value(self, singles: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """``(value, calibrated)``: the corrected mean where there is one, else the raw mean."""
        raw, cor = (self.singles_raw, self.singles_corrected) if singles else (self.raw, self.corrected)
        cal = np.isfinite(cor)
        return np.where(cal, cor, raw), cal


@dataclass
class Hourly:
    """Hourly node values over ``hours`` (int64 hour starts, UTC); rows are reported from ``start``
    (the hours before it only feed the NowCast and running means)."""

    hours: np.ndarray
    start: int
    nodes: list[Node]
    pm25: Quantity
    so2: Quantity
    notes: list[str] = field(default_factory=list)
    # raw channels read beside (*also*), by channel: their windows over the reported hours (over all
    # the hours read where a node's means use the channel too)
    also: dict[str, NodeRows] = field(default_factory=dict)

    @property
    def reported(self) -> slice:
        return slice(self.start, len(self.hours))

    @property
    def quantities(self) -> tuple[Quantity, Quantity]:
        return self.pm25, self.so2


def hourly(store: Store, t0: int | None = None, t1: int | None = None, nodes=None, *, lookback: int = LOOKBACK,
           min_fraction: float = 0.75, channels=(), also=None) -> Hourly:
    """Hourly means of every node (or *nodes*) for hours starting in ``[t0, t1)``; by default the
    last 24 hours of stored data. *channels* names channels to prefer (``pm25_atm``), see
    :mod:`tynys.pipeline.channels`. *also* (a node's choices by pollutant -> raw channel names)
    names channels to read in the same pass (``Hourly.also``: their windows over the reported hours)."""
    asked = None if nodes is None else set(nodes)
    chosen = [n for n in store.nodes() if asked is None or n.id in asked]
    if asked is not None and len(chosen) < len(asked):
        unknown = sorted(asked - {n.id for n in chosen})
        raise StoreError(f"no node {', '.join(unknown)} in {store.path}: see tynys nodes list")
    latest = {r["node"]: r for r in store.latest([n.id for n in chosen])}
    t0, t1 = period(store, chosen, t0, t1, some=nodes is not None, latest=latest.values())
    lo = t0 - lookback // HOUR * HOUR
    hours = np.arange(lo, t1, HOUR, dtype=np.int64)
    start = (t0 - lo) // HOUR
    notes: list[str] = []
    picks: dict[str, list[Choice]] = {"pm25": [], "so2": []}
    stored: dict[str, list] = {}
    # by node, channel and version; one node's alone when one is asked for (a Dask part per node)
    for s in profiles(store, chosen[0].id if len(chosen) == 1 else None):
        stored.setdefault(s.profile.node, []).append(s)
    for n in chosen:
        have = set(latest[n.id]["values"]) if n.id in latest else set()
        prof = [(s.id, s.profile.sensor, s.profile.version, s.profile.model) for s in stored.get(n.id, [])]
        for p, out in picks.items():
            out.append(choose(n.id, p, {c for c in have if pollutant_of(c) == p},
                              [x for x in prof if pollutant_of(x[1]) == p], channels, notes))
    extra = [also({p: picks[p][i] for p in picks}) if also else [] for i in range(len(chosen))]
    rows = _read(store, chosen, picks, extra, int(hours[0]), int(hours[-1]) + HOUR, t0)
    return Hourly(hours, start, chosen, *(_quantity(rows, hours, start, p, picks[p], min_fraction) for p in picks),
                  notes=notes, also={ch: r for (kind, ch), r in rows.items() if kind == "also"})


def _read(store: Store, nodes: list[Node], picks: dict[str, list[Choice]], extra: list[list[str]], lo: int,
          hi: int, first: int) -> dict[tuple[str, str], NodeRows]:
    """The windows of every channel the choices (and *extra*) name, by ``(kind, channel)``, ``i``
    the node's position: one read for all the nodes that need the same channels (usually all); the
    *extra* channels from *first* on (the reported hours)."""
    needs: dict[tuple, list[int]] = {}
    for i in range(len(nodes)):
        raw = tuple(c.raw for p in picks for c in [picks[p][i]] if c.raw is not None)
        cor = tuple(c.corrected for p in picks for c in [picks[p][i]] if c.corrected is not None)
        needs.setdefault((raw, cor, tuple(extra[i])), []).append(i)
    parts: dict[tuple[str, str], list[NodeRows]] = {}
    for (raw, cor, also), at in needs.items():
        if not raw and not cor and not also:
            continue
        pos = np.array(at)
        for (kind, ch), r in store.channels_many([nodes[i].id for i in at], dict.fromkeys(raw), cor, lo, hi, late=also,
                                                 late_from=first).items():
            r.i = pos[r.i]
            parts.setdefault((kind, ch), []).append(r)
            if kind == "raw" and ch in also:
                parts.setdefault(("also", ch), []).append(r)
    # groups one after the other: each node's rows stay together and by time, which is what means needs
    return {key: NodeRows.joined(rs) for key, rs in parts.items()}


def period(store: Store, chosen: list[Node], t0: int | None, t1: int | None, *, some: bool = False,
           latest: Iterable[dict] | None = None) -> tuple[int, int]:
    """The whole hours ``[t0, t1)`` reported: by default the 24 hours up to the newest data of *chosen*
    (*latest*: their newest records, when the caller has read them already)."""
    if t1 is None:
        rows = store.latest(n.id for n in chosen) if latest is None else latest
        last = max((r["t1"] for r in rows), default=None)
        if last is None:
            raise StoreError(f"no records in {store.path} for {'these nodes' if some else 'any node'} yet")
        t1 = -(-last // HOUR) * HOUR
    t1 = -(-int(t1) // HOUR) * HOUR
    t0 = t1 - 24 * HOUR if t0 is None else int(t0) // HOUR * HOUR
    if t0 >= t1:
        raise StoreError(f"the period {iso(t0)} .. {iso(t1)} is empty: --from must be before --to")
    return t0, t1


def _quantity(read: dict[tuple[str, str], NodeRows], hours: np.ndarray, start: int, pollutant: str,
              choices: list[Choice], min_fraction: float) -> Quantity:
    n, k = len(choices), len(hours)
    lo = int(hours[0])
    q = Quantity(pollutant, UNITS[pollutant], choices,
                 np.full((n, k), np.nan), np.full((n, k), np.nan), np.zeros((n, k), np.int64),
                 np.full((n, 3 * k), np.nan), np.full((n, 3 * k), np.nan), np.zeros(n, np.int64))
    first = int(hours[start])
    for kind in ("raw", "corrected"):
        for channel in dict.fromkeys(getattr(c, kind) for c in choices if getattr(c, kind) is not None):
            rows = np.array([i for i, c in enumerate(choices) if getattr(c, kind) == channel])
            r = read[kind, channel]
            if len(rows) < n:  # the nodes using the channel for this pollutant only
                r = r.take(np.isin(r.i, rows))
            hourly_, singles = means(r, n, lo, k, min_fraction)
            values, values_s = (q.raw, q.singles_raw) if kind == "raw" else (q.corrected, q.singles_corrected)
            values[rows], values_s[rows] = hourly_[rows], singles[rows]
            counted = np.bincount(r.i, weights=np.isfinite(r.value) & (r.t0 >= first), minlength=n).astype(np.int64)
            q.windows[rows] = np.maximum(q.windows[rows], counted[rows])
            if kind == "corrected":
                np.maximum.at(q.version, (r.i, (r.t0 - lo) // HOUR), r.version)
    return q


def means(r: NodeRows, n: int, lo: int, hours: int, min_fraction: float = 0.75) -> tuple[np.ndarray, np.ndarray]:
    """Hourly and 20-min means (``n x hours``, ``n x 3·hours``) of the windows of nodes ``0 .. n-1``
    on the axis starting at *lo* (time-weighted, 75 % rule), all nodes at once: the same sums, in
    the same order, as :func:`tynys.aqi.averaging.window_means` node by node."""
    out_h, out_s = np.full((n, hours), np.nan), np.full((n, 3 * hours), np.nan)
    if not len(r):
        return out_h, out_s
    ok = np.isfinite(r.value)
    # a window sent twice (two boots) counts once: rows come by node and time, so its copies are neighbours
    new = np.r_[True, (r.i[1:] != r.i[:-1]) | (r.t0[1:] != r.t0[:-1])]
    g = np.cumsum(new) - 1
    gi, gt = r.i[new], r.t0[new]
    with np.errstate(invalid="ignore"):
        v = np.bincount(g, weights=np.where(ok, r.value, 0.0)) / np.bincount(g, weights=ok)
    valid = np.isfinite(v)
    v = np.where(valid, v, 0.0)
    step = _modal_step(r.i, r.t1 - r.t0, n)
    for width, out in ((HOUR, out_h), (SINGLE, out_s)):
        w = gt // width
        at = np.flatnonzero(np.r_[True, (gi[1:] != gi[:-1]) | (w[1:] != w[:-1])])  # each node's windows of *width*
        node, slot = gi[at], (w[at] * width - lo) // width
        st = step[node]
        # windows longer than the width, or not dividing it: no means of that width (no 20-min means)
        usable = (st > 0) & (st <= width) & (width % np.maximum(st, 1) == 0) & (slot >= 0) & (slot < out.shape[1])
        sums, counts = np.add.reduceat(v, at), np.add.reduceat(valid.astype(np.int64), at)
        with np.errstate(invalid="ignore", divide="ignore"):
            need = np.ceil(min_fraction * width / st - 1e-9)
            means = np.where(counts >= need, sums / counts, np.nan)
        out[node[usable], slot[usable]] = means[usable]
    return out_h, out_s


def _modal_step(i: np.ndarray, length: np.ndarray, n: int) -> np.ndarray:
    """Per node ``0 .. n-1`` the most common window length (the shortest of equally common ones; 0: no windows)."""
    top = int(length.max()) + 1
    keys, counts = np.unique(i * top + length, return_counts=True)
    node, size = keys // top, keys % top
    order = np.lexsort((size, -counts, node))
    first = order[np.r_[True, node[order][1:] != node[order][:-1]]]
    out = np.zeros(n, np.int64)
    out[node[first]] = size[first]
    return out
