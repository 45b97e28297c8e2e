"""Index series from hourly means: each standard's own averaging for the hourly and the daily index.

    >>> from tynys.aqi import series
    >>> s = series.hourly(hours, pm25_hourly, "pm25", "us-epa")          # NowCast -> AQI, per hour
    >>> days, d = series.daily(hours, pm25_hourly, "pm25", "us-epa", tz="Asia/Almaty")

The input is always hourly means on a regular hourly axis (``averaging.window_means`` makes them
from raw node windows, with completeness). The averages each table needs are built here from
those hours — NowCast, trailing running means, local-standard-time day means and maxima — with
the completeness rule stated in the table data, so an index is never computed from a raw
sub-hourly reading or from a period the standard does not define. Which periods make the hourly
and the daily index of a pollutant is the standard's ``hourly``/``daily`` entry; several periods
are combined by its ``combine`` rule (US ozone 8-h/1-h, US SO2 1-h/24-h).
"""

from __future__ import annotations

import numpy as np

from ..timeutil import Zone
from . import averaging, index, tables
from .breakpoints import INCOMPLETE, MISSING, Scores
from .nowcast import nowcast
from .tables import AqiError


def _periods(std: tables.Standard, pollutant: str, which: str) -> list[str]:
    rules = std.data.get(which, {})
    pid = tables.pollutant_id(pollutant)
    if pid not in rules:
        note = std.data.get(f"{which}_note", "")
        have = ", ".join(rules) or "none"
        raise AqiError(f"{std.name} has no {which} rule for {pid} (it has: {have}). {note}".strip())
    return rules[pid]


def _hours(period: str) -> int:
    if not period.endswith("h"):
        raise AqiError(f"a {period} value cannot be made from hourly means")
    return int(period[:-1])


def hourly(times, values, pollutant: str, standard: str = index.DEFAULT_STANDARD, *,
           version: str | None = None, unit: str | None = None, **kw) -> Scores:
    """The standard's hourly (real-time) index for every hour of *values* (time on the last axis)."""
    t = averaging.check_hourly(times)
    v = np.asarray(values, dtype=float)
    std = tables.load(standard, version=version, at=int(t[-1]) if t.size else None)
    periods = {}
    for period in _periods(std, pollutant, "hourly"):
        if period == "nowcast":
            periods["24h"] = nowcast(v).concentration
            continue
        h = _hours(period)
        table = std.table(pollutant, period)
        periods[period] = v if h == 1 else averaging.rolling_mean(v, h, table.averaging["min_valid"])
    stamp = np.broadcast_to(t, v.shape)
    out = index.pollutant_index(periods, pollutant, standard, times=None if version else stamp,
                                version=version, unit=unit, **kw)
    longest = max(12 if p == "nowcast" else _hours(p) for p in _periods(std, pollutant, "hourly"))
    seen = averaging.rolling_mean(np.isfinite(v).astype(float), longest, 1) > 0
    return _incomplete(out, seen)


def _incomplete(s: Scores, seen: np.ndarray) -> Scores:
    """'incomplete' rather than 'missing' where there was data, but not enough for the average."""
    s.status[(s.status == MISSING) & seen] = INCOMPLETE
    return s


def daily(times, values, pollutant: str, standard: str = index.DEFAULT_STANDARD, *,
          utc_offset_s: int = 0, tz: str | None = None, version: str | None = None, unit: str | None = None,
          min_hours: int = 18, **kw) -> tuple[np.ndarray, Scores]:
    """The standard's daily index per local-standard-time day: ``(day_starts_utc, Scores)``.

    The days are those of *tz*'s standard time (``Asia/Almaty``: UTC+06:00 until 2024-03-01,
    UTC+05:00 after; ``America/New_York``: always UTC-05:00), else of the fixed *utc_offset_s*.

    24-h periods are calendar-day means (the table's ``min_valid`` hours); shorter periods give the
    day's highest running mean (US ozone: the 17 windows starting 07:00-23:00), or highest hour,
    which need *min_hours* valid hours in the day.
    """
    t = averaging.check_hourly(times)
    v = np.asarray(values, dtype=float)
    std = tables.load(standard, version=version, at=int(t[-1]) if t.size else None)
    if tz is not None:
        utc_offset_s = Zone(tz).standard_offsets(t)
    periods = {}
    days = None
    for period in _periods(std, pollutant, "daily"):
        h = _hours(period)
        avg = std.table(pollutant, period).averaging
        if h == 24:
            days, x, _ = averaging.daily_means(t, v, utc_offset_s=utc_offset_s, min_valid=avg["min_valid"])
        elif avg.get("daily") == "max-of-17-from-07":
            days, x, _ = averaging.daily_max_8h(t, v, utc_offset_s=utc_offset_s, min_hours=avg["min_valid"])
        else:
            run = v if h == 1 else averaging.rolling_mean(v, h, avg["min_valid"])
            days, x, _ = averaging.daily_max(t, run, utc_offset_s=utc_offset_s, min_valid=min_hours)
        periods[period] = x
    stamp = np.broadcast_to(days, next(iter(periods.values())).shape)
    out = index.pollutant_index(periods, pollutant, standard, times=None if version else stamp,
                                version=version, unit=unit, **kw)
    _, _, counts = averaging.daily_means(t, v, utc_offset_s=utc_offset_s, min_valid=1)
    return days, _incomplete(out, counts > 0)
