"""Score concentrations on one breakpoint table: quantise, find the row, interpolate, round.

This is the whole arithmetic of the piecewise-linear indices (US EPA, India, China) and of the
banded ones (EEA, UK DAQI: a band is a row whose index is constant). Everything is vectorised;
nothing here knows a standard by name — the rules come from the table data:

1. bad values get no index: NaN is *missing*, below zero *negative*, infinite or above the
   plausibility limit of ``pollutants.json`` *implausible*;
2. the concentration is brought to the table's precision (``quantise``: truncate, half-up,
   half-even or none) — in integer units of that precision, so 35.9 is 359 tenths exactly and the
   gaps between printed rows (9.0 | 9.1) cannot swallow a value;
3. the row is the first whose upper bound is >= the value (a value on a shared band edge belongs
   to the lower band);
4. the index is interpolated within the row and rounded with the standard's rule (half-up,
   ceiling, none); values beyond the rows follow the table's ``above``/``below`` rule.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from . import tables
from .tables import Standard, Table, pollutant_facts
from .units import ugm3_per_ppb

# Status codes, one per value. Anything but OK has index NaN.
STATUS = ("ok", "missing", "negative", "implausible", "below-table", "above-table", "use-other-period", "incomplete")
OK, MISSING, NEGATIVE, IMPLAUSIBLE, BELOW, ABOVE, USE_OTHER, INCOMPLETE = range(len(STATUS))

# Float noise below this (in units of the table's precision, or of the index) is not a real
# difference: a float mean of 9.1 may be 9.0999999999 and must still truncate to 9.1.
_NOISE = 1e-6


@dataclass
class Scores:
    """Per-value result of scoring; all arrays have the input's shape.

    index          float64, NaN where there is no index (see ``status``)
    category       int8, number into ``standard.categories``; -1 none (a value above an
                   open-ended table has a category but no index)
    status         int8, number into ``STATUS``
    concentration  float64, the value the lookup used: in the table's unit, after quantisation
    bound          float64 or None: for a value with a category but no number, what the index is
                   known to exceed or reach (500 beyond a table that stops there; 401 in India's
                   open "Severe" row); NaN elsewhere. Ranks such values against numbers.
    """

    index: np.ndarray
    category: np.ndarray
    status: np.ndarray
    concentration: np.ndarray
    standard: Standard
    table: Table | None = None
    period: np.ndarray | None = None  # per value, where several periods were combined
    bound: np.ndarray | None = None

    def category_names(self) -> np.ndarray:
        names = np.array([c.name for c in self.standard.categories] + [""], dtype=object)
        return names[self.category]

    def status_names(self) -> np.ndarray:
        return np.array(STATUS, dtype=object)[self.status]

    def rows(self, given=None) -> list[dict]:
        """One dict per value (flattened): what a report or the CLI prints. *given* are the
        concentrations as the user gave them (default: the ones used)."""
        std, t = self.standard, self.table
        colors = [c.color for c in std.categories] + [None]
        cats = self.category_names().ravel()
        sts = self.status_names().ravel()
        used = self.concentration.ravel()
        given = used if given is None else np.ravel(np.asarray(given, dtype=float))
        periods = None if self.period is None else np.ravel(self.period)
        out = []
        for k, i in enumerate(self.index.ravel()):
            st = sts[k]
            note = ""
            if t is not None and st in ("use-other-period", "below-table", "above-table"):
                note = (t.below if used[k] < t.lo[0] else t.above).get("why", "")
            out.append({
                "index": _num(i, whole=True), "category": cats[k] or None,
                "color": colors[self.category.ravel()[k]], "status": st,
                "standard": std.id, "version": std.version,
                "pollutant": t.pollutant if t else None,
                "period": periods[k] if periods is not None else t.period if t else None,
                "concentration": _num(given[k]), "used": _num(used[k]), "unit": t.unit if t else None,
                "note": note,
            })
        return out


def _num(x, whole=False):
    """A JSON-friendly number: None for NaN, int for whole values when *whole*."""
    x = float(x)
    if not np.isfinite(x):
        return None
    return int(x) if whole and x == int(x) else x


def quantise(c: np.ndarray, table: Table) -> np.ndarray:
    """*c* in integer units of the table's precision (float64), rounded by the table's rule."""
    s = c * (10.0 ** table.decimals)
    if table.quantise == "none":
        return s
    # _NOISE: a float a hair below a unit (or a half) is that unit (or half) in decimal.
    if table.quantise == "truncate":
        return np.floor(s + _NOISE)
    if table.quantise == "half-up":
        return np.floor(s + (0.5 + _NOISE))
    return np.rint(np.round(s, 6))  # half-even: snap to the nearest millionth first


def plausible_max(table: Table, standard: Standard) -> float:
    """The plausibility limit of ``pollutants.json`` [ug/m3] in the table's unit."""
    limit = float(pollutant_facts(table.pollutant)["plausible_max"])
    if table.unit == "ug/m3":
        return limit
    if table.unit == "mg/m3":
        return limit / 1000.0
    t = standard.reference_temperature_c
    assert t is not None, f"{standard.name} has {table.unit} tables but no reference temperature"
    ppb = limit / ugm3_per_ppb(table.pollutant, t)
    return ppb / 1000.0 if table.unit == "ppm" else ppb


def score(values, table: Table, standard: Standard, *, lookup: bool = True) -> Scores:
    """Score concentrations *values* (in ``table.unit``) on *table* of *standard*.

    Where the table quantises concentrations (truncate, half-up, half-even) and its rows span at
    most ``LOOKUP_MAX`` steps, every value is scored by table lookup: each quantised
    concentration's result was computed once by the reference arithmetic (row search and
    interpolation, :class:`_Plan`), so both give identical results (``lookup=False`` runs the
    reference on everything; ``tests/host/aqi/test_lookup.py`` compares them). Values the lookup
    does not cover (missing, negative, implausible, beyond the last row) take the reference path.
    ``bound`` is None when no value has one.
    """
    c = np.asarray(values, dtype=float)
    flat = c.ravel()
    index = np.empty(flat.size)
    category = np.empty(flat.size, dtype=np.int8)
    status = np.empty(flat.size, dtype=np.int8)
    used = np.empty(flat.size)
    plan = _plan(table, standard, lookup)
    bounds = []
    # Blocks keep the temporaries in cache and bound memory; results do not depend on the size.
    for a in range(0, flat.size, _BLOCK):
        b = slice(a, a + _BLOCK)
        got = plan.run(flat[b], index[b], category[b], status[b], used[b])
        if got is not None:
            bounds.append((b, got))
    bound = None
    if bounds:
        bound = np.full(flat.size, np.nan)
        for b, got in bounds:
            bound[b] = got
        bound = bound.reshape(c.shape)
    shape = c.shape
    return Scores(index=index.reshape(shape), category=category.reshape(shape), status=status.reshape(shape),
                  concentration=used.reshape(shape), standard=standard, table=table, bound=bound)


_BLOCK = 1 << 16
_SHIFT = {"truncate": _NOISE, "half-up": 0.5 + _NOISE}  # quantise() for values >= 0, before truncation
LOOKUP_MAX = 1 << 20  # steps of a table's range a lookup may hold (8 MiB of index values)


@lru_cache(maxsize=256)
def _cached(std_id: str, version: str, key: str, lookup: bool):
    std = tables.load(std_id, version=version)
    plan = _Plan(std.tables[key], std)
    return (_Lookup(plan) if lookup and _Lookup.fits(plan) else plan), std.tables[key], std


def _plan(table: Table, standard: Standard, lookup: bool):
    plan, t, std = _cached(standard.id, standard.version, table.key, lookup)
    if t is table and std is standard:
        return plan
    p = _Plan(table, standard)  # a table not read from the catalogue (a test's own)
    return _Lookup(p) if lookup and _Lookup.fits(p) else p


class _Plan:
    """One table's rows in integer units of its precision, ready to score blocks of values."""

    def __init__(self, table: Table, standard: Standard):
        self.table, self.rounding = table, standard.index_rounding
        self.scale = 10.0 ** table.decimals
        self.cap = plausible_max(table, standard)
        self.lo, self.hi = np.round(table.lo * self.scale), np.round(table.hi * self.scale)  # inf stays inf
        span = self.hi - self.lo
        self.open = np.isinf(self.hi) & (table.ihi != table.ilo)  # e.g. India "250+": category, no number
        flat = ~np.isfinite(span) | (span <= 0) | (table.ihi == table.ilo)  # bands and open rows: constant
        self.ilo = table.ilo
        self.rise = np.where(flat, 0.0, table.ihi - table.ilo)
        self.span = np.where(flat, 1.0, span)
        self.cat_lo = np.array([c.lo for c in standard.categories], dtype=float)

    def run(self, c, index, category, status, used, bound=None):
        """Score block *c* into the output blocks; returns the bounds (NaN where none), or None
        when no value has one (and *bound* is not given)."""
        t = self.table
        status[:] = OK
        status[np.isnan(c)] = MISSING
        status[c < 0] = NEGATIVE
        status[np.isinf(c) | (c > self.cap)] = IMPLAUSIBLE
        good = status == OK
        u = quantise(np.where(good, c, 0.0), t)
        row = np.minimum(np.searchsorted(self.hi, u, side="left"), len(self.hi) - 1)
        lo = self.lo[row]
        # A value between two printed rows (only where a table mixes precisions) starts the upper row.
        raw = self.ilo[row] + self.rise[row] * (np.maximum(u, lo) - lo) / self.span[row]
        forced = None  # index whose category a number-less value takes
        opened = good & self.open[row]
        if opened.any():
            status[opened] = ABOVE
            forced = np.where(opened, self.ilo[row], np.nan)
        beyond = good & (u > self.hi[-1])
        if beyond.any():
            rule = t.above["rule"]
            if rule == "fixed":
                raw[beyond] = float(t.above["index"])
            elif rule != "extrapolate":  # extrapolate: the last row's line already continues
                status[beyond] = USE_OTHER if rule == "use" else ABOVE
                if rule == "category":
                    forced = np.where(beyond, t.ihi[-1], np.nan if forced is None else forced)
        under = good & (u < self.lo[0])
        if under.any():
            status[under] = USE_OTHER if t.below["rule"] == "use" else BELOW
        index[:] = round_index(raw, self.rounding)
        index[status != OK] = np.nan
        which = index if forced is None else np.where(np.isnan(index), forced, index)
        cat = np.searchsorted(self.cat_lo, which, side="right") - 1
        category[:] = np.where(np.isnan(which) | (cat < 0), -1, cat)
        used[:] = np.where(good, u / self.scale, np.nan)
        got = None if forced is None else np.where(np.isnan(index), forced, np.nan)
        if bound is not None:
            bound[:] = np.nan if got is None else got
        return got


class _Lookup:
    """A quantising table scored by lookup: the reference :class:`_Plan`'s result for every
    quantised concentration from 0 to the table's last bound (the start of an open last row),
    computed once; a block of values costs a quantisation and a few array lookups. Slot 0 stands
    for values the lookup does not cover, the last slot for values beyond it: both are scored by
    the reference afterwards, so the results are the reference's everywhere."""

    def __init__(self, plan: _Plan):
        self.plan, self.table, self.scale = plan, plan.table, plan.scale
        self.top = self.span(plan)
        n = self.top + 1
        grid = np.arange(n, dtype=float) / self.scale
        self.index, used = np.full(n + 2, np.nan), np.full(n, np.nan)
        self.category, self.status = np.full(n + 2, -1, np.int8), np.full(n + 2, MISSING, np.int8)
        bound = np.full(n + 2, np.nan)
        got = plan.run(grid, self.index[1:-1], self.category[1:-1], self.status[1:-1], used, bound[1:-1])
        ok = self.status[1:-1] == OK
        assert np.array_equal(np.round(used[ok] * self.scale), np.arange(n)[ok]), \
            f"{plan.table.key}: a quantised concentration must quantise to itself"
        self.bound = bound if got is not None and np.isfinite(bound).any() else None
        self.cap = min(plan.cap, self.top / self.scale)  # above either: the reference decides

    def _take(self, k, skip: int, index, category, status):
        """The results in slots *k* + *skip* (*skip* 1: *k* are quantised concentrations)."""
        np.take(self.index[skip:], k, out=index)
        np.take(self.category[skip:], k, out=category)
        np.take(self.status[skip:], k, out=status)
        return None if self.bound is None else self.bound[skip:].take(k)

    @staticmethod
    def span(plan: _Plan) -> int:
        last = plan.hi[-1] if np.isfinite(plan.hi[-1]) else plan.lo[-1]
        return int(last)

    @staticmethod
    def fits(plan: _Plan) -> bool:
        return plan.table.quantise != "none" and 0 <= _Lookup.span(plan) <= LOOKUP_MAX

    def run(self, c, index, category, status, used, bound=None):
        lo, hi = c.min(initial=np.inf), c.max(initial=-np.inf)
        if lo >= 0 and hi <= self.cap and self.table.quantise in _SHIFT:  # NaN fails both
            # 0 <= c: truncating to an integer is the floor, and the quantised value is in the table
            k = np.multiply(c, self.scale)
            k += _SHIFT[self.table.quantise]
            k = k.astype(np.intp)
            np.divide(k, self.scale, out=used)
            return self._take(k, 1, index, category, status)
        u = quantise(c, self.table)
        k = np.fmin(np.fmax(u, -1.0), self.top + 1.0)  # NaN -> -1 (fmax ignores NaN): slot 0
        k += 1.0
        np.divide(u, self.scale, out=used)
        got = self._take(k.astype(np.intp), 0, index, category, status)
        odd = np.flatnonzero(~((c >= 0) & (u <= self.top) & (c <= self.plan.cap)))
        sub = [np.empty(odd.size), np.empty(odd.size, np.int8), np.empty(odd.size, np.int8), np.empty(odd.size)]
        more = self.plan.run(c[odd], *sub)
        index[odd], category[odd], status[odd], used[odd] = sub
        if more is not None or got is not None:
            got = np.full(c.size, np.nan) if got is None else got
            got[odd] = np.nan if more is None else more
        return got


def round_index(x: np.ndarray, rule: str) -> np.ndarray:
    """Round raw index values by the standard's rule (half-up, ceil or none), ignoring float noise."""
    if rule == "half-up":
        return np.floor(x + 0.5 + _NOISE)
    if rule == "ceil":
        return np.ceil(x - _NOISE)
    return x
