"""AQI: US PM2.5 index values per second with all outputs (index, category, status, the
concentration used; the bound where a value has one), against the baselines and the ceiling
measured in the same run, in alternation:

- baseline **reference**: the same scoring by row search and interpolation (Tynys before the
  lookup tables, ``breakpoints.score(..., lookup=False)``), on the same 10 million values;
- baseline **python-aqi** (PyPI 0.6.1, Decimal arithmetic, one value per call): a random sample
  of its calls, the rate extrapolated; it ships the 2012 PM2.5 table, so it is compared with
  Tynys' us-epa 2013 version, and the run counts the sampled values the two score differently
  (python-aqi rounds half-to-even);
- ceiling **plain numpy lookup**: the least a lookup can do — quantise and take the index from a
  precomputed array (one output of five, no checks), ``lut.take((c * 10 + 1e-6).astype(intp))``.

Then the peak memory of scoring 10 million values (a child process each), and the NowCast for
1,000 nodes x 1 year of hours.
"""

from __future__ import annotations

import numpy as np

from tynys.aqi import breakpoints, nowcast, sub_index, tables

N_VALUES = 10_000_000
N_SAMPLE = 20_000  # python-aqi calls timed
NODES, HOURS = 1_000, 8_760


def _values(n: int = N_VALUES) -> np.ndarray:
    """PM2.5 24-h means as a city sees them: mostly clean, a long smoky tail, one decimal."""
    return np.round(np.random.default_rng(2024).gamma(1.6, 14.0, n), 1)


def run(report):
    c = _values()
    std = tables.load("us-epa", version="2024")
    t = std.table("pm25", "24h")
    lut = breakpoints._plan(t, std, True).index[1:-1]  # the lookup's own index array
    assert np.array_equal(sub_index(c[:100_000], "pm25", "24h", version="2024").index,
                          breakpoints.score(c[:100_000], t, std, lookup=False).index, equal_nan=True)
    report.compare("aqi pm25 (index, category, status, concentration)", {
        "tynys": lambda: lambda: sub_index(c, "pm25", "24h", version="2024"),
        "reference": lambda: lambda: breakpoints.score(c, t, std, lookup=False),
        "plain numpy lookup": lambda: lambda: lut.take(np.minimum((c * 10 + 1e-6).astype(np.intp), len(lut) - 1)),
    }, work=N_VALUES, per="values", repeats=5, baseline="reference", ceiling="plain numpy lookup", warmup=True)
    report.peak_memory("aqi pm25 10M values", {
        "tynys": lambda: (lambda: sub_index(c, "pm25", "24h", version="2024")),
        "reference": lambda: (lambda: breakpoints.score(c, t, std, lookup=False)),
    }, baseline="reference")
    report("aqi.results_size", (c.nbytes * 2 + c.size * 2) / 2**20, "MiB (index and concentration float64, category and status int8)")
    _python_aqi(report, c)
    _nowcast(report)


def _python_aqi(report, c):
    try:
        import aqi as python_aqi  # PyPI python-aqi 0.6.1 (the `bench` extra)
    except ImportError:
        report("aqi.python_aqi", "not installed (pip install -e '.[bench]')")
        return
    rng = np.random.default_rng(7)
    idx = rng.choice(np.flatnonzero(c <= 500.4), N_SAMPLE, replace=False)  # it raises above its table
    texts = [f"{x:.1f}" for x in c[idx]]
    sample = c[idx]
    times = report.compare("aqi pm25 vs python-aqi (us-epa 2013 table)", {
        "tynys": lambda: lambda: sub_index(c, "pm25", "24h", version="2013"),
        "python-aqi": lambda: lambda: [python_aqi.to_iaqi(python_aqi.POLLUTANT_PM25, x, algo=python_aqi.ALGO_EPA)
                                       for x in texts],
    }, work={"tynys": N_VALUES, "python-aqi": N_SAMPLE}, per="values", repeats=3, baseline="python-aqi")
    report("aqi.python_aqi.extrapolated_time_10M", N_VALUES * min(times["python-aqi"]) / N_SAMPLE, "s")
    theirs = np.array([float(python_aqi.to_iaqi(python_aqi.POLLUTANT_PM25, x, algo=python_aqi.ALGO_EPA)) for x in texts])
    differ = int(np.sum(theirs != sub_index(sample, "pm25", "24h", version="2013").index))
    report("aqi.python_aqi.disagreements", differ, f"of {N_SAMPLE} sampled values (half-even rounding)")


def _nowcast(report):
    rng = np.random.default_rng(2024)
    hourly = rng.gamma(1.6, 14.0, (NODES, HOURS))
    hourly[rng.random(hourly.shape) < 0.05] = np.nan  # 5 % missing hours
    report.compare("aqi nowcast 1,000 nodes x 8,760 hours", {"tynys": lambda: lambda: nowcast(hourly)},
                   work=NODES * HOURS, per="node-hours", repeats=3)
    report.peak_memory("aqi nowcast", {"tynys": lambda: (lambda: nowcast(hourly))})
    report("aqi.nowcast.input_size", hourly.nbytes / 2**20, "MiB")
