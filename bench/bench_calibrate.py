"""Calibration at network scale: nodes x 1 year of 1-minute data.

Per node: average 1-minute sensor PM and RH to hours with EPA's 75 % rule, pair with an hourly
reference, fit reference = a + b*PM + c*RH, and score it by 10-fold blocked leave-time-out
validation. Three sides on the same arrays in the same process:

- tynys (``colocate`` + ``models.fit`` + ``validation.cross_validate``, numpy, Gram-matrix folds);
- the baseline: a straightforward pandas resample + statsmodels OLS refit per fold;
- the ceiling: plain numpy that knows what tynys must find out (the minutes lie on one regular
  grid, so an hour is a reshape), the least a machine can do for the same numbers.

Fair: pandas and statsmodels are imported, the nodes' data made and every side run once before
anything is timed; ``run.py``'s ``report.compare`` runs the sides in alternation, their order
rotating every round, median and best over the rounds. All three must agree on the validated
RMSE. Peak memory per node: tracemalloc (numpy, pandas and statsmodels all allocate through it).
"""

from __future__ import annotations

import tracemalloc

import numpy as np

NODES = 10  # per round (their minutes, ~12 MB each, are made once)
ROUNDS = 5
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


def numpy_node(t, pm, rh, rt, ref):
    """The ceiling: the same numbers, knowing the minutes are one regular grid starting on the hour."""
    ok = np.isfinite(pm).reshape(-1, 60)
    n = ok.sum(1)
    with np.errstate(invalid="ignore", divide="ignore"):
        x = np.where(n >= 45, np.where(ok, pm.reshape(-1, 60), 0.0).sum(1) / n, np.nan)
    h = rh.reshape(-1, 60).mean(1)
    keep = np.isfinite(x)
    X = np.column_stack([np.ones(keep.sum()), x[keep], h[keep]])
    y = ref[keep]
    fold = np.arange(len(y)) * FOLDS // len(y)
    G = np.einsum("ni,nj->nij", X, X)
    Gf = np.stack([G[fold == k].sum(0) for k in range(FOLDS)])
    bf = np.stack([(X[fold == k] * y[fold == k, None]).sum(0) for k in range(FOLDS)])
    beta = np.linalg.solve(Gf.sum(0) - Gf, (bf.sum(0) - bf)[..., None])[..., 0]
    pred = np.einsum("ni,ni->n", X, beta[fold])
    return float(np.sqrt(np.mean((pred - y) ** 2)))


SIDES = {"tynys": tynys_node, "pandas+statsmodels": pandas_node, "numpy ceiling": numpy_node}


def run(report):
    import pandas  # noqa: F401  (imports out of the timed section: they cost ~1 s, and are not calibration)
    import statsmodels.api  # noqa: F401
    nodes = [node_data(i) for i in range(NODES)]  # one year of minutes per node, made before any timing
    worst = 0.0
    for args in nodes:
        got = [fn(*args) for fn in SIDES.values()]  # also the warm-up: code loaded, caches filled
        worst = max(worst, max(got) - min(got))
    assert worst < 1e-9, f"the sides disagree on the validated RMSE by {worst} µg/m³: they are not doing the same job"

    def side(fn):
        return lambda: (lambda: [fn(*args) for args in nodes])

    report("calibrate.nodes", NODES, "nodes x 1 year of 1-min data per round")
    report.compare("calibrate", {k: side(fn) for k, fn in SIDES.items()}, work=NODES, per="nodes", repeats=ROUNDS,
                   baseline="pandas+statsmodels", ceiling="numpy ceiling")
    report("calibrate.cv_rmse_max_difference", worst, "µg/m³ between the three sides")
    for k, fn in SIDES.items():  # every side allocates through numpy or Python: tracemalloc sees it all
        tracemalloc.start()
        fn(*nodes[0])
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        report(f"calibrate, one node peak memory [{k}]", peak / 2**20, "MiB (tracemalloc)")
