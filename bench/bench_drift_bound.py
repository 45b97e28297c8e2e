"""The information bound for drift alarms: how fast can *any* rule catch a gain or offset change
at one false alarm per sensor-year, on the noise of ``tynys.calibrate.synthetic.PM_NOISE``?

An ideal test is given everything a real rule has to estimate: the calibration (gain g, offset o),
every variance, the day-scale errors' AR(1) φ, the drift's size and direction, and (in the "true
air" column) the air itself, hour by hour, instead of the noisy reference. It watches the hourly
data (not only 24-h means). In reference units, hour h of day d then reads::

    r_dh = (sensor − o)/g − air_dh = air_dh·rel_d + abs_d + ε_dh

with rel_d, abs_d the sensor's day-scale errors (AR(1) across days, φ = day_phi, SD day_rel_sd,
day_abs_sd) and ε the hourly white error (hour_abs_sd² + (hour_rel_sd·air)²; plus reference_sd² in
the "reference only" column, where the reference stands for the air). An offset change Δ adds Δ to
every hour, a gain change δ adds δ·air_dh (the drift's mean; that the sensor's own noise scales
with the gain is not used: it is no part of a calibration).

Everything is Gaussian and linear given the air, so the log-likelihood ratio of "a change of
this signature began at day τ" against "none", with data up to day τ + n − 1, is normal with
variance I(n) and mean ±I(n)/2, I(n) = μ'Σ⁻¹μ (μ the drift's signature, Σ the errors' covariance,
autocorrelation included). Per day the 24 hours reduce to the GLS estimate of (rel_d, abs_d) with
covariance C_d = (Z_d'W_dZ_d)⁻¹, so I(n) = β'(C + K)⁻¹β (Woodbury), K the AR(1) covariance of the
day-scale errors, β the drift per day: 2(60 + n) dimensions, not 24(60 + n).

I(n) grows as c + ι·n: ι per day is the information rate. The sequential bound: for
independent Gaussian increments the CUSUM of the log-likelihood ratio is optimal (Moustakides,
Ann. Stat. 14, 1379, 1986; Lorden, Ann. Math. Stat. 42, 1897, 1971: no rule with ARL₀ ≥ γ has a
shorter worst-case delay); for dependent data the rate ι plays the Kullback-Leibler role (Lai,
IEEE Trans. Inf. Theory 44, 2917, 1998). So the ideal test's mean delay is that of a CUSUM on
N(±√ι/2, 1) days with k = √ι/2 and h set for ARL₀ = γ (Siegmund's approximation,
``alarms.siegmund_arl``), measured here by Monte Carlo from the CUSUM's stationary state (as
``bench_drift`` measures the rules), minus the c/ι days the first days' larger information can
save. γ = 365 days when only the one drift is watched (the most generous case), 4·365 when four
one-sided drifts (gain ±, offset ±) share one false alarm a year.

√I(14): the drift's size in standard errors after 14 days for a test that knew the day it began.
The information is also computed with the reference standing for the air, and with only 24-h
means of it, to show what hourly data can add. Beside the bound, the rules themselves
(``calibration/drift/pm25.json``) on the same drifts begun 70 days after calibration (as in
``bench_drift``) and 370 days after: how much of their delay is the first months' estimation.
"""

from __future__ import annotations

import numpy as np

from tynys.calibrate import alarms, synthetic

PRE, POST = 60, 60          # days before the change (the ideal test's past) and after it
SENSORS = 60                # air paths averaged over (the information varies with the weather)
QUIET = {k: v / 2 for k, v in synthetic.PM_NOISE.items() if k.endswith("_sd") and not k.startswith(("level", "hour_log"))}
CASES = [   # (label, drift kind, size, level factor, noise)
    ("gain −10 % at ×3 (36 µg/m³)", "gain", 0.10, 3.0, None),
    ("offset 2 µg/m³ at ×1 (12 µg/m³)", "offset", 2.0, 1.0, None),
    ("gain −10 % at ×1 (12 µg/m³)", "gain", 0.10, 1.0, None),
    ("offset 2 µg/m³ at ×3 (36 µg/m³)", "offset", 2.0, 3.0, None),
    ("gain −10 % at ×3, half the noise", "gain", 0.10, 3.0, QUIET),
    ("offset 2 µg/m³ at ×1, half the noise", "offset", 2.0, 1.0, QUIET),
]


def information(kind: str, size: float, rise: float, noise: dict | None, *, observed: str = "air",
                daily: bool = False, sensors: int = SENSORS, seed: int = 7) -> np.ndarray:
    """Mean over *sensors* air paths of I(n), n = 1..POST days after the change (known change point)."""
    sim = synthetic.pm_colocation(sensors, days=PRE + POST, rise=rise, rise_day=0, rise_days=0, noise=noise, seed=seed)
    p = sim["noise"]
    air = sim["air"].reshape(sensors, PRE + POST, 24)
    z = air if observed == "air" else sim["reference"].reshape(air.shape)
    v = p["hour_abs_sd"] ** 2 + (p["hour_rel_sd"] * air) ** 2 + (p["reference_sd"] ** 2 if observed != "air" else 0.0)
    signature = size * (z if kind == "gain" else np.ones_like(z))          # per hour
    lag = np.abs(np.subtract.outer(np.arange(PRE + POST), np.arange(PRE + POST)))
    ar = p["day_phi"] ** lag
    if daily:   # one value a day: the 24-h mean, rel_d times the mean air, the hourly errors averaged
        zm = z.mean(2)
        cov = (np.diag(np.ones(PRE + POST))[None] * (v.sum(2) / 576)[:, None, :]
               + (p["day_rel_sd"] ** 2 * ar)[None] * zm[:, :, None] * zm[:, None, :] + p["day_abs_sd"] ** 2 * ar[None])
        mu = signature.mean(2)
    else:       # per day the GLS estimate of (rel_d, abs_d): covariance C_d, the drift as β_d
        w = 1 / v
        a = np.stack([np.stack([(w * z * z).sum(2), (w * z).sum(2)], -1), np.stack([(w * z).sum(2), w.sum(2)], -1)], -2)
        c = np.linalg.inv(a)                                                   # (sensors, days, 2, 2)
        beta = np.linalg.solve(a, np.stack([(w * z * signature).sum(2), (w * signature).sum(2)], -1)[..., None])[..., 0]
        nd = PRE + POST
        cov = np.zeros((sensors, 2 * nd, 2 * nd))
        idx = np.arange(nd)
        for i in range(2):
            for j in range(2):
                cov[:, 2 * idx + i, 2 * idx + j] = c[:, :, i, j]
        cov[:, 0::2, 0::2] += p["day_rel_sd"] ** 2 * ar
        cov[:, 1::2, 1::2] += p["day_abs_sd"] ** 2 * ar
        mu = beta.reshape(sensors, 2 * nd)
    per = 1 if daily else 2
    out = np.empty(POST)
    for n in range(1, POST + 1):   # data up to day PRE + n − 1, the drift from day PRE on
        m = (PRE + n) * per
        vec = np.where(np.arange(m) >= PRE * per, mu[:, :m], 0.0)
        out[n - 1] = float(np.mean(np.einsum("si,si->s", vec, np.linalg.solve(cov[:, :m, :m], vec[..., None])[..., 0])))
    return out


def cusum_delay(rate: float, head: float, arl0: float, *, paths: int = 20000, seed: int = 3) -> tuple[float, float, float]:
    """(mean, p90, share ≤ 14 days) of the delay of the optimal CUSUM for N(√rate, 1) days after a
    change (days after the first changed day), its h set for ARL₀ = *arl0* (Siegmund), started from its in-control stationary state
    (200 days with restarts); *head* days of information the first days add are taken off."""
    mu = np.sqrt(rate)
    k = mu / 2
    lo, hi = 0.01, 200.0
    for _ in range(60):   # bisection: siegmund_arl rises with h
        h = (lo + hi) / 2
        lo, hi = (h, hi) if alarms.siegmund_arl(k, h) < arl0 else (lo, h)
    rng = np.random.default_rng(seed)
    s = np.zeros(paths)
    for _ in range(200):
        s = np.maximum(0, s + rng.standard_normal(paths) - k)
        s[s > h] = 0.0
    delay = np.full(paths, np.nan)
    for d in range(1, 400):
        s = np.maximum(0, s + mu + rng.standard_normal(paths) - k)
        new = np.isnan(delay) & (s > h)
        delay[new] = d
        if not np.isnan(delay).any():
            break
    # counted as bench_drift counts: an alarm on the drift's first day is 0 days
    delay = np.maximum(np.nan_to_num(delay, nan=400) - 1 - head, 0.0)
    return float(delay.mean()), float(np.percentile(delay, 90)), float(np.mean(delay <= 14))


def bound(kind, size, rise, noise, observed="air", daily=False) -> dict:
    """Information per day, √I(14) and the ideal CUSUM's delays (mean, p90, share ≤ 14 d) for one
    drift watched (ARL₀ 365) and four (4·365): ``*_head`` with the first days' extra information
    taken off (the bound), ``*_steady`` without (what the known-parameter CUSUM achieves)."""
    info = information(kind, size, rise, noise, observed=observed, daily=daily)
    tail = np.arange(POST // 2, POST)
    rate, c = np.polyfit(tail + 1, info[tail], 1)
    head = max(c, 0.0) / rate
    out = {"I14": float(info[13]), "rate": float(rate), "head": float(head)}
    for name, arl0 in (("one", 365.0), ("four", 4 * 365.0)):
        out[f"{name}_head"] = cusum_delay(rate, head, arl0)
        out[f"{name}_steady"] = cusum_delay(rate, 0.0, arl0)
    return out


def rules_delay(kind: str, size: float, rise: float, drift_day: int, *, sensors: int = 60, seed: int = 11):
    """(mean, p90) days to the first alarm of the PM rules after a step drift at *drift_day*; 130 when none."""
    doc = alarms.rules("pm25")
    sim = synthetic.pm_colocation(sensors, days=drift_day + 130, rise=rise, drift=kind, drift_size=size,
                                  drift_day=drift_day, seed=seed)
    pairs = alarms.daily_pairs(sim["time"], sim["sensor"], sim["reference"])
    found = alarms.rule_alarms(alarms.residuals(pairs["x"], pairs["y"], **alarms.settings(doc, pairs)), doc)
    hit = np.zeros_like(found["gain"]["up"])
    for f in found.values():
        hit |= f["up"] | f["down"]
    hit[:, :drift_day] = False
    delay = np.where(hit.any(1), hit.argmax(1) - drift_day, 130)
    return float(delay.mean()), float(np.percentile(delay, 90))


def _cell(d: tuple) -> str:
    return f"{d[0]:.1f} / {d[1]:.0f} / {100 * d[2]:.0f} %"


COLUMNS = (("air", "air", False), ("ref", "reference", False), ("daily", "reference", True))


def run(report):
    rows = []
    for label, kind, size, rise, noise in CASES:
        cols = {name: bound(kind, size, rise, noise, observed=obs, daily=daily) for name, obs, daily in COLUMNS}
        for name, b in cols.items():
            report(f"bound {label} [{name}] information per day", b["rate"], "")
            report(f"bound {label} [{name}] sqrt I(14)", np.sqrt(b["I14"]), "SE")
            for key in ("one_head", "four_head", "one_steady", "four_steady"):
                report(f"bound {label} [{name}] ideal delay {key} mean, p90", f"{b[key][0]:.1f}, {b[key][1]:.0f}", "days")
        if noise is None and (kind, rise) in (("gain", 3.0), ("offset", 1.0)):   # the two cases
            for day in (100, 400):
                cols[f"rules{day}"] = rules_delay(kind, -size if kind == "gain" else size, rise, day)
                report(f"bound {label} the rules' delay, drift {day - 30} days after calibration, mean, p90",
                       f"{cols[f'rules{day}'][0]:.1f}, {cols[f'rules{day}'][1]:.0f}", "days")
        rows.append((label, cols))
    print("### the information bound: an ideal test's delay at one false alarm per sensor-year "
          "(mean / p90 days / share caught within 14 days)")
    print("| drift | information per day: hourly, true air / hourly, reference / 24-h means | √I(14) [SE] | "
          "bound, one drift watched | bound, four drifts | known-parameter CUSUM on 24-h means, four drifts | "
          "the rules: drift 70 / 370 days after calibration |")
    print("|---|---|---|---|---|---|---|")
    for label, cols in rows:
        a, d = cols["air"], cols["daily"]
        print(f"| {label} | {a['rate']:.2f} / {cols['ref']['rate']:.2f} / {d['rate']:.2f} | "
              f"{np.sqrt(a['I14']):.1f} / {np.sqrt(cols['ref']['I14']):.1f} / {np.sqrt(d['I14']):.1f} | "
              f"{_cell(a['one_head'])} | {_cell(a['four_head'])} | {_cell(d['four_steady'])} | "
              + (f"{cols['rules100'][0]:.1f} / {cols['rules100'][1]:.0f}; {cols['rules400'][0]:.1f} / {cols['rules400'][1]:.0f} |"
                 if "rules100" in cols else "— |"))
