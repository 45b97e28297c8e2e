"""Calibration at network scale: 100 nodes x 1 year of 1-minute data.

Per node: average 1-minute sensor PM and RH to hours with EPA's 75 % rule, pair with an hourly
reference, fit reference = a + b*PM + c*RH, and score it by 10-fold blocked leave-time-out
validation. Tynys (numpy, Gram-matrix folds) against a straightforward pandas resample +
statsmodels OLS refit per fold, on the same arrays in the same process. Both must agree on the
validated RMSE. Peak memory is traced (tracemalloc) for one node of each.
"""

from __future__ import annotations

import time
import tracemalloc

import numpy as np

NODES = 100
MINUTES = 365 * 24 * 60
FOLDS = 10
T0 = 1_735_689_600  # 2025-01-01 UTC


def node_data(i: int):
    rng = np.random.default_rng(i)
    hours = MINUTES // 60
    ref = rng.gamma(2.0, 6.0, hours)                               # hourly reference PM2.5
    rh_h = np.clip(60 + 25 * np.sin(np.arange(hours) * 2 * np.pi / 24) + rng.normal(0, 5, hours), 5, 99)
    minute_ref = np.repeat(ref, 60)
    rh = np.repeat(rh_h, 60) + rng.normal(0, 1, MINUTES)
    pm = (1.5 + 0.01 * i) * minute_ref + 0.05 * rh + rng.normal(0, 3, MINUTES)
    gone = rng.random(MINUTES) < 0.03                               # 3 % missing minutes
    pm[gone] = np.nan
    t = T0 + 60 * np.arange(MINUTES, dtype=np.int64)
    return t, pm, rh, T0 + 3600 * np.arange(hours, dtype=np.int64), ref


def tynys_node(t, pm, rh, rt, ref):
    from tynys.calibrate import models, validation
    from tynys.calibrate.colocation import colocate
    p = colocate(t, pm, rt, ref, "1h", extras={"rh": (t, rh)}, sensor_step=60, ref_step=3600)
    data = {"x": p.sensor, "rh": p.extras["rh"]}
    models.fit("mlr_rh", data, p.reference)
    pred = validation.cross_validate("mlr_rh", data, p.reference, validation.blocked_folds(p.time, FOLDS))
    ok = np.isfinite(pred)
    return float(np.sqrt(np.mean((pred[ok] - p.reference[ok]) ** 2)))


def pandas_node(t, pm, rh, rt, ref):
    import pandas as pd
    import statsmodels.api as sm
    df = pd.DataFrame({"pm": pm, "rh": rh}, index=pd.to_datetime(t, unit="s"))
    g = df.resample("1h")
    mean, count = g.mean(), g.count()
    hourly = mean.where(count >= 45)
    r = pd.Series(ref, index=pd.to_datetime(rt, unit="s"), name="ref")
    d = hourly.join(r, how="inner").dropna()
    X = sm.add_constant(d[["pm", "rh"]])
    sm.OLS(d["ref"], X).fit()
    fold = np.arange(len(d)) * FOLDS // len(d)
    pred = np.empty(len(d))
    for k in range(FOLDS):
        te = fold == k
        fit = sm.OLS(d["ref"][~te], X[~te]).fit()
        pred[te] = fit.predict(X[te])
    return float(np.sqrt(np.mean((pred - d["ref"].to_numpy()) ** 2)))


def _peak(fn, args) -> float:
    tracemalloc.start()
    fn(*args)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 2**20


def run(report):
    ours = base = 0.0
    worst = 0.0
    for i in range(NODES):  # one node's minute data in memory at a time, as a host would stream them
        args = node_data(i)
        s = time.perf_counter()
        a = tynys_node(*args)
        ours += time.perf_counter() - s
        s = time.perf_counter()
        b = pandas_node(*args)
        base += time.perf_counter() - s
        worst = max(worst, abs(a - b))
    report("calibrate.nodes", NODES, "nodes x 1 year of 1-min data")
    report("calibrate.tynys_fit_cv", ours, "s")
    report("calibrate.pandas_statsmodels_fit_cv", base, "s")
    report("calibrate.speedup", base / ours, "x (pandas+statsmodels time / tynys time)")
    report("calibrate.cv_rmse_max_difference", worst, "µg/m³ between the two implementations")
    args = node_data(0)
    report("calibrate.tynys_peak_per_node", _peak(tynys_node, args), "MiB (tracemalloc)")
    report("calibrate.pandas_peak_per_node", _peak(pandas_node, args), "MiB (tracemalloc)")
    import resource
    report("calibrate.process_max_rss", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "MiB")
