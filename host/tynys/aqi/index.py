"""Sub-indices, per-pollutant rules and the overall index, for any standard with breakpoint tables.

    >>> from tynys.aqi import index
    >>> s = index.sub_index([35.9], "pm25", "24h", "us-epa")
    >>> s.index, s.category_names()
    (array([102.]), array(['Unhealthy for Sensitive Groups'], dtype=object))
    >>> so2 = index.pollutant_index({"1h": [400], "24h": [250]}, "so2", "us-epa")   # the "= 200" rule
    >>> o = index.overall({"o3": index.pollutant_index({"8h": [0.078]}, "o3"),
    ...                    "pm25": index.sub_index([35.9], "pm25", "24h")}, "us-epa")
    >>> o.index, o.main                                       # (array([126.]), array(['o3']))

Values are numpy arrays of any shape (a series, nodes x hours, ...). With ``times`` (int64 Unix
seconds UTC, one per value) each value is scored with the table version in force at its time;
``version=`` names one explicitly. A value that gets no index has NaN and a status saying why
(``breakpoints.STATUS``); nothing is invented.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import breakpoints, tables, units
from .breakpoints import ABOVE, IMPLAUSIBLE, INCOMPLETE, MISSING, NEGATIVE, OK, USE_OTHER, Scores
from .tables import AqiError, Standard

DEFAULT_STANDARD = "us-epa"


def sub_index(values, pollutant: str, period: str, standard: str = DEFAULT_STANDARD, *,
              unit: str | None = None, times=None, version: str | None = None,
              temperature_c: float | None = None) -> Scores:
    """Score concentrations of one pollutant averaged over *period* on *standard*'s table.

    *unit* is the unit of *values* (default: the table's own); gases are converted at the
    standard's reference temperature unless *temperature_c* is given.
    """
    values = np.asarray(values, dtype=float)
    if times is not None:
        times = np.broadcast_to(np.asarray(times, dtype=np.int64), values.shape)
    parts = tables.select(standard, times, version)
    out = None
    for std, mask in parts:
        if std.kind != "breakpoints":
            raise AqiError(f"{std.name} is not a breakpoint index: use tynys.aqi.{'kz' if std.kind == 'ratio' else 'aqhi'}")
        table = std.table(pollutant, period)
        if times is not None:
            _check_spacing(times, table, std)
        x = _to_unit(values if mask is None else values[mask], table, std, unit, temperature_c)
        s = breakpoints.score(x, table, std)
        if mask is None:
            return s
        if out is None:
            out = _empty(values.shape, std, table)
        _put(out, mask, s)
    return out


def _check_spacing(times, table, std: Standard) -> None:
    """Refuse values that come faster than the period allows: an index is never computed from raw
    sub-hourly readings (EPA TAD 2024 FAQ), only from the averages the table names."""
    t = np.unique(times)
    if t.size < 2:
        return
    step = int(np.diff(t).min())
    need = min(table.averaging.get("seconds", table.averaging.get("hours", 1) * 3600), 3600)
    if step < need:
        raise AqiError(f"values {step} s apart cannot be {table.period} {table.pollutant} values for {std.name}: "
                       f"make {'hourly' if need == 3600 else f'{need // 60}-min'} means first (averaging.window_means), "
                       f"then the {table.period} average")


def _to_unit(values, table, std: Standard, unit, temperature_c):
    if unit is None:
        return values
    t = std.reference_temperature_c if temperature_c is None else temperature_c
    if t is None and units.needs_temperature(unit, table.unit):
        raise AqiError(f"{std.name} states no reference temperature for converting {table.pollutant} "
                       f"from {tables.normalise_unit(unit)} to {table.unit}: pass a temperature")
    return units.convert(values, table.pollutant, unit, table.unit, temperature_c=t)


def _empty(shape, std, table) -> Scores:
    return Scores(index=np.full(shape, np.nan), category=np.full(shape, -1, np.int8),
                  status=np.full(shape, MISSING, np.int8), concentration=np.full(shape, np.nan),
                  standard=std, table=table, bound=np.full(shape, np.nan))


def _put(out: Scores, mask, s: Scores) -> None:
    # Category numbers stay comparable across versions of one standard: their lists align by
    # position (checked by the table tests).
    for name in ("index", "category", "status", "concentration"):
        getattr(out, name)[mask] = getattr(s, name)
    out.bound[mask] = _bound(s)
    out.standard = s.standard


# --- one pollutant from several averaging periods ----------------------------------------

def pollutant_index(periods: dict, pollutant: str, standard: str = DEFAULT_STANDARD, **kw) -> Scores:
    """One pollutant's index from its values over several periods, by the standard's rule.

    *periods* maps period -> values (same shape), e.g. ``{"8h": o3_8h, "1h": o3_1h}``. The rule is
    the standard's ``combine`` entry for the pollutant: ``max`` (report the higher, e.g. US ozone),
    ``us-o3`` (the higher, and at least 300 where 8-h ozone is above its table), ``use-other``
    (the first period's index; where its table sends a value to another period, that period's:
    China 2012 SO2 1-h above 800 ug/m3 reports the 24-h sub-index) or ``us-so2`` (1-h
    below 305 ppb; the 24-h mean at 305 ppb or more; 200 when the 1-h value is 305 or more but the
    24-h mean is below 305 ppb). Without a rule, exactly one period is allowed.
    """
    if not periods:
        raise AqiError(f"no values given for {pollutant}")
    scores = {p: sub_index(v, pollutant, p, standard, **kw) for p, v in periods.items()}
    std = next(iter(scores.values())).standard
    rule = std.data.get("combine", {}).get(tables.pollutant_id(pollutant))
    if len(scores) == 1:
        return next(iter(scores.values()))
    if rule is None:
        raise AqiError(f"{std.name} scores {pollutant} on one period at a time; got {', '.join(scores)}")
    if rule == "us-so2":
        return _us_so2(scores.get("1h"), scores.get("24h"), std)
    if rule == "use-other":
        return _use_other(scores)
    if rule == "us-o3":
        return _us_o3(scores.get("8h"), scores.get("1h"), std)
    return _highest(list(scores.values()))


def _us_o3(s8: Scores | None, s1: Scores | None, std: Standard) -> Scores:
    """US ozone: the higher of the 8-h and 1-h indices. Where the 8-h value is beyond its table
    (above 0.200 ppm; the TAD defines no AQI there) Tynys reports at least 300, the top of Very
    Unhealthy: the higher of the 1-h index and 300 where there is a valid 1-h value (one below
    0.125 ppm counts: its index would be lower); without one the 8-h result stays number-less
    (Very Unhealthy or worse, bound 300)."""
    if s8 is None or s1 is None:
        return s8 or s1
    out = _highest([s8, s1])
    floor = float(s8.table.ihi[-1])
    known = (s8.status == ABOVE) & np.isin(s1.status, (OK, USE_OTHER)) & ~(s1.index > floor)
    out.index[known] = floor
    out.category[known] = std.category_of(np.array([floor]))[0]
    out.status[known] = OK
    out.concentration[known] = s8.concentration[known]
    out.bound[known] = np.nan
    out.period[known] = "8h"
    return out


def _use_other(scores: dict[str, Scores]) -> Scores:
    """The first period's result; where it says ``use-other-period``, the period its table's
    ``above``/``below`` rule names (``"use": "so2/24h"``), where that period has a value (else the
    status stays ``use-other-period``: the other period's value is what is missing)."""
    period, first = next(iter(scores.items()))
    out = _copy(first, period=period)
    t = first.table
    above = first.concentration > t.hi[-1]
    for rule, where in ((t.above, above), (t.below, ~above)):
        other = scores.get(rule.get("use", "/").split("/")[1])
        if rule.get("rule") != "use" or other is None:
            continue
        take = (first.status == USE_OTHER) & where & (other.status != MISSING)
        for name in ("index", "category", "status", "concentration"):
            getattr(out, name)[take] = getattr(other, name)[take]
        out.bound[take] = _bound(other)[take]
        out.period[take] = other.table.period
    return out


def _us_so2(s1: Scores | None, s24: Scores | None, std: Standard) -> Scores:
    """TAD 2024 'Calculating AQI values for SO2'."""
    if s1 is None or s24 is None:
        return s1 or s24
    out = _copy(s1, period="1h")
    use24 = s24.status == OK
    for name in ("index", "category", "status", "concentration"):
        getattr(out, name)[use24] = getattr(s24, name)[use24]
    out.bound[use24] = _bound(s24)[use24]
    out.period[use24] = "24h"
    # 1-h at 305 ppb or more (no 1-h row) and the 24-h mean known to be below 305 ppb: AQI 200.
    fixed = (s1.status == USE_OTHER) & (s24.status == USE_OTHER)
    out.index[fixed] = 200.0
    out.category[fixed] = std.category_of(np.array([200.0]))[0]
    out.status[fixed] = OK
    return out


def _copy(s: Scores, period: str) -> Scores:
    return Scores(index=s.index.copy(), category=s.category.copy(), status=s.status.copy(),
                  concentration=s.concentration.copy(), standard=s.standard, table=s.table,
                  period=np.full(s.index.shape, period, dtype=object), bound=_bound(s).copy())


def _bound(s: Scores) -> np.ndarray:
    return np.full(s.index.shape, np.nan) if s.bound is None else s.bound


def _rank(s: Scores) -> np.ndarray:
    """Comparable severity: the index, or for a number-less value with a category what it is
    known to exceed, plus a half (600 ug/m3 PM2.5 on a table that stops at 500 outranks 499)."""
    return np.where(np.isnan(s.index), _bound(s) + 0.5, s.index)


def _highest(scores: list[Scores]) -> Scores:
    """Per value, the entry with the highest index; where none has one, the most telling status."""
    ranks = np.stack([_rank(s) for s in scores])
    has = ~np.isnan(ranks)
    best = np.argmax(np.where(has, ranks, -np.inf), axis=0)
    # With no index anywhere, prefer a status that says more than "missing".
    status = np.stack([s.status for s in scores])
    fallback = np.argmax(np.where(status == MISSING, 0, np.where(status == USE_OTHER, 2, 1)), axis=0)
    pick = np.where(has.any(axis=0), best, fallback)
    first = scores[0]
    periods = np.array([s.table.period if s.table else "" for s in scores], dtype=object)
    return Scores(
        index=np.choose(pick, [s.index for s in scores]),
        category=np.choose(pick, [s.category for s in scores]).astype(np.int8),
        status=np.choose(pick, [s.status for s in scores]).astype(np.int8),
        concentration=np.choose(pick, [s.concentration for s in scores]),
        standard=first.standard, table=first.table, period=periods[pick],
        bound=np.choose(pick, [_bound(s) for s in scores]),
    )


# --- overall index -----------------------------------------------------------------------

@dataclass
class Overall:
    """The overall index of several pollutants, per value.

    index, category, status  as in :class:`Scores`
    main                     the main (dominant) pollutant; ties are joined with ","; "" where
                             there is none (no index, or China's AQI of 50 or less)
    count                    how many pollutants had an index (or a category above an open table)
    complete                 whether the standard's pollutant requirement (India: three incl. a
                             PM; EEA: NO2, O3 and PM) was met and every measured pollutant had a
                             sub-index
    lacking                  the measured pollutants without a sub-index, joined with ","; ""
                             where none lacks
    """

    index: np.ndarray
    category: np.ndarray
    status: np.ndarray
    main: np.ndarray
    count: np.ndarray
    complete: np.ndarray
    standard: Standard
    subs: dict
    lacking: np.ndarray = None
    required: np.ndarray = None  # the standard's pollutant requirement met

    def category_names(self) -> np.ndarray:
        names = np.array([c.name for c in self.standard.categories] + [""], dtype=object)
        return names[self.category]

    def why(self, k) -> str:
        """Why value *k* (a flat position) is not complete, in words; "" where it is."""
        flat = lambda a: np.ravel(a)[k]  # noqa: E731
        parts = []
        if flat(self.lacking):
            parts.append(f"no {flat(self.lacking)} sub-index, so the highest of the others could understate it")
        if self.required is not None and not flat(self.required):
            parts.append(self.standard.data.get("overall", {}).get("requires_note", "the standard's pollutant requirement is not met"))
        return "; ".join(parts)


# Statuses that leave a measured pollutant without a sub-index (below-table is low enough not to matter).
NO_SUB_INDEX = (MISSING, NEGATIVE, IMPLAUSIBLE, USE_OTHER, INCOMPLETE)


def overall(subs: dict[str, Scores], standard: str = DEFAULT_STANDARD, *, strict: bool = True,
            measured: dict | None = None) -> Overall:
    """Combine per-pollutant results (*subs*: pollutant -> Scores, same shape) into the overall index.

    The standard's ``overall`` rule decides: the highest sub-index (all breakpoint standards), the
    pollutant requirement and the threshold for naming a main pollutant. A pollutant that is
    measured but has no sub-index (its averaging is incomplete — the NowCast's first hours —, its
    value missing, negative or implausible, or its period needs another) makes the overall index
    incomplete too: the highest of the others could understate it ("AQI 16, Good" from SO2 alone
    at 150 µg/m³ PM2.5). *measured* maps pollutant -> bool array (broadcast to the values' shape)
    saying where it is measured; by default wherever its status is not ``missing``.

    With *strict*, an incomplete value gets no index and status ``incomplete``; without, it is
    computed and ``complete`` says False.
    """
    if not subs:
        raise AqiError("no pollutants given: the overall index needs at least one sub-index")
    names = [tables.pollutant_id(p) for p in subs]
    scores = list(subs.values())
    std = scores[0].standard
    rule = std.data.get("overall", {"rule": "max"})
    best = _highest(scores)
    ranks = np.stack([_rank(s) for s in scores])
    top = np.nanmax(np.where(np.isnan(ranks), -np.inf, ranks), axis=0)
    counted = ~np.isnan(ranks)
    count = counted.sum(axis=0)

    complete = np.ones(best.index.shape, dtype=bool)
    req = rule.get("requires", {})
    have = dict(zip(names, counted))
    if "min_count" in req:
        complete &= count >= req["min_count"]
    for p in req.get("all", []):
        complete &= have.get(p, False)
    if req.get("any"):
        complete &= np.any([have.get(p, np.zeros_like(complete)) for p in req["any"]], axis=0)
    required = complete.copy()
    lacking = np.full(best.index.shape, "", dtype=object)
    for p, s, r in zip(names, scores, ranks):
        where = (s.status != MISSING) if measured is None or p not in measured else \
            np.broadcast_to(np.asarray(measured[p], dtype=bool), s.status.shape)
        gap = where & np.isin(s.status, NO_SUB_INDEX) & np.isnan(r)
        if gap.any():  # strings only where a pollutant lacks (object arrays are slow)
            now = lacking[gap]
            lacking[gap] = np.where(now == "", p, now + ("," + p))
    complete &= lacking == ""

    main = np.full(best.index.shape, "", dtype=object)
    for p, r in zip(names, ranks):
        is_top = counted.any(axis=0) & (r == top)
        main = np.where(is_top, np.where(main == "", p, main + "," + p), main)
    threshold = rule.get("main_pollutant_above")
    if threshold is not None:
        main = np.where(np.nan_to_num(best.index, nan=np.inf) > threshold, main, "")

    if strict:
        miss = ~complete & (count > 0)
        best.index[miss] = np.nan
        best.category[miss] = -1
        best.status[miss] = INCOMPLETE
        main = np.where(miss, "", main)
    return Overall(index=best.index, category=best.category, status=best.status, main=main,
                   count=count, complete=complete, standard=std, subs=dict(zip(names, scores)),
                   lacking=lacking, required=required)
