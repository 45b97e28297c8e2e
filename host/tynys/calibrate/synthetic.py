"""A synthetic electrochemical SO2 node built from the AAN 803 model, with known drift.

Used by the tests and the docs to show that drift is detected and corrected; every number that
shapes it is an argument, so a test can state what it injected::

    from tynys.calibrate.synthetic import so2_node
    node = so2_node(days=120, drift_start_day=45)
    node["we_mv"], node["ae_mv"], node["t_c"], node["no2_ppb"], node["so2_ppb"]   # hourly arrays

The working electrode follows AAN 803 algorithm 4 run backwards:
WE_u = WE_e + WE_0 + zero_drift(t) + k''_T(T) + S(t)·SO2 + c_NO2·NO2 + noise, with the SO2-B4
k''_T table from ``calibration/alphasense``. After *drift_start_day* the zero rises by
*zero_drift_mv_per_day* and the sensitivity falls by *sensitivity_loss_per_day* (fractions),
both well beyond the datasheet's yearly limits so the effect shows within months.
"""

from __future__ import annotations

import numpy as np

from .corrections import temperature_factor
from .data import load

SHEET = {"sensor_model": "so2-b4", "we_e_mv": 270.0, "ae_e_mv": 275.0, "we_0_mv": 12.0, "ae_0_mv": 8.0,
         "sensitivity_mv_ppb": 0.30, "no2_cross_mv_ppb": -0.45}


def so2_node(*, days: int = 120, drift_start_day: float = 45.0, zero_drift_mv_per_day: float = 0.1,
             sensitivity_loss_per_day: float = 0.002, noise_mv: float = 0.3, start: int = 1_767_225_600,
             seed: int = 1, sheet: dict | None = None) -> dict:
    """Hourly truth and raw WE/AE [mV] for a smelter-town SO2 node (start default 2026-01-01 UTC)."""
    sheet = dict(SHEET, **(sheet or {}))
    rng = np.random.default_rng(seed)
    n = days * 24
    t = start + 3600 * np.arange(n, dtype=np.int64)
    day = np.arange(n) / 24.0
    hour = np.arange(n) % 24
    # Background 1–3 ppb plus plumes: ~1.5 per day, exponential decay over a few hours, log-normal peaks.
    so2 = 1.0 + 2.0 * rng.random(n)
    starts = np.flatnonzero(rng.random(n) < 1.5 / 24)
    peaks = rng.lognormal(np.log(25.0), 0.8, len(starts))
    decay = rng.uniform(1.0, 5.0, len(starts))
    lag = np.arange(48)
    for s, pk, dc in zip(starts, peaks, decay):  # per plume (tens), not per hour
        seg = slice(s, min(s + 48, n))
        so2[seg] += pk * np.exp(-lag[: seg.stop - s] / dc)
    no2 = 15 + 10 * np.sin(2 * np.pi * (hour - 8) / 24) + 3 * rng.standard_normal(n)
    no2 = np.clip(no2, 1.0, None)
    t_c = 5 + 15 * day / days + 6 * np.sin(2 * np.pi * (hour - 9) / 24) + rng.standard_normal(n)
    since = np.clip(day - drift_start_day, 0.0, None)
    zero = zero_drift_mv_per_day * since
    gain = 1.0 - sensitivity_loss_per_day * since
    table = load("alphasense/aan803-temperature.json")["tables"][sheet["sensor_model"]]
    kpp = temperature_factor(table["kpp_t_mv"], t_c)
    we = (sheet["we_e_mv"] + sheet["we_0_mv"] + zero + kpp + sheet["sensitivity_mv_ppb"] * gain * so2
          + sheet["no2_cross_mv_ppb"] * no2 + noise_mv * rng.standard_normal(n))
    ae = sheet["ae_e_mv"] + sheet["ae_0_mv"] + 0.2 * (t_c - 20) + noise_mv * rng.standard_normal(n)
    return {"time": t, "so2_ppb": so2, "no2_ppb": no2, "t_c": t_c, "we_mv": we, "ae_mv": ae, "sheet": sheet,
            "zero_drift_mv": zero, "gain": gain, "drift_start": int(start + drift_start_day * 86400)}
