"""EPA sensor performance metrics, bootstrap intervals, and the EU relative expanded uncertainty.

Conventions follow EPA's reports (EPA/600/R-20/280) as sensortoolkit computes them: the
regression is sensor (y) on reference (x) by ordinary least squares; R² is Pearson r²;
RMSE = √mean((sensor − reference)²); NRMSE = RMSE / mean(reference) × 100 %. SD and CV are
deployment-level precision over intervals where every sensor reports. Inputs are numpy arrays
already paired (see :mod:`tynys.calibrate.colocation`).
"""

from __future__ import annotations

import numpy as np

from ..errors import TynysError


def linear_fit(x, y):
    """OLS ``y = intercept + slope·x`` -> (slope, intercept); the same numbers as ``np.polyfit(x, y, 1)``."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    mx, my = x.mean(), y.mean()
    sxx = np.sum((x - mx) ** 2)
    slope = np.sum((x - mx) * (y - my)) / sxx if sxx > 0 else np.nan
    return slope, my - slope * mx


def deming(x, y, delta: float = 1.0):
    """Deming regression of y on x; *delta* = var(error in y) / var(error in x); 1 = orthogonal.

    Returns (slope, intercept). Both variables carry error, so unlike OLS the slope is not
    diluted towards 0 by noise in x (regression dilution).
    """
    x, y = np.asarray(x, float), np.asarray(y, float)
    mx, my = x.mean(), y.mean()
    sxx, syy, sxy = np.mean((x - mx) ** 2), np.mean((y - my) ** 2), np.mean((x - mx) * (y - my))
    if sxy == 0:
        return np.nan, np.nan
    d = syy - delta * sxx
    slope = (d + np.sqrt(d * d + 4 * delta * sxy * sxy)) / (2 * sxy)
    return slope, my - slope * mx


def regression_stats(reference, sensor) -> dict:
    """Per-sensor EPA statistics of paired values: r2 slope intercept rmse nrmse n bias and ranges."""
    x, y = np.asarray(reference, float), np.asarray(sensor, float)
    n = len(x)
    if n < 3:
        raise TynysError(f"only {n} paired values: regression statistics need at least 3")
    slope, intercept = linear_fit(x, y)
    r = np.corrcoef(x, y)[0, 1] if np.std(x) > 0 and np.std(y) > 0 else np.nan
    rmse = float(np.sqrt(np.mean((y - x) ** 2)))
    return {
        "r2": float(r * r), "slope": float(slope), "intercept": float(intercept), "rmse": rmse,
        "nrmse": float(rmse / x.mean() * 100) if x.mean() != 0 else float("nan"), "n": int(n),
        "bias": float(np.mean(y - x)), "sensor_mean": float(y.mean()), "reference_mean": float(x.mean()),
        "sensor_min": float(y.min()), "sensor_max": float(y.max()),
    }


def precision(matrix) -> dict:
    """Deployment SD and CV [%] of M co-located sensors (rows) over N intervals (columns).

    Only intervals where every sensor has a value count (EPA/sensortoolkit). One sensor -> NaN.
    """
    m = np.asarray(matrix, float)
    if m.ndim != 2 or m.shape[0] < 2:
        return {"sd": float("nan"), "cv": float("nan"), "n_precision": 0}
    full = np.isfinite(m).all(axis=0)
    m = m[:, full]
    M, N = m.shape
    if N == 0:
        return {"sd": float("nan"), "cv": float("nan"), "n_precision": 0}
    sd = float(np.sqrt(np.sum((m - m.mean(axis=0)) ** 2) / (N * M - 1)))
    return {"sd": sd, "cv": float(sd / m.mean() * 100), "n_precision": int(N)}


def deployment_error(matrix, reference) -> dict:
    """Deployment RMSE/NRMSE over intervals where all sensors and the reference have values."""
    m, r = np.asarray(matrix, float), np.asarray(reference, float)
    full = np.isfinite(m).all(axis=0) & np.isfinite(r)
    if not full.any():
        return {"rmse": float("nan"), "nrmse": float("nan"), "n": 0}
    d = m[:, full] - r[full]
    rmse = float(np.sqrt(np.mean(d * d)))
    return {"rmse": rmse, "nrmse": float(rmse / r[full].mean() * 100), "n": int(full.sum())}


def uptime(time, values, interval: int, start: int | None = None, end: int | None = None) -> float:
    """Valid averaged intervals / expected intervals from *start* to *end* (first→last by default) [%]."""
    time, values = np.asarray(time), np.asarray(values, float)
    ok = time[np.isfinite(values)]
    if len(ok) == 0:
        return 0.0
    start = ok.min() if start is None else start
    end = ok.max() if end is None else end
    expected = (end - start) // interval + 1
    return float(100.0 * len(np.unique(ok[(ok >= start) & (ok <= end)])) / expected)


def bootstrap(reference, sensor, *, n_boot: int = 1000, block: int = 1, level: float = 0.95, seed: int = 0) -> dict:
    """Percentile bootstrap intervals for r2, slope, intercept, rmse (moving blocks of *block* intervals).

    Hourly errors are autocorrelated; ``block=24`` resamples whole days so the intervals are not
    falsely narrow. Vectorised: all resamples at once.
    """
    x, y = np.asarray(reference, float), np.asarray(sensor, float)
    n = len(x)
    if n < 3 * max(block, 1):
        raise TynysError(f"bootstrap needs at least {3 * max(block, 1)} pairs for blocks of {block}; have {n}")
    rng = np.random.default_rng(seed)
    nb = -(-n // block)
    starts = rng.integers(0, n - block + 1, size=(n_boot, nb))
    idx = (starts[:, :, None] + np.arange(block)).reshape(n_boot, -1)[:, :n]
    xs, ys = x[idx], y[idx]
    mx, my = xs.mean(axis=1, keepdims=True), ys.mean(axis=1, keepdims=True)
    dx, dy = xs - mx, ys - my
    sxx, syy, sxy = (dx * dx).sum(1), (dy * dy).sum(1), (dx * dy).sum(1)
    with np.errstate(invalid="ignore", divide="ignore"):
        slope = sxy / sxx
        stats = {"slope": slope, "intercept": my[:, 0] - slope * mx[:, 0], "r2": sxy * sxy / (sxx * syy),
                 "rmse": np.sqrt(np.mean((ys - xs) ** 2, axis=1))}
    lo, hi = (1 - level) / 2 * 100, (1 + level) / 2 * 100
    return {k: (float(np.nanpercentile(v, lo)), float(np.nanpercentile(v, hi))) for k, v in stats.items()}


def expanded_uncertainty(reference, sensor, limit_value: float, u_ref: float = 0.0) -> dict:
    """EU relative expanded uncertainty at the limit value (Guide to the Demonstration of Equivalence, 2010).

    Orthogonal regression y = b0 + b1·x (sensor on reference); RSS its residuals;
    u²(y) = RSS/(n−2) − u_ref² + (b0 + (b1 − 1)·LV)²; W = 2·u(y)/LV × 100 %. *u_ref* is the
    reference method's own standard uncertainty at the limit value (0 when unknown: W is then
    an upper estimate of the sensor's share only if u_ref is small).
    """
    x, y = np.asarray(reference, float), np.asarray(sensor, float)
    n = len(x)
    if n < 3:
        raise TynysError(f"expanded uncertainty needs at least 3 pairs; have {n}")
    b1, b0 = deming(x, y, 1.0)
    rss = float(np.sum((y - b0 - b1 * x) ** 2))
    u2 = rss / (n - 2) - u_ref ** 2 + (b0 + (b1 - 1) * limit_value) ** 2
    u = float(np.sqrt(max(u2, 0.0)))
    return {"w_percent": 2 * u / limit_value * 100, "limit_value": limit_value, "orthogonal_slope": float(b1),
            "orthogonal_intercept": float(b0), "rss": rss, "n": n}
