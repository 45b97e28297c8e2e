"""AQI: index values per second against python-aqi (per value, same run), and the NowCast for
1,000 nodes x 1 year of hours (time and peak memory).

python-aqi scores one value per call (Decimal arithmetic); timing it on 10 million values would
take minutes, so a random sample of its calls is timed and the rate extrapolated — the sample
size is printed with the figures. Both score the same concentrations on the same US table
(python-aqi ships the 2012 PM2.5 table, Tynys's us-epa version "2013"), and the run checks how
many sampled values the two score differently (python-aqi rounds half-to-even).
"""

from __future__ import annotations

import time
import tracemalloc

import numpy as np

from tynys.aqi import nowcast, sub_index

N_VALUES = 10_000_000
N_SAMPLE = 20_000  # python-aqi calls timed
NODES, HOURS = 1_000, 8_760


def _peak(fn):
    tracemalloc.start()
    tracemalloc.reset_peak()
    t = time.perf_counter()
    out = fn()
    dt = time.perf_counter() - t
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return out, dt, peak


def run(report):
    rng = np.random.default_rng(2024)
    # PM2.5 24-h means as a city sees them: mostly clean, a long smoky tail, one decimal.
    c = np.round(rng.gamma(1.6, 14.0, N_VALUES), 1)

    s, dt, peak = _peak(lambda: sub_index(c, "pm25", "24h", version="2013"))
    rate = N_VALUES / dt
    report("aqi.tynys.values", N_VALUES, "values")
    report("aqi.tynys.time", dt, "s")
    report("aqi.tynys.rate", rate, "values/s")
    report("aqi.tynys.peak_memory", peak / 2**20, "MiB")

    try:
        import aqi as python_aqi  # PyPI python-aqi 0.6.1 (the `bench` extra)
    except ImportError:
        report("aqi.python_aqi", "not installed (pip install -e '.[bench]')")
        return
    idx = rng.choice(np.flatnonzero(c <= 500.4), N_SAMPLE, replace=False)  # it raises above its table
    texts = [f"{x:.1f}" for x in c[idx]]
    t = time.perf_counter()
    theirs = [python_aqi.to_iaqi(python_aqi.POLLUTANT_PM25, x, algo=python_aqi.ALGO_EPA) for x in texts]
    dt_py = time.perf_counter() - t
    py_rate = N_SAMPLE / dt_py
    report("aqi.python_aqi.sample", N_SAMPLE, "values timed")
    report("aqi.python_aqi.rate", py_rate, "values/s")
    report("aqi.python_aqi.extrapolated_time_10M", N_VALUES / py_rate, "s")
    report("aqi.ratio_tynys_over_python_aqi", rate / py_rate, "x")
    differ = int(np.sum(np.array([float(v) for v in theirs]) != s.index[idx]))
    report("aqi.python_aqi.disagreements", differ, f"of {N_SAMPLE} (half-even rounding)")

    hourly = rng.gamma(1.6, 14.0, (NODES, HOURS))
    hourly[rng.random(hourly.shape) < 0.05] = np.nan  # 5 % missing hours
    nc, dt, peak = _peak(lambda: nowcast(hourly))
    report("aqi.nowcast.shape", f"{NODES} nodes x {HOURS} hours")
    report("aqi.nowcast.time", dt, "s")
    report("aqi.nowcast.rate", NODES * HOURS / dt, "node-hours/s")
    report("aqi.nowcast.peak_memory", peak / 2**20, "MiB")
    report("aqi.nowcast.input_size", hourly.nbytes / 2**20, "MiB")
    _, dt2, _ = _peak(lambda: sub_index(nc.concentration, "pm25", "24h"))
    report("aqi.nowcast_to_aqi.time", dt2, "s")
