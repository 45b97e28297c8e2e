"""Averages with completeness rules: raw windows -> hourly (or 15/20-min) means -> running, daily
and daily-maximum values, as the standards define them.

    >>> from tynys.aqi import averaging
    >>> hours, means, n = averaging.window_means(t0, pm25_5min, 3600)            # node windows -> hourly
    >>> days, daily, n = averaging.daily_means(hours, means, utc_offset_s=5 * 3600, min_valid=18)
    >>> run24 = averaging.rolling_mean(means, 24, min_valid=18)                  # trailing 24-h means

Times are int64 Unix seconds UTC: sample or window **start** times. Values are arrays whose last
axis (or *axis*) is time, so ``nodes x hours`` works as one call. A mean that misses its
completeness rule is NaN, never a mean of whatever happened to be there. Averages are only made
coarser: a 20-min mean cannot be made from hourly data, and the functions refuse to try.
"""

from __future__ import annotations

import numpy as np

from .tables import AqiError

HOUR = 3600
DAY = 86400


def _times(times, name="times") -> np.ndarray:
    t = np.asarray(times)
    if t.ndim != 1:
        raise AqiError(f"{name} must be one-dimensional (one time per sample); got shape {t.shape}")
    if t.size and not np.issubdtype(t.dtype, np.integer):
        if not np.all(np.isfinite(t)) or np.any(t != np.floor(t)):
            raise AqiError(f"{name} must be whole Unix seconds (int64 UTC)")
    t = t.astype(np.int64)
    if t.size > 1 and np.any(np.diff(t) <= 0):
        k = int(np.argmax(np.diff(t) <= 0))
        raise AqiError(f"{name} must increase strictly; {name}[{k + 1}]={t[k + 1]} follows {t[k]}: sort and de-duplicate first")
    return t


def check_hourly(times) -> np.ndarray:
    """*times* as int64 if they are a regular hourly axis of hour starts; AqiError otherwise."""
    t = _times(times)
    if t.size and t[0] % HOUR:
        raise AqiError(f"hourly times must be hour starts (multiples of 3600 s); {t[0]} is not: "
                       f"use averaging.window_means to make hourly means")
    if t.size > 1 and np.any(np.diff(t) != HOUR):
        k = int(np.argmax(np.diff(t) != HOUR))
        raise AqiError(f"hourly times must be a regular hourly axis; {t[k]} -> {t[k + 1]} is a step of "
                       f"{t[k + 1] - t[k]} s: use averaging.window_means, which fills missing hours with NaN")
    return t


def _last(values, axis, n):
    v = np.moveaxis(np.asarray(values, dtype=float), axis, -1)
    if v.shape[-1] != n:
        raise AqiError(f"values have {v.shape[-1]} samples along the time axis but there are {n} times")
    return v


def window_means(times, values, window_s: int = HOUR, *, sample_s: int | None = None,
                 min_fraction: float = 0.75, axis: int = -1):
    """Means over fixed windows (hours by default) aligned to the UTC clock.

    *times* are sample start times; each sample lasts *sample_s* seconds (default: the most common
    step). A window's mean counts only when its valid samples cover at least *min_fraction* of it
    (75 % by default; the AirNow Fire and Smoke Map uses 90 % for sensors). Returns
    ``(window_starts, means, counts)`` on a regular axis from the first to the last window, with
    empty windows NaN.
    """
    t = _times(times)
    v = _last(values, axis, t.size)
    if t.size == 0:
        return t, np.moveaxis(v, -1, axis), np.moveaxis(v.astype(np.int64), -1, axis)
    if sample_s is None:
        steps = np.diff(t)
        sample_s = int(np.bincount(steps).argmax()) if steps.size else window_s
    if sample_s <= 0:
        raise AqiError(f"sample length {sample_s} s must be positive")
    if sample_s > window_s:
        raise AqiError(f"samples of {sample_s} s cannot make {window_s} s means: a standard that needs "
                       f"{window_s // 60}-min values cannot use coarser data")
    if window_s % sample_s:
        raise AqiError(f"{window_s} s windows are not a whole number of {sample_s} s samples")
    if not 0 < min_fraction <= 1:
        raise AqiError(f"min_fraction {min_fraction} must be in (0, 1]")
    first = t[0] // window_s
    w = t // window_s - first
    n = int(w[-1]) + 1
    starts = np.flatnonzero(np.r_[True, np.diff(w) > 0])
    ok = np.isfinite(v)
    sums = np.add.reduceat(np.where(ok, v, 0.0), starts, axis=-1)
    counts = np.add.reduceat(ok.astype(np.int64), starts, axis=-1)
    full_s = np.zeros(v.shape[:-1] + (n,))
    full_n = np.zeros(v.shape[:-1] + (n,), dtype=np.int64)
    full_s[..., w[starts]] = sums
    full_n[..., w[starts]] = counts
    need = int(np.ceil(min_fraction * window_s / sample_s - 1e-9))
    with np.errstate(invalid="ignore", divide="ignore"):
        means = np.where(full_n >= need, full_s / full_n, np.nan)
    axis_t = (first + np.arange(n, dtype=np.int64)) * window_s
    return axis_t, np.moveaxis(means, -1, axis), np.moveaxis(full_n, -1, axis)


def rolling_mean(values, hours: int, min_valid: int, *, axis: int = -1) -> np.ndarray:
    """Trailing means over *hours* values ending at each hour (NaN where fewer than *min_valid*
    valid values); the first hours see only what exists before them."""
    v = np.moveaxis(np.asarray(values, dtype=float), axis, -1)
    ok = np.isfinite(v)
    zero = np.zeros(v.shape[:-1] + (1,))
    cs = np.concatenate([zero, np.cumsum(np.where(ok, v, 0.0), axis=-1)], axis=-1)
    cn = np.concatenate([zero, np.cumsum(ok, axis=-1, dtype=float)], axis=-1)
    n = v.shape[-1]
    lo = np.maximum(np.arange(1, n + 1) - hours, 0)
    s = cs[..., 1:] - cs[..., lo]
    c = cn[..., 1:] - cn[..., lo]
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.where(c >= min_valid, s / c, np.nan)
    return np.moveaxis(out, -1, axis)


def _days(times, utc_offset_s):
    t = check_hourly(times)
    off = np.broadcast_to(np.asarray(utc_offset_s, dtype=np.int64), t.shape)
    local = t + off
    d = local // DAY
    first = d[0] if d.size else 0
    idx = d - first
    step = np.diff(idx)
    if np.any((step < 0) | (step > 1)):
        raise AqiError("utc_offset_s changes so that local days no longer follow each other: give the standard "
                       "offset in force at each hour (tynys.timeutil.Zone.standard_offsets)")
    n = int(idx[-1]) + 1 if idx.size else 0
    starts = np.flatnonzero(np.r_[True, np.diff(idx) > 0]) if idx.size else idx
    # Each day starts at the local midnight before its first hour, in the offset of that hour
    # (one per hour on a regular axis: a day a permanent offset change lengthens stays one day).
    day_starts = t[starts] - local[starts] % DAY
    return t, idx, n, starts, day_starts


def daily_means(times, hourly, *, utc_offset_s=0, min_valid: int = 18, axis: int = -1):
    """Calendar-day means of hourly means, midnight to midnight in local *standard* time:
    *utc_offset_s* is the offset [s east of UTC], e.g. 5*3600 for Kazakhstan (no daylight saving),
    or one per hour where it changed (``Zone("Asia/Almaty").standard_offsets(times)``: +06:00
    until 2024-03-01). Returns ``(day_starts_utc, means, counts)``; a day with fewer than
    *min_valid* valid hours is NaN."""
    t, idx, n, starts, day_starts = _days(times, utc_offset_s)
    v = _last(hourly, axis, t.size)
    ok = np.isfinite(v)
    sums, cnt = _per_day(np.where(ok, v, 0.0), ok, idx, n, starts, np.add)
    with np.errstate(invalid="ignore", divide="ignore"):
        means = np.where(cnt >= min_valid, sums / cnt, np.nan)
    return day_starts, np.moveaxis(means, -1, axis), np.moveaxis(cnt, -1, axis)


def daily_max(times, hourly, *, utc_offset_s=0, min_valid: int = 18, axis: int = -1):
    """The highest hourly value (or running mean) of each local-standard-time day, where at least
    *min_valid* hours are valid. Returns ``(day_starts_utc, maxima, counts)``."""
    t, idx, n, starts, day_starts = _days(times, utc_offset_s)
    v = _last(hourly, axis, t.size)
    ok = np.isfinite(v)
    mx, cnt = _per_day(np.where(ok, v, -np.inf), ok, idx, n, starts, np.maximum)
    out = np.where((cnt >= min_valid) & np.isfinite(mx), mx, np.nan)
    return day_starts, np.moveaxis(out, -1, axis), np.moveaxis(cnt, -1, axis)


def _per_day(v, ok, idx, n, starts, ufunc):
    fill = 0.0 if ufunc is np.add else -np.inf
    agg = np.full(v.shape[:-1] + (n,), fill)
    cnt = np.zeros(v.shape[:-1] + (n,), dtype=np.int64)
    if starts.size:
        agg[..., idx[starts]] = ufunc.reduceat(v, starts, axis=-1)
        cnt[..., idx[starts]] = np.add.reduceat(ok.astype(np.int64), starts, axis=-1)
    return agg, cnt


def daily_max_8h(times, hourly, *, utc_offset_s=0, min_hours: int = 6,
                 first_start: int = 7, last_start: int = 23, min_windows: int = 13, axis: int = -1):
    """US ozone daily value: the highest of the 8-h means starting at *first_start* ... *last_start*
    local standard time (17 windows; the last runs into the next morning), each needing *min_hours*
    of 8, the day needing *min_windows* valid windows (AirNow forum post 170; 40 CFR 50 App. U).
    Returns ``(day_starts_utc, maxima, valid_windows)``."""
    t, idx, n, starts, day_starts = _days(times, utc_offset_s)
    v = _last(hourly, axis, t.size)
    run = rolling_mean(v, 8, min_hours)  # run[k] = mean of hours k-7 .. k
    lead = v.shape[:-1]
    if n == 0:
        return day_starts, np.moveaxis(np.empty(lead + (0,)), -1, axis), np.moveaxis(np.empty(lead + (0,), np.int64), -1, axis)
    first_hour = (day_starts - t[0]) // HOUR  # index of each local midnight (may be negative)
    ends = first_hour[:, None] + np.arange(first_start, last_start + 1)[None, :] + 7
    inside = (ends >= 0) & (ends < t.size)
    vals = run[..., np.clip(ends, 0, t.size - 1)]  # lead + (days, windows)
    vals = np.where(inside, vals, np.nan)
    valid = np.isfinite(vals).sum(axis=-1)
    mx = np.max(np.where(np.isfinite(vals), vals, -np.inf), axis=-1)
    out = np.where(valid >= min_windows, mx, np.nan)
    return day_starts, np.moveaxis(out, -1, axis), np.moveaxis(valid, -1, axis)
