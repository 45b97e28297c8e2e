"""Synthetic co-locations with known drift, every number that shapes them an argument, so a test
can state what it injected.

- :func:`so2_node`: one electrochemical SO2 node (AAN 803), for the drift-correction tests::

      node = so2_node(days=120, drift_start_day=45)
      node["we_mv"], node["ae_mv"], node["t_c"], node["no2_ppb"], node["so2_ppb"]   # hourly arrays

  Its working electrode follows AAN 803 algorithm 4 run backwards:
  WE_u = WE_e + WE_0 + zero_drift(t) + k''_T(T) + S(t)·SO2 + c_NO2·NO2 + noise, with the SO2-B4
  k''_T table from ``calibration/alphasense``. After *drift_start_day* the zero rises by
  *zero_drift_mv_per_day* and the sensitivity falls by *sensitivity_loss_per_day* (fractions),
  both well beyond the datasheet's yearly limits so the effect shows within months.
- :func:`pm_colocation` and :func:`so2_colocation`: many sensors at once (arrays
  ``(sensors, hours)``) through changing seasons, each beside its own reference, with a step or
  ramp of gain, offset or zero drift: what the drift alarms (:mod:`.alarms`) are measured on.
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


# --- Co-locations for drift-alarm design (issue 17): many sensors at once, level regimes, known drift ---

DAY = 86400
HOUR = 3600

# The PM noise model. Day-scale errors (composition, humidity) are AR(1) across days; hourly errors
# are white; the variance grows with the level (additive plus multiplicative, Rocke & Lorenzato,
# Technometrics 37, 176, 1995). Chosen so that 30-day windows of daily means look like those of the
# real SE-US PurpleAir/AQS co-locations (calibration/examples/purpleair-se-us-daily, Mathieu-Campbell
# et al. AMT 17, 6735, 2024, fitted with an RH term): residual SD about 1.2 µg/m³ (reference units)
# at their median level of 9 µg/m³, lag-1 and lag-2 autocorrelations about 0.30 and 0.06 (a test
# compares the two). Longer windows of the real data are more autocorrelated than this model (their
# calibration also wanders with the seasons); that slow wander is not in it.
PM_NOISE = {
    "level_log_sd": 0.45, "level_phi": 0.7,          # day-to-day weather: log-level AR(1) per day
    "hour_log_sd": 0.25, "hour_phi": 0.8,            # within-day wander: log-level AR(1) per hour
    "diurnal": 0.3, "peak_hour": 21,                 # evening peak (local hour), relative amplitude
    "day_rel_sd": 0.07, "day_abs_sd": 0.9, "day_phi": 0.55,  # sensor's day-scale error [1, µg/m³]
    "hour_rel_sd": 0.10, "hour_abs_sd": 1.5,         # sensor's hourly white error [1, µg/m³]
    "reference_sd": 2.0,                             # reference analyser, hourly [µg/m³]
}


def ar1(rng, shape, phi: float, sd: float) -> np.ndarray:
    """Stationary AR(1) along the last axis with marginal SD *sd*: white noise filtered by φʲ in
    one FFT convolution (no loop over time steps), after a burn-in long enough for φʲ < 1e-9."""
    n = shape[-1]
    if phi <= 0:
        return sd * rng.standard_normal(shape)
    burn = int(np.ceil(np.log(1e-9) / np.log(phi)))
    size = 1 << int(np.ceil(np.log2(n + 2 * burn)))
    e = rng.standard_normal((*shape[:-1], n + burn)) * sd * np.sqrt(1 - phi * phi)
    kernel = phi ** np.arange(burn)
    out = np.fft.irfft(np.fft.rfft(e, size) * np.fft.rfft(kernel, size), size)
    return out[..., burn:burn + n]


def _ramp(day, start: float, length: float) -> np.ndarray:
    """0 before *start*, 1 after *start* + *length*, linear between (a step when *length* is 0)."""
    if length <= 0:
        return (day >= start).astype(float)
    return np.clip((day - start) / length, 0.0, 1.0)


def pm_colocation(sensors: int = 1, *, days: int = 395, level: float = 12.0, rise: float = 1.0,
                  rise_day: float = 60.0, rise_days: float = 30.0, gain: float = 0.8, offset: float = 2.0,
                  drift: str | None = None, drift_size: float = 0.0, drift_day: float = 100.0,
                  drift_ramp_days: float = 0.0, noise: dict | None = None, start: int = 1_780_272_000,
                  utc_offset_h: int = 6, outages_per_year: float = 0.0, seed: int = 1) -> dict:
    """Hourly PM2.5 co-locations of *sensors* sensors, each beside its own reference [µg/m³].

    The air: *level* times a seasonal factor going from 1 to *rise* (×1–×3: Oskemen's winter) over
    *rise_days* from *rise_day*, times a day-scale and an hourly log-normal AR(1) and a diurnal cycle.
    The sensor reads ``gain·(air·(1 + day_rel) + day_abs + hourly error) + offset`` (``PM_NOISE``);
    the reference reads the air plus its own noise. *drift* ``"gain"`` multiplies the sensor's
    gain by 1 + *drift_size* from *drift_day*; ``"offset"`` adds *drift_size* [µg/m³, in reference
    units] to what the calibrated sensor would read; *drift_ramp_days* > 0 makes it a ramp.
    *outages_per_year* > 0 takes each sensor offline (NaN) that often on average, 1–10 days each time.
    Arrays are ``(sensors, hours)``; ``time`` is shared; start default 2026-06-01 UTC.
    """
    p = dict(PM_NOISE, **(noise or {}))
    rng = np.random.default_rng(seed)
    n = days * 24
    t = start + HOUR * np.arange(n, dtype=np.int64)
    day = np.arange(n) / 24.0
    local_hour = (np.arange(n) + utc_offset_h) % 24
    season = 1.0 + (rise - 1.0) * _ramp(day, rise_day, rise_days)
    log_level = (np.repeat(ar1(rng, (sensors, days), p["level_phi"], p["level_log_sd"]), 24, axis=1)
                 + ar1(rng, (sensors, n), p["hour_phi"], p["hour_log_sd"])
                 - (p["level_log_sd"] ** 2 + p["hour_log_sd"] ** 2) / 2)   # mean-preserving
    air = level * season * np.exp(log_level) * (1 + p["diurnal"] * np.cos(2 * np.pi * (local_hour - p["peak_hour"]) / 24))
    reference = air + p["reference_sd"] * rng.standard_normal((sensors, n))
    day_rel = np.repeat(ar1(rng, (sensors, days), p["day_phi"], p["day_rel_sd"]), 24, axis=1)
    day_abs = np.repeat(ar1(rng, (sensors, days), p["day_phi"], p["day_abs_sd"]), 24, axis=1)
    hourly = rng.standard_normal((sensors, n)) * np.sqrt(p["hour_abs_sd"] ** 2 + (p["hour_rel_sd"] * air) ** 2)
    on = _ramp(day, drift_day, drift_ramp_days)
    g = gain * (1 + (drift_size * on if drift == "gain" else 0.0))
    o = offset + (gain * drift_size * on if drift == "offset" else 0.0)
    if drift not in (None, "gain", "offset"):
        raise ValueError(f"drift must be None, 'gain' or 'offset', not {drift!r}")
    sensor = g * (air * (1 + day_rel) + day_abs + hourly) + o
    if outages_per_year > 0:   # drawn last, so the same seed gives the same air and errors with or without them
        first = rng.random((sensors, days)) < outages_per_year / 365
        length = rng.integers(1, 11, (sensors, days))
        off = np.zeros((sensors, days), bool)
        for k in range(10):   # day k of every outage at once
            off[:, k:] |= (first & (length > k))[:, :days - k]
        sensor = np.where(np.repeat(off, 24, axis=1), np.nan, sensor)
    return {"time": t, "air": air, "reference": reference, "sensor": sensor, "season": season,
            "gain": gain, "offset": offset, "drift": drift, "drift_size": drift_size,
            "drift_start": int(start + drift_day * DAY) if drift else None, "noise": p}


# Oskemen-like seasons for the SO2 node: January about −15 °C, July about +20 °C (the East
# Kazakhstan normals are of this size, e.g. Aksuat 1991–2020: −18.4 / +22.1 °C), a ±5 °C day, and
# weather anomalies (AR(1) per day). SO2 plumes come more often in the heating season.
OSKEMEN = {"annual_mean_c": 2.5, "annual_amplitude_c": 17.5, "coldest_day_of_year": 20, "diurnal_c": 5.0,
           "weather_sd_c": 4.0, "weather_phi": 0.7, "plumes_per_day": 1.5, "plume_peak_ppb": 25.0,
           "heating_factor": 3.0, "no2_ppb": 15.0}


def so2_colocation(sensors: int = 1, *, days: int = 395, start: int = 1_780_272_000, sheet: dict | None = None,
                   climate: dict | None = None, kpp_scale_sd: float = 0.3, noise_mv: float = 0.75,
                   day_zero_sd_mv: float = 0.3, day_zero_phi: float = 0.5, reference_sd_ppb: float = 1.0, drift: str | None = None, drift_size: float = 0.0,
                   drift_day: float = 100.0, drift_ramp_days: float = 0.0, seed: int = 1) -> dict:
    """A year of hourly SO2-B4 nodes beside an SO2 analyser, through the seasons (default from June 1st).

    The working electrode follows AAN 803 algorithm 4 run backwards, as :func:`so2_node`, except
    that each unit's zero follows ``u·k''_T(T)`` with its own scale u ~ N(1, *kpp_scale_sd*): the
    datasheet's zero change from 20 to 50 °C spans +10 to +30 nA for an SO2-B4, so the published
    table is typical, not exact. Correcting with the table (``ppb``) leaves ``(u−1)·k''_T(T)/S``,
    which changes with the season. Hourly noise is the ISB's (*noise_mv*: the datasheet's ±2σ of
    5 ppb); *day_zero_sd_mv* is a zero error that lasts days (AR(1), *day_zero_phi*): humidity
    transients and an imperfect NO2 cross-sensitivity correction (an assumption of this model, not
    a datasheet value). *drift* ``"zero"`` shifts WE−AE by *drift_size* [mV] from
    *drift_day*; ``"gain"`` multiplies the sensitivity by 1 + *drift_size*. Arrays ``(sensors, hours)``.
    """
    from .corrections import apply as apply_correction
    sheet = dict(SHEET, **(sheet or {}))
    c = dict(OSKEMEN, **(climate or {}))
    rng = np.random.default_rng(seed)
    n = days * 24
    t = start + HOUR * np.arange(n, dtype=np.int64)
    day = np.arange(n) / 24.0
    stamp = t.astype("datetime64[s]")
    doy = (stamp - stamp.astype("datetime64[Y]")).astype("timedelta64[h]").astype(float) / 24.0   # day of year
    local_hour = (np.arange(n) + 6) % 24
    seasonal = c["annual_mean_c"] - c["annual_amplitude_c"] * np.cos(2 * np.pi * (doy - c["coldest_day_of_year"]) / 365.25)
    weather = np.repeat(ar1(rng, (sensors, days), c["weather_phi"], c["weather_sd_c"]), 24, axis=1)
    t_c = seasonal + weather + c["diurnal_c"] * np.sin(2 * np.pi * (local_hour - 9) / 24)
    cold = (1 - np.cos(2 * np.pi * (doy - c["coldest_day_of_year"] - 182.6) / 365.25)) / 2   # 1 in winter, 0 in summer
    rate = c["plumes_per_day"] / 24 * (1 + (c["heating_factor"] - 1) * cold)
    so2 = 1.0 + 2.0 * rng.random((sensors, n))
    starts = rng.random((sensors, n)) < rate
    peaks = np.where(starts, rng.lognormal(np.log(c["plume_peak_ppb"]), 0.8, (sensors, n)), 0.0)
    decay = rng.integers(1, 6, (sensors, n))   # e-folding 1–5 h, one class per plume
    size = 1 << int(np.ceil(np.log2(n + 48)))
    lag = np.arange(48)
    for dc in range(1, 6):   # five decay classes, each one FFT convolution over all sensors
        pulses = np.where(decay == dc, peaks, 0.0)
        so2 += np.fft.irfft(np.fft.rfft(pulses, size) * np.fft.rfft(np.exp(-lag / dc), size), size)[:, :n]
    no2 = np.clip(c["no2_ppb"] + 10 * np.sin(2 * np.pi * (local_hour - 8) / 24) + 3 * rng.standard_normal((sensors, n)), 1.0, None)
    table = load("alphasense/aan803-temperature.json")["tables"][sheet["sensor_model"]]
    kpp = temperature_factor(table["kpp_t_mv"], t_c)
    u = 1 + kpp_scale_sd * rng.standard_normal((sensors, 1))
    on = _ramp(day, drift_day, drift_ramp_days)
    if drift not in (None, "zero", "gain"):
        raise ValueError(f"drift must be None, 'zero' or 'gain', not {drift!r}")
    zero = drift_size * on if drift == "zero" else 0.0
    gain = 1 + (drift_size * on if drift == "gain" else 0.0)
    day_zero = np.repeat(ar1(rng, (sensors, days), day_zero_phi, day_zero_sd_mv), 24, axis=1)
    we = (sheet["we_e_mv"] + sheet["we_0_mv"] + zero + day_zero + u * kpp + sheet["sensitivity_mv_ppb"] * gain * so2
          + sheet["no2_cross_mv_ppb"] * no2 + noise_mv * rng.standard_normal((sensors, n)))
    ae = sheet["ae_e_mv"] + sheet["ae_0_mv"] + 0.2 * (t_c - 20) + noise_mv * rng.standard_normal((sensors, n))
    ppb = apply_correction("aan803_alg4", we_mv=we, t_c=t_c, no2_ppb=no2, params=sheet)
    return {"time": t, "so2_ppb": so2, "reference": so2 + reference_sd_ppb * rng.standard_normal((sensors, n)),
            "sensor": ppb, "we_mv": we, "ae_mv": ae, "t_c": t_c, "no2_ppb": no2, "sheet": sheet, "kpp_scale": u[:, 0],
            "drift": drift, "drift_size": drift_size, "drift_start": int(start + drift_day * DAY) if drift else None}
