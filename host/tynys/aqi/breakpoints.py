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

import numpy as np

from .tables import Standard, Table, pollutant_facts

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
    """

    index: np.ndarray
    category: np.ndarray
    status: np.ndarray
    concentration: np.ndarray
    standard: Standard
    table: Table | None = None
    period: np.ndarray | None = None  # per value, where several periods were combined

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
    s = np.round(s, 6)  # drop float noise before deciding which side of a unit a value is on
    if table.quantise == "truncate":
        return np.floor(s)
    if table.quantise == "half-up":
        return np.floor(s + 0.5)
    return np.rint(s)  # half-even


def plausible_max(table: Table, standard: Standard) -> float:
    """The plausibility limit of ``pollutants.json`` [ug/m3] in the table's unit."""
    limit = float(pollutant_facts(table.pollutant)["plausible_max"])
    if table.unit == "ug/m3":
        return limit
    if table.unit == "mg/m3":
        return limit / 1000.0
    from .units import ugm3_per_ppb

    # Mixing ratios: convert at the standard's reference temperature (or 0 degC, which gives the
    # largest ppb for a mass and so never refuses a plausible value).
    t = standard.reference_temperature_c
    ppb = limit / ugm3_per_ppb(table.pollutant, 0.0 if t is None else t)
    return ppb / 1000.0 if table.unit == "ppm" else ppb


def score(values, table: Table, standard: Standard) -> Scores:
    """Score concentrations *values* (in ``table.unit``) on *table* of *standard*."""
    c = np.asarray(values, dtype=float)
    status = np.full(c.shape, OK, dtype=np.int8)
    status[np.isnan(c)] = MISSING
    status[c < 0] = NEGATIVE
    status[np.isinf(c) | (c > plausible_max(table, standard))] = IMPLAUSIBLE
    good = status == OK
    u = np.where(good, quantise(np.where(good, c, 0.0), table), np.nan)

    scale = 10.0 ** table.decimals
    lo, hi = np.round(table.lo * scale), np.round(table.hi * scale)  # inf stays inf
    n = len(lo)
    row = np.minimum(np.searchsorted(hi, np.where(good, u, 0.0), side="left"), n - 1)
    beyond = good & (u > hi[-1])
    under = good & (row == 0) & (u < lo[0])
    # A value between two printed rows (only where a table mixes precisions) starts the upper row.
    ug = np.where(good & ~under, np.maximum(u, lo[row]), u)

    ilo, ihi, rlo, rhi = table.ilo[row], table.ihi[row], lo[row], hi[row]
    span = rhi - rlo
    with np.errstate(invalid="ignore", divide="ignore"):
        frac = np.where(span > 0, (ug - rlo) / np.where(np.isfinite(span) & (span > 0), span, 1.0), 0.0)
        raw = np.where(ihi == ilo, ilo, ilo + (ihi - ilo) * frac)
    open_top = good & np.isinf(rhi) & (ihi != ilo)  # e.g. India "250+": category, no number
    raw = np.where(open_top, np.nan, raw)
    forced = np.full(c.shape, -1.0)  # index whose category a number-less value takes
    forced = np.where(open_top, ilo, forced)
    status[open_top] = ABOVE

    if beyond.any():
        rule = table.above["rule"]
        if rule == "extrapolate":
            pass  # the last row's line continues: raw already uses it (frac > 1)
        elif rule == "fixed":
            raw = np.where(beyond, float(table.above["index"]), raw)
        else:
            raw = np.where(beyond, np.nan, raw)
            status[beyond] = USE_OTHER if rule == "use" else ABOVE
            if rule == "category":
                forced = np.where(beyond, table.ihi[-1], forced)
    if under.any():
        raw = np.where(under, np.nan, raw)
        status[under] = USE_OTHER if table.below["rule"] == "use" else BELOW

    index = _round(raw, standard.index_rounding)
    index[status != OK] = np.nan
    category = standard.category_of(np.where(np.isnan(index), forced, index))
    return Scores(index=index, category=category, status=status, concentration=u / scale, standard=standard, table=table)


def _round(x: np.ndarray, rule: str) -> np.ndarray:
    if rule == "half-up":
        return np.floor(x + 0.5 + _NOISE)
    if rule == "ceil":
        return np.ceil(x - _NOISE)
    return x
