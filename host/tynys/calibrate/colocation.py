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
    return Periods(time, interval, step=step, tz=tz).mean(values, completeness)


class Periods:
    """The intervals a series' times fall in, found once for every column recorded at those times
    (a sensor's PM, RH and T share their clock: one grouping, several means)."""

    def __init__(self, time, interval: int, *, step: int | None = None, tz: str | Zone | None = None):
        time = np.asarray(time, np.int64)
        self.time, self.interval = time, interval
        self.step = step or recording_interval(time)
        starts = period_starts(time, interval, tz)
        d = np.diff(starts)
        self.first = None
        if not len(d) or (d >= 0).all():  # time-ordered (the usual case): one pass, no sort
            self.first = np.concatenate([[0], np.flatnonzero(d) + 1]) if len(starts) else np.zeros(0, np.int64)
            self.starts = starts[self.first]
        else:
            self.starts, self.inv = np.unique(starts, return_inverse=True)

    def mean(self, values, completeness: float = COMPLETENESS):
        """``(start, mean, count)`` of *values* (recorded at this series' times)."""
        values = np.asarray(values, np.float64)
        ok = np.isfinite(values)
        v = np.where(ok, values, 0.0)
        if self.first is not None:
            if not len(self.first):
                return self.starts, np.zeros(0), np.zeros(0, np.int64)
            n = np.add.reduceat(ok.astype(np.float64), self.first)
            s = np.add.reduceat(v, self.first)
        else:
            n = np.bincount(self.inv, weights=ok, minlength=len(self.starts))
            s = np.bincount(self.inv, weights=v, minlength=len(self.starts))
        need = completeness * self.interval / self.step
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = np.where(n >= need - 1e-9, s / n, np.nan)
        return self.starts, mean, n.astype(np.int64)


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
    own = Periods(sensor_time, sec, step=sensor_step, tz=tz)
    st, sv, _ = own.mean(sensor, completeness)
    rt, rv, _ = average(ref_time, reference, sec, step=ref_step, completeness=completeness, tz=tz)
    common, si, ri = np.intersect1d(st, rt, assume_unique=True, return_indices=True)
    y, x = sv[si], rv[ri]
    keep = np.isfinite(y) & np.isfinite(x)
    out = {}
    for name, (et, ev) in (extras or {}).items():  # RH, T on the sensor's own clock: its periods again
        same = et is sensor_time or (len(et) == len(own.time) and np.array_equal(et, own.time))
        tt, vv, _ = (own if same else Periods(et, sec, tz=tz)).mean(ev, completeness)
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
