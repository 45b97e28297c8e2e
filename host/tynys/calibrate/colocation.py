"""Co-location: average sensor and reference series to 1 h / 24 h and pair them.

EPA's completeness rule (sensortoolkit ``interval_averaging``, EPA/600/R-20/280): an averaging
interval is valid only with at least 75 % of the expected raw points, counted at each series'
own recording interval. So a sensor's daily mean comes from its raw data (≥ 1080 of 1440
minutes for 1-min data), and an hourly reference's daily mean needs ≥ 18 of 24 hours.
Times are int64 UTC seconds; an interval is labelled by its start.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..errors import TynysError
from ..timeutil import Zone, iso, period_starts, recording_interval as _step

INTERVALS = {"1h": 3600, "24h": 86400}
COMPLETENESS = 0.75


class OverlapError(TynysError):
    """Too little co-located data for what was asked: the message says how much is needed."""


def recording_interval(time: np.ndarray) -> int:
    """The most common step between consecutive times [s] (the logger's recording interval)."""
    step = _step(time)
    if step is None:
        raise OverlapError("a series needs at least two distinct times to know its recording interval")
    return step


def days_label(tz: str | None) -> str:
    """What a 24-h interval is, for notes and provenance: ``UTC`` or ``<zone> standard time``."""
    return "UTC" if tz is None or Zone(tz).offset == 0 else f"{tz} standard time"


def average(time, values, interval: int, *, step: int | None = None, completeness: float = COMPLETENESS,
            tz: str | Zone | None = None):
    """Mean of *values* per *interval* [s]; NaN where fewer than *completeness* of the expected points.

    *step* is the recording interval (the mode of time steps when None); intervals are counted
    from midnight of *tz*'s standard time (None: UTC). Returns ``(start, mean, count)``.
    """
    time = np.asarray(time, np.int64)
    values = np.asarray(values, np.float64)
    step = step or recording_interval(time)
    starts = period_starts(time, interval, tz)
    ok = np.isfinite(values)
    v = np.where(ok, values, 0.0)
    if len(starts) and (np.diff(starts) >= 0).all():  # time-ordered (the usual case): one pass, no sort
        edges = np.flatnonzero(np.diff(starts)) + 1
        first = np.concatenate([[0], edges])
        uniq = starts[first]
        n = np.add.reduceat(ok.astype(np.float64), first)
        s = np.add.reduceat(v, first)
    else:
        uniq, inv = np.unique(starts, return_inverse=True)
        n = np.bincount(inv, weights=ok, minlength=len(uniq))
        s = np.bincount(inv, weights=v, minlength=len(uniq))
    need = completeness * interval / step
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(n >= need - 1e-9, s / n, np.nan)
    return uniq, mean, n.astype(np.int64)


@dataclass
class Pairs:
    """Co-located, averaged values: ``sensor`` (y) and ``reference`` (x) on the same ``time``."""

    interval: str
    time: np.ndarray
    sensor: np.ndarray
    reference: np.ndarray
    extras: dict = field(default_factory=dict)  # e.g. rh, t_c averaged the same way

    def __len__(self):
        return len(self.time)

    def span(self) -> str:
        return f"{iso(self.time[0])}…{iso(self.time[-1])}" if len(self.time) else "(none)"


def colocate(sensor_time, sensor, ref_time, reference, interval: str = "1h", *, extras=None,
             completeness: float = COMPLETENESS, tz: str | Zone | None = None, sensor_step: int | None = None,
             ref_step: int | None = None) -> Pairs:
    """Average both series to *interval* (``1h``/``24h``) with the 75 % rule and keep the intervals both have.

    *tz*: the zone whose standard-time days the 24-h intervals follow (None: UTC days).
    *extras*: ``{name: (time, values)}`` (RH, T …) averaged like the sensor and carried along
    (NaN where incomplete). Sensor and reference are never interpolated.
    """
    if interval not in INTERVALS:
        raise TynysError(f"unknown averaging interval {interval!r}; use one of {', '.join(INTERVALS)}")
    sec = INTERVALS[interval]
    st, sv, _ = average(sensor_time, sensor, sec, step=sensor_step, completeness=completeness, tz=tz)
    rt, rv, _ = average(ref_time, reference, sec, step=ref_step, completeness=completeness, tz=tz)
    common, si, ri = np.intersect1d(st, rt, assume_unique=True, return_indices=True)
    y, x = sv[si], rv[ri]
    keep = np.isfinite(y) & np.isfinite(x)
    out = {}
    for name, (et, ev) in (extras or {}).items():
        tt, vv, _ = average(et, ev, sec, completeness=completeness, tz=tz)
        col = np.full(len(common), np.nan)
        _, ci, ei = np.intersect1d(common, tt, assume_unique=True, return_indices=True)
        col[ci] = vv[ei]
        out[name] = col[keep]
    return Pairs(interval, common[keep], y[keep], x[keep], out)


def require_pairs(n: int, needed: int, what: str, interval: str = "1h") -> None:
    """Refuse when fewer than *needed* co-located intervals exist, saying how much more is needed."""
    if n < needed:
        unit = "hours" if interval == "1h" else "days"
        raise OverlapError(
            f"{what}: only {n} co-located {interval} intervals with both sensor and reference; "
            f"at least {needed} are needed ({needed} {unit} of overlap): co-locate longer, "
            "check the two files cover the same dates, or check the time zone"
        )
