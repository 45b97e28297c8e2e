"""The PM NowCast (US EPA / AirNow): an hourly estimate of the 24-h PM level for the hourly AQI.

    >>> from tynys.aqi.nowcast import nowcast
    >>> hourly = [34.9, 43, 50, 64.9, 69.2, 66.2, 53.7, 48.6, 49.2, 35, float("nan"), 21]  # oldest first
    >>> nc = nowcast(hourly)
    >>> round(float(nc.concentration[-1]), 4), float(nc.weight[-1])       # AirNow forum post 172
    (28.4098, 0.5)

For each hour, from that hour and the 11 before it (``c1`` the current hour, ``c12`` eleven hours
earlier; input arrays run **oldest first** along the time axis):

1. ``w* = min / max`` of the valid hours (``1 - range/max``), clamped to [0.5, 1] for PM;
2. NowCast = sum(w*^(i-1) c_i) / sum(w*^(i-1)) over the valid hours only — a missing hour drops out
   of both sums but the hours around it keep their exponents;
3. there is a NowCast only when at least 2 of the 3 most recent hours are valid (the current
   hour itself may be missing).

The result is not truncated here: the index truncates it (0.1 ug/m3 for PM2.5, 1 for PM10) and
uses the 24-h table (``tynys.aqi.index.sub_index(nc, "pm25", "24h")``). Inputs must be hourly
means on a regular hourly axis (``averaging.window_means`` builds them from raw node windows);
hours before the series start count as missing.

Negative hourly means are **missing** by default — a Tynys convention, not a published rule: a
low-cost sensor's negative hour is an offset or a fault, and in the sums it would pull the weight
factor and the mean down. AirMonitor (``MazamaScience/AirMonitor`` ``monitor_nowcast``) keeps
them; how AirNow treats them is not verified. ``negative="keep"`` leaves them in the sums.

Sources: EPA-454/B-24-002 (TAD 2024) section IV; AirNow-Tech forum post 172 "The NowCast for
PM2.5 and PM10" (completeness: only 2 of the 3 latest hours); EPA PM NowCast fact sheet (2018).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .tables import AqiError

_BLOCK = 1 << 16  # values per block: bounds the temporaries (1,000 nodes x 1 year: ~7 nodes a block)


@dataclass
class NowCast:
    """Per hour: ``concentration`` (NaN where there is none), the weight factor ``weight`` and the
    number of valid hours ``hours`` in the 12-hour window."""

    concentration: np.ndarray
    weight: np.ndarray
    hours: np.ndarray


def nowcast(hourly, *, axis: int = -1, hours: int = 12, min_weight: float = 0.5,
            recent: int = 3, min_recent: int = 2, negative: str = "missing") -> NowCast:
    """NowCast for every hour of *hourly* (any shape; time along *axis*, oldest first).

    *negative*: ``"missing"`` (default, a Tynys convention: a negative hour drops out like a
    missing one) or ``"keep"`` (in the sums, as AirMonitor does)."""
    if negative not in ("missing", "keep"):
        raise AqiError(f"negative={negative!r}: use 'missing' or 'keep'")
    x = np.moveaxis(np.asarray(hourly, dtype=float), axis, -1)
    if x.shape[-1] == 0:
        empty = np.empty(x.shape)
        return NowCast(empty, empty.copy(), np.empty(x.shape, np.int16))
    lead = x.shape[:-1]
    flat = x.reshape(-1, x.shape[-1])
    conc = np.empty(flat.shape)
    weight = np.empty(flat.shape)
    count = np.empty(flat.shape, dtype=np.int16)
    rows = max(1, _BLOCK // flat.shape[1])
    for r in range(0, flat.shape[0], rows):
        blk = slice(r, r + rows)
        conc[blk], weight[blk], count[blk] = _block(flat[blk], hours, min_weight, recent, min_recent, negative)
    back = lambda a: np.moveaxis(a.reshape(lead + (flat.shape[1],)), -1, axis)  # noqa: E731
    return NowCast(back(conc), back(weight), back(count))


def _lag(x: np.ndarray, j: int) -> np.ndarray:
    """x shifted j hours later along the last axis; the first j hours are missing."""
    if j == 0:
        return x
    out = np.full(x.shape, np.nan)
    out[:, j:] = x[:, :-j]
    return out


def _block(x, hours, min_weight, recent, min_recent, negative):
    bad = ~np.isfinite(x)
    if negative == "missing":
        bad |= x < 0
    v = np.where(bad, np.nan, x)
    cmax = np.full(v.shape, np.nan)
    cmin = np.full(v.shape, np.nan)
    n = np.zeros(v.shape, dtype=np.int16)
    n_recent = np.zeros(v.shape, dtype=np.int16)
    for j in range(hours):
        lj = _lag(v, j)
        ok = ~np.isnan(lj)
        cmax = np.fmax(cmax, lj)
        cmin = np.fmin(cmin, lj)
        n += ok
        if j < recent:
            n_recent += ok
    with np.errstate(invalid="ignore", divide="ignore"):
        w = np.where(cmax > 0, cmin / cmax, 1.0)  # = 1 - range/max; all-zero hours: plain mean
    w = np.clip(w, min_weight, 1.0)
    num = np.zeros(v.shape)
    den = np.zeros(v.shape)
    wp = np.ones(v.shape)
    for j in range(hours):
        lj = _lag(v, j)
        ok = ~np.isnan(lj)
        num += np.where(ok, wp * np.where(ok, lj, 0.0), 0.0)
        den += np.where(ok, wp, 0.0)
        wp *= w
    valid = n_recent >= min_recent
    with np.errstate(invalid="ignore", divide="ignore"):
        conc = np.where(valid, num / den, np.nan)
    return conc, np.where(valid, w, np.nan), n
