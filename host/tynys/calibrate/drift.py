"""Drift: tracking and correcting a sensor that changes after it was calibrated.

- :func:`rolling_refit` refits reference = a + b·sensor on a moving window (a permanently
  co-located node), :func:`apply_rolling` applies each fit forward in time.
- :func:`sandwich` interpolates coefficients between a pre- and a post-deployment co-location.
- :func:`moment_match` matches the sensor's rolling mean and variance to a proxy (a nearby
  reference or the network median, Miskell et al. ACS Sensors 3, 832, 2018):
  b = σ_s/σ_p, a = μ_s − b·μ_p, corrected = (s − a)/b.
- :func:`cusum` and :func:`ks_rolling` detect change; :func:`detect_drift` turns them into
  per-node :class:`Alarm` objects on residuals of a fixed baseline fit. These are the earlier
  alarms, kept for comparison: they state no false-alarm rate, and ``bench/bench_drift.py``
  measures one alarm every few weeks on sensors that do not drift. The alarms to use are
  :mod:`tynys.calibrate.alarms`.
- :func:`track_zero` follows the zero (baseline) of an electrochemical sensor from the lower
  envelope of its signal (the hours with the least gas).

All vectorised over numpy arrays of int64 UTC seconds and float64 values.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import TynysError
from ..timeutil import iso
from .colocation import INTERVALS, average

DAY = 86400


def _csum(a):
    return np.concatenate([[0.0], np.cumsum(a)])


def rolling_refit(time, sensor, reference, *, window: int = 14 * DAY, step: int = DAY, min_n: int = 72) -> dict:
    """OLS reference = a + b·sensor over the *window* [s] ending at each *step*; NaN with < *min_n* pairs.

    Returns arrays ``end`` (window end, exclusive), ``intercept``, ``slope``, ``r2``, ``n``.
    """
    t = np.asarray(time, np.int64)
    order = np.argsort(t, kind="stable")
    t, x, y = t[order], np.asarray(sensor, float)[order], np.asarray(reference, float)[order]
    ok = np.isfinite(x) & np.isfinite(y)
    x0, y0 = np.where(ok, x, 0.0), np.where(ok, y, 0.0)
    cn, cx, cy, cxx, cxy, cyy = (_csum(a) for a in (ok.astype(float), x0, y0, x0 * x0, x0 * y0, y0 * y0))
    ends = np.arange((t[0] // step + 1) * step, t[-1] + step + 1, step)
    hi = np.searchsorted(t, ends)
    lo = np.searchsorted(t, ends - window)
    n = cn[hi] - cn[lo]
    sx, sy, sxx, sxy, syy = (c[hi] - c[lo] for c in (cx, cy, cxx, cxy, cyy))
    with np.errstate(invalid="ignore", divide="ignore"):
        vxx, vxy, vyy = sxx - sx * sx / n, sxy - sx * sy / n, syy - sy * sy / n
        slope = vxy / vxx
        intercept = (sy - slope * sx) / n
        r2 = vxy * vxy / (vxx * vyy)
    bad = n < min_n
    for a in (slope, intercept, r2):
        a[bad] = np.nan
    return {"end": ends, "intercept": intercept, "slope": slope, "r2": r2, "n": n.astype(np.int64)}


def apply_rolling(time, sensor, fits: dict, *, max_age: int = 7 * DAY) -> np.ndarray:
    """Correct each value with the latest valid fit whose window ended at or before it.

    Values more than *max_age* [s] after the last valid fit stay NaN (the calibration is stale).
    """
    t = np.asarray(time, np.int64)
    good = np.isfinite(fits["slope"])
    ends, a, b = fits["end"][good], fits["intercept"][good], fits["slope"][good]
    i = np.searchsorted(ends, t, side="right") - 1
    out = np.full(len(t), np.nan)
    have = i >= 0
    j = i[have]
    fresh = (t[have] - ends[j]) <= max_age
    out_idx = np.flatnonzero(have)[fresh]
    out[out_idx] = a[j[fresh]] + b[j[fresh]] * np.asarray(sensor, float)[out_idx]
    return out


def sandwich(time, sensor, pre: tuple[int, dict], post: tuple[int, dict]) -> np.ndarray:
    """Linear interpolation in time of intercept and slope between a pre- and a post-deployment fit.

    *pre*/*post* are ``(time [s], {"intercept", "slope"})``; before *pre* and after *post* the
    nearer fit holds.
    """
    (t0, c0), (t1, c1) = pre, post
    if t1 <= t0:
        raise TynysError(f"sandwich: the post co-location ({iso(t1)}) must come after the pre one ({iso(t0)})")
    w = np.clip((np.asarray(time, float) - t0) / (t1 - t0), 0.0, 1.0)
    a = (1 - w) * c0["intercept"] + w * c1["intercept"]
    b = (1 - w) * c0["slope"] + w * c1["slope"]
    return a + b * np.asarray(sensor, float)


def _rolling(values, n: int):
    """Right-aligned rolling count, mean and variance over the last *n* points (NaN skipped)."""
    v = np.asarray(values, float)
    ok = np.isfinite(v)
    c = _csum(ok.astype(float))
    s1, s2 = _csum(np.where(ok, v, 0.0)), _csum(np.where(ok, v * v, 0.0))
    hi = np.arange(1, len(v) + 1)
    lo = np.maximum(hi - n, 0)
    cnt = c[hi] - c[lo]
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = (s1[hi] - s1[lo]) / cnt
        var = (s2[hi] - s2[lo]) / cnt - mean * mean
    return cnt, mean, np.maximum(var, 0.0)


def moment_match(sensor, proxy, *, window: int = 72, min_fraction: float = 0.25) -> dict:
    """Miskell moment matching on aligned series (same time grid, e.g. hourly): rolling *window* points.

    Returns ``intercept`` a, ``slope`` b (the sensor's offset and gain relative to the proxy) and
    ``corrected`` = (sensor − a)/b; NaN where either series has less than *min_fraction* of the window.
    """
    s, p = np.asarray(sensor, float), np.asarray(proxy, float)
    both = np.isfinite(s) & np.isfinite(p)
    cs, ms, vs = _rolling(np.where(both, s, np.nan), window)
    _, mp, vp = _rolling(np.where(both, p, np.nan), window)
    with np.errstate(invalid="ignore", divide="ignore"):
        b = np.sqrt(vs / vp)
        a = ms - b * mp
    thin = cs < min_fraction * window
    a[thin] = np.nan
    b[thin] = np.nan
    with np.errstate(invalid="ignore", divide="ignore"):
        corrected = (s - a) / b
    return {"intercept": a, "slope": b, "corrected": corrected}


def network_median(matrix) -> np.ndarray:
    """For each node (row), the median of the *other* nodes at each time: its proxy."""
    m = np.asarray(matrix, float)
    if m.shape[0] < 3:
        raise TynysError(f"a network-median proxy needs at least 3 nodes; have {m.shape[0]}")
    out = np.empty_like(m)
    for i in range(m.shape[0]):  # per node, not per time
        out[i] = np.nanmedian(np.delete(m, i, axis=0), axis=0)
    return out


def kolmogorov_p(d, n1: int, n2: int) -> np.ndarray:
    """Asymptotic p-value of a two-sample KS statistic *d* (Stephens' small-sample adjustment)."""
    en = np.sqrt(n1 * n2 / (n1 + n2))
    lam = (en + 0.12 + 0.11 / en) * np.asarray(d, float)
    j = np.arange(1, 101)[:, None]
    terms = 2 * (-1.0) ** (j - 1) * np.exp(-2.0 * j * j * lam[None, :] ** 2)
    return np.clip(terms.sum(0), 0.0, 1.0)


def ks_rolling(sensor, proxy, *, window: int = 72, step: int = 24) -> dict:
    """Two-sample KS statistic and p-value of sensor vs proxy over windows of *window* points every *step*."""
    s, p = np.asarray(sensor, float), np.asarray(proxy, float)
    ends = np.arange(window, len(s) + 1, step)
    if len(ends) == 0:
        raise TynysError(f"KS drift test needs at least {window} points; have {len(s)}")
    idx = ends[:, None] - window + np.arange(window)
    a, b = s[idx], p[idx]
    both = np.concatenate([a, b], axis=1)
    order = np.argsort(both, axis=1, kind="stable")
    sign = np.where(order < window, 1.0 / window, -1.0 / window)
    d = np.abs(np.cumsum(sign, axis=1)).max(axis=1)
    return {"end_index": ends - 1, "d": d, "p": kolmogorov_p(d, window, window)}


def cusum(z, *, k: float = 0.5, h: float = 5.0) -> dict:
    """Two-sided Page CUSUM of standardised values *z* (NaN skipped).

    S⁺ₜ = max(0, S⁺ₜ₋₁ + zₜ − k), computed without a loop as Cₜ − min(0, min_{s≤t} Cₛ) with
    C = cumsum(z − k); likewise S⁻ for −z. Returns ``up``, ``down`` and the first index each
    crosses *h* (or None).
    """
    z = np.nan_to_num(np.asarray(z, float), nan=0.0)
    out = {}
    for name, v in (("up", z), ("down", -z)):
        c = np.cumsum(v - k)
        s = c - np.minimum(np.minimum.accumulate(c), 0.0)
        out[name] = s
        hit = np.flatnonzero(s > h)
        out[f"{name}_alarm"] = int(hit[0]) if len(hit) else None
    return out


@dataclass
class Alarm:
    """A drift alarm for one node: which test fired, when, and what to do."""

    node: str
    kind: str
    time: int
    statistic: float
    message: str

    def as_dict(self) -> dict:
        return {"node": self.node, "kind": self.kind, "time": iso(self.time), "statistic": self.statistic,
                "message": self.message}


def detect_drift(node: str, time, sensor, reference, *, baseline_end: int, interval: str = "24h",
                 shift: float | None = None, k: float = 0.5, h: float = 5.0, ks_window: int = 14,
                 ks_p: float = 0.001, tz: str | None = None) -> list[Alarm]:
    """Alarms when corrected *sensor* departs from *reference* (co-located or proxy) after *baseline_end*.

    Residuals are averaged to *interval* (daily by default: hourly residuals are strongly
    autocorrelated and would make a CUSUM fire on weather) and standardised by their mean and
    SD before *baseline_end*. CUSUM (k, h in SDs) catches a creeping offset or gain loss; a
    rolling KS test over *ks_window* intervals catches a changed distribution. *shift* [units of
    the series] is the smallest change worth an alarm: CUSUM's k becomes max(k, shift/2/SD), so a
    very steady baseline does not turn a 0.3 ppb wobble into an alarm. Days are those of *tz*'s
    standard time (None: UTC), as in :func:`tynys.calibrate.colocation.average`.
    """
    sec = INTERVALS[interval]
    t, r, _ = average(time, np.asarray(sensor, float) - np.asarray(reference, float), sec,
                      step=int(np.median(np.diff(np.asarray(time)))), tz=tz)
    base = (t < baseline_end) & np.isfinite(r)
    if base.sum() < 7:
        raise TynysError(f"drift detection needs at least 7 {interval} baseline residuals before {iso(baseline_end)}; "
                         f"have {int(base.sum())}")
    mu, sd = float(np.mean(r[base])), float(np.std(r[base], ddof=1))
    sd = sd if sd > 0 else 1e-9
    after = t >= baseline_end
    z = (r[after] - mu) / sd
    ta = t[after]
    alarms = []
    if shift is not None:
        k = max(k, shift / 2 / sd)
    cs = cusum(z, k=k, h=h)
    for side, word in (("up", "reads high"), ("down", "reads low")):
        i = cs[f"{side}_alarm"]
        if i is not None:
            days = (ta[i] - baseline_end) / DAY
            alarms.append(Alarm(node, f"cusum_{side}", int(ta[i]), float(cs[side][i]),
                                f"{node} {word} against the reference "
                                f"(CUSUM {cs[side][i]:.1f} > {h} SD, {days:.0f} days after the baseline): "
                                "refit the calibration (tynys calibrate fit) or check the sensor"))
    both = np.isfinite(r)
    resid_all = np.where(both, r, np.nan)
    if (after & both).sum() >= ks_window:
        base_vals = resid_all[base]
        win = resid_all[after]
        ends = np.arange(ks_window, len(win) + 1)
        idx = ends[:, None] - ks_window + np.arange(ks_window)
        cur = win[idx]
        ref_sample = np.resize(base_vals, (len(ends), len(base_vals)))
        allv = np.concatenate([cur, ref_sample], axis=1)
        order = np.argsort(allv, axis=1, kind="stable")
        step = np.where(order < ks_window, 1.0 / ks_window, -1.0 / len(base_vals))
        d = np.abs(np.cumsum(step, axis=1)).max(axis=1)
        p = kolmogorov_p(d, ks_window, len(base_vals))
        hit = np.flatnonzero((p < ks_p) & np.isfinite(cur).all(axis=1))
        if len(hit):
            i = int(ends[hit[0]] - 1)
            alarms.append(Alarm(node, "ks", int(ta[i]), float(d[hit[0]]),
                                f"{node}: the last {ks_window} {interval} residuals no longer look like the baseline "
                                f"(KS D={d[hit[0]]:.2f}, p={p[hit[0]]:.1e} < {ks_p}): check for drift or a changed site"))
    return sorted(alarms, key=lambda a: a.time)


def track_zero(time, signal, *, window: int = 7 * DAY, quantile: float = 0.02) -> dict:
    """Baseline (zero) of an electrochemical signal: a low *quantile* of the last *window* [s], per day.

    *signal* is the temperature-corrected working electrode (e.g. AAN 803 algorithm 4 WE_c, mV):
    clean-air hours set its floor, so a drifting zero shows as a drifting floor. Returns
    ``day`` (UTC day start) and ``zero`` (same unit as *signal*).
    """
    t = np.asarray(time, np.int64)
    v = np.asarray(signal, float)
    days = np.unique(t // DAY * DAY)
    zero = np.full(len(days), np.nan)
    for i, d in enumerate(days):  # one per day, not per value
        sel = (t >= d + DAY - window) & (t < d + DAY)
        vals = v[sel]
        vals = vals[np.isfinite(vals)]
        if len(vals) >= 24:
            zero[i] = np.quantile(vals, quantile)
    return {"day": days, "zero": zero}
