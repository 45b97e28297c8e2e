"""Drift alarms: in-control average run length (ARL) and detection delay per rule and level regime.

Simulated with ``tynys.calibrate.synthetic`` (hourly co-locations, 24-h evaluation), many sensors
at once. The rules are those in ``calibration/drift/<pollutant>.json``: this benchmark is how
their ``arl_days`` and ``delay_days`` were measured, and re-measures them.

- ARL: every sensor watched for a year after its 30 calibration days; a CUSUM restarts after an
  alarm, so alarms per sensor-year estimate 1/ARL. "both" counts either rule, either direction.
  Days a sensor is offline (the outages regime) are not counted as watched.
- Delay: a step drift from day 100 (70 days after calibration, the ×3 rise complete), or a ramp
  from then on (a drift that keeps growing, as a sensor ages); days from its start to the first
  alarm of any rule; "never" (counted as 130 days in the mean) when none.
- Regimes: the pollution level steady, rising ×2 or ×3, or falling to a third; PM also at half
  the sensor's and reference's noise ("quiet"), to show how the delays, not the false-alarm
  rate, depend on the noise.
- Baseline: the previous alarms (``tynys.calibrate.drift.detect_drift``: a fixed 30-day fit of
  reference on sensor, CUSUM k = 0.5, h = 5 SD and a KS test on daily residuals), on the same
  in-control sensors, in the same process. Its ARL is total days watched over first alarms.

- Error models (why the rules prewhiten with an AR(1) plus white noise, an ARMA(1, 1)): the same
  PM rules with the daily errors' memory modelled as that, as a plain AR(1), or not at all
  (``alarms.ERROR_MODELS``), their h scaled ×0.85, ×1, ×1.15 so that delays can be compared at
  equal false-alarm rates; in-control also with sensors whose day-scale errors persist longer
  than the model's (φ = 0.8, 0.9 instead of 0.55: the real co-locations' residuals are more
  persistent over months than in 30-day windows); and the alarms per sensor-year on the real
  SE-US PurpleAir/AQS co-locations (``calibration/examples/purpleair-se-us-daily``: not a
  false-alarm rate, their calibrations do change with the seasons).

Sizes: ``BENCH_DRIFT_SCALE=0.25`` for a quick look (fewer sensors, wider Monte-Carlo error).
"""

from __future__ import annotations

import os
import platform
from pathlib import Path

import numpy as np

from tynys.calibrate import alarms, drift, inputs, models, synthetic

SCALE = float(os.environ.get("BENCH_DRIFT_SCALE", "1"))
WATCH = 365          # days watched after the calibration days
DRIFT_DAY = 100
JUNE, DECEMBER = 1_780_272_000, 1_796_083_200   # 2026-06-01, 2026-12-01 UTC

QUIET = {k: v / 2 for k, v in synthetic.PM_NOISE.items() if k.endswith("_sd") and not k.startswith(("level", "hour_log"))}
PM_REGIMES = {   # name: (label, pm_colocation arguments)
    "x1": ("steady 12 µg/m³", {"level": 12.0, "rise": 1.0}),
    "x2": ("rises ×2 from day 60", {"level": 12.0, "rise": 2.0}),
    "x3": ("rises ×3 from day 60", {"level": 12.0, "rise": 3.0}),
    "fall": ("falls 36 → 12 µg/m³ from day 60", {"level": 36.0, "rise": 1 / 3}),
    "x1-quiet": ("steady, half the sensor's and reference's noise", {"level": 12.0, "rise": 1.0, "noise": QUIET}),
    "x3-quiet": ("rises ×3, half the noise", {"level": 12.0, "rise": 3.0, "noise": QUIET}),
    "x3-outages": ("rises ×3, the sensor offline 6 times a year for 1–10 days", {"level": 12.0, "rise": 3.0,
                                                                               "outages_per_year": 6.0}),
}
PM_DRIFTS = [("gain", -0.10, "gain −10 %"), ("gain", 0.10, "gain +10 %"), ("offset", 2.0, "offset +2 µg/m³"),
             ("offset", -2.0, "offset −2 µg/m³")]
SO2_REGIMES = {"summer": ("calibrated in June", {"start": JUNE}), "winter": ("calibrated in December", {"start": DECEMBER})}
SO2_DRIFTS = [("zero", 0.6, "zero +0.6 mV (+2 ppb)"), ("zero", -0.6, "zero −0.6 mV (−2 ppb)"), ("gain", -0.10, "gain −10 %")]
# Drifts that grow for the 130 days simulated (ageing), from the same day: (kind, size at 130 days, label)
PM_RAMPS = [("gain", -0.325, "gain −0.25 %/day"), ("offset", 6.5, "offset +0.05 µg/m³/day")]
SO2_RAMPS = [("zero", 2.6, "zero +0.02 mV/day (+0.067 ppb/day)")]


def _n(base: int) -> int:
    return max(10, int(base * SCALE))


def _pairs(pollutant: str, sim: dict) -> dict:
    cov = {"aan803_kpp_t": alarms.aan803_zero_term(sim["t_c"], sim["sheet"])} if pollutant == "so2" else None
    return alarms.daily_pairs(sim["time"], sim["sensor"], sim["reference"], covariates=cov)


def _residuals(doc: dict, pairs: dict) -> dict:
    return alarms.residuals(pairs["x"], pairs["y"], **alarms.settings(doc, pairs))


def _simulate(pollutant: str, n: int, days: int, seed: int, **kw) -> dict:
    make = synthetic.pm_colocation if pollutant == "pm25" else synthetic.so2_colocation
    return make(n, days=days, seed=seed, **kw)


def _legacy_arl(sim: dict, base_days: int, sensors: int) -> float:
    """ARL of the previous CUSUM/KS alarms: days watched until the first alarm (or the end), over alarms."""
    t = sim["time"]
    t_end = int(t[0]) + base_days * 86400
    watched, fired = 0.0, 0
    for i in range(sensors):   # the previous detector takes one node at a time
        x, y = sim["sensor"][i], sim["reference"][i]
        train = t < t_end
        coef = models.fit("ols", {"x": x[train]}, y[train])
        found = drift.detect_drift("n", t, models.predict("ols", coef, {"x": x}), y, baseline_end=t_end)
        if found:
            fired += 1
            watched += (min(a.time for a in found) - t_end) / 86400
        else:
            watched += (t[-1] - t_end) / 86400
    return watched / max(fired, 1)


def _early_late(found: dict, base: int, sensors: int) -> tuple[float, float]:
    """False alarms per sensor-year in the first 90 days watched and after them."""
    per_day = sum((found[r]["up"] | found[r]["down"]).sum(0) for r in alarms.RULES)[base:]
    return per_day[:90].sum() / (sensors * 90 / 365), per_day[90:].sum() / (sensors * (WATCH - 90) / 365)


def _in_control(report, pollutant: str, doc: dict, regimes: dict, sensors: int, legacy: int) -> list[dict]:
    rows, base = [], doc["method"]["baseline_days"]
    for i, (name, (label, kw)) in enumerate(regimes.items()):
        sim = _simulate(pollutant, sensors, base + WATCH, 1000 + i, **kw)
        res = _residuals(doc, _pairs(pollutant, sim))
        found = alarms.rule_alarms(res, doc)
        counts = {rule: int(found[rule]["up"].sum() + found[rule]["down"].sum()) for rule in alarms.RULES}
        early, late = _early_late(found, base, sensors)
        watched = int(np.isfinite(res["e"]).sum())   # sensor-days the rules could judge (outages excluded)
        arl = {rule: watched / max(c, 1) for rule, c in counts.items()}
        arl["both"] = watched / max(sum(counts.values()), 1)
        old = _legacy_arl(sim, base, min(legacy, sensors))
        for key in ("both", *alarms.RULES):
            report(f"{pollutant} {name} in-control ARL {key}", arl[key], "days")
        report(f"{pollutant} {name} false alarms per sensor-year", 365 / arl["both"], "")
        report(f"{pollutant} {name} false alarms per sensor-year, first 90 days watched", early, "")
        report(f"{pollutant} {name} false alarms per sensor-year, after 90 days", late, "")
        report(f"{pollutant} {name} previous CUSUM/KS ARL (baseline)", old, "days")
        report(f"{pollutant} {name} ARL ratio new/previous", arl["both"] / old, "x")
        rows.append({"regime": name, "label": label, "sensor_years": watched / 365, **arl, "previous": old,
                     "early": early, "late": late})
    return rows


def _delay(found: dict) -> np.ndarray:
    """Per sensor, days from the drift's start to the first alarm of the rules in *found*; 130 when none."""
    hit = np.zeros_like(next(iter(found.values()))["up"])
    for f in found.values():
        hit |= f["up"] | f["down"]
    hit[:, :DRIFT_DAY] = False
    return np.where(hit.any(1), hit.argmax(1) - DRIFT_DAY, 130)


def _delays(report, pollutant: str, doc: dict, regimes: dict, drifts: list, ramps: list, sensors: int) -> list[dict]:
    rows, seeds = [], {0: 2000, 130: 3000}   # steps and ramps draw their own seeds: adding one leaves the other's figures
    for name, (label, kw) in regimes.items():
        for kind, size, what, ramp in [(*d, 0) for d in drifts] + [(*d, 130) for d in ramps]:
            seeds[ramp] += 1
            sim = _simulate(pollutant, sensors, DRIFT_DAY + 130, seeds[ramp], drift=kind, drift_size=size,
                            drift_day=DRIFT_DAY, drift_ramp_days=ramp, **kw)
            found = alarms.rule_alarms(_residuals(doc, _pairs(pollutant, sim)), doc)
            by_rule = {rule: _delay({rule: found[rule]}) for rule in alarms.RULES}
            first = _delay(found)
            caught = first < 130
            who = np.where(by_rule["gain"] <= by_rule["offset"], "gain", "offset")[caught]
            mean, p90 = float(first.mean()), float(np.percentile(first, 90))
            report(f"{pollutant} {name} {what} delay mean", mean, "days")
            report(f"{pollutant} {name} {what} delay p90", p90, "days")
            report(f"{pollutant} {name} {what} caught within 14 days", 100 * float(np.mean(first <= 14)), "%")
            rows.append({"regime": name, "drift": what, "mean": mean, "p90": p90, "within14": float(np.mean(first <= 14)),
                         "never": int((~caught).sum()), "first_rule": max(set(who), key=list(who).count) if len(who) else "-"})
    return rows


def _table(title: str, ic: list[dict], dl: list[dict]) -> None:
    print(f"### {title}")
    print("| regime | sensor-years | ARL both [days] | gain | offset | false alarms/yr: first 90 days, after "
          "| previous CUSUM/KS | ratio |")
    print("|---|---|---|---|---|---|---|---|")
    for r in ic:
        print(f"| {r['regime']} ({r['label']}) | {r['sensor_years']:.0f} | {r['both']:.0f} | {r['gain']:.0f} | "
              f"{r['offset']:.0f} | {r['early']:.2f}, {r['late']:.2f} | {r['previous']:.0f} | {r['both'] / r['previous']:.1f} |")
    print("| regime | drift | delay mean [days] | p90 | within 14 days | never | caught first by |")
    print("|---|---|---|---|---|---|---|")
    for r in dl:
        print(f"| {r['regime']} | {r['drift']} | {r['mean']:.1f} | {r['p90']:.0f} | {100 * r['within14']:.0f} % | "
              f"{r['never']} | {r['first_rule']} |")


PERSISTENT = {"φ=0.8 ×3": {"rise": 3.0, "noise": {"day_phi": 0.8}}, "φ=0.9 ×1": {"rise": 1.0, "noise": {"day_phi": 0.9}}}
SE_US = (Path(__file__).resolve().parents[1] / "calibration" / "examples" / "purpleair-se-us-daily"
         / "DAILY90_r0_5km_processeddata_PA_AQS_Jan2021_Aug2023_Final.csv.gz")


def _se_us_pairs() -> list[dict]:
    """Daily pairs of each SE-US PurpleAir (A_B_Avg, CF=1) beside its AQS monitor, read as the CLI reads them."""
    data = inputs.colocated(f"{SE_US}:A_B_Avg", f"{SE_US}:conc", pollutant="pm25",
                            reading=inputs.Reading(tz="UTC", time_column="DAILY", site_column="sensor_index"))
    return [alarms.daily_pairs(data.time[data.site == s], data.x[data.site == s], data.y[data.site == s])
            for s in data.sensors]


def _rate(found: dict, days: float) -> float:
    return 365 * sum(int(f["up"].sum() + f["down"].sum()) for f in found.values()) / days


def _scaled(doc: dict, c: float) -> dict:
    return {**doc, "rules": {r: {**v, "h": v["h"] * c} for r, v in doc["rules"].items()}}


def _error_models(report, sensors: int, drifted: int) -> None:
    doc = alarms.rules("pm25")
    base = doc["method"]["baseline_days"]
    quiet = {name: _simulate("pm25", sensors, base + WATCH, 4000 + i, **kw)
             for i, (name, kw) in enumerate([("×1", {"rise": 1.0}), ("×3", {"rise": 3.0}), *PERSISTENT.items()])}
    steps = {what: _simulate("pm25", drifted, DRIFT_DAY + 130, 4100 + i, drift=kind, drift_size=size, drift_day=DRIFT_DAY,
                             rise=rise)
             for i, (what, kind, size, rise) in enumerate([("gain −10 % ×3", "gain", -0.10, 3.0),
                                                           ("offset +2 ×1", "offset", 2.0, 1.0)])}
    pairs = {k: _pairs("pm25", s) for k, s in {**quiet, **steps}.items()}
    real = [p for p in _se_us_pairs() if np.isfinite(p["x"][0, :base]).sum() >= doc["method"]["min_baseline_share"] * base]
    rows = []
    for errors in alarms.ERROR_MODELS:
        res = {k: alarms.residuals(p["x"], p["y"], errors=errors, **alarms.settings(doc, p)) for k, p in pairs.items()}
        res_real = [alarms.residuals(p["x"], p["y"], errors=errors, **alarms.settings(doc, p)) for p in real]
        for c in (0.85, 1.0, 1.15):
            d = _scaled(doc, c)
            arl = {k: 365 / max(_rate(alarms.rule_alarms(res[k], d), sensors * WATCH), 365 / (sensors * WATCH))
                   for k in quiet}
            delay = {what: float(_delay(alarms.rule_alarms(res[what], d)).mean()) for what in steps}
            watched = sum(int(np.isfinite(r["e"]).sum()) for r in res_real)
            on_real = sum(_rate(alarms.rule_alarms(r, d), 1) for r in res_real) / watched
            worst = min(arl["×1"], arl["×3"])
            report(f"pm25 errors {errors} h×{c:g} worst in-control ARL", worst, "days")
            for k in PERSISTENT:
                report(f"pm25 errors {errors} h×{c:g} in-control ARL {k}", arl[k], "days")
                if c == 1.0:
                    early, late = _early_late(alarms.rule_alarms(res[k], d), base, sensors)
                    report(f"pm25 errors {errors} {k} false alarms per sensor-year: first 90 days, after",
                           f"{early:.2f}, {late:.2f}")
            for what, v in delay.items():
                report(f"pm25 errors {errors} h×{c:g} {what} delay mean", v, "days")
            report(f"pm25 errors {errors} h×{c:g} alarms per sensor-year on the SE-US co-locations", on_real, "")
            rows.append((errors, c, worst, *(arl[k] for k in PERSISTENT), *delay.values(), on_real, watched / 365))
    print("### pm25: the daily errors' memory (h of both rules scaled; delays are means, 130 = not caught)")
    print(f"| errors modelled as | h × | ARL worst of ×1, ×3 [days] | ARL {' | ARL '.join(PERSISTENT)} | "
          f"{' | '.join(steps)} | alarms/yr, SE-US ({rows[0][-1]:.0f} sensor-years) |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r[0]} | {r[1]:g} | {r[2]:.0f} | {r[3]:.0f} | {r[4]:.0f} | {r[5]:.1f} | {r[6]:.1f} | {r[7]:.2f} |")


def run(report):
    print(f"# machine: {platform.machine()}, {os.cpu_count()} CPUs, {platform.processor() or platform.platform()}; "
          f"scale {SCALE}", flush=True)
    for rule, (k, h) in {r: (v["k"], v["h"]) for r, v in alarms.rules("pm25")["rules"].items()}.items():
        report(f"pm25 {rule} Siegmund ARL of the plain one-sided CUSUM (k={k}, h={h})", alarms.siegmund_arl(k, h), "days")
    for pollutant, regimes, drifts, ramps, sizes in (("pm25", PM_REGIMES, PM_DRIFTS, PM_RAMPS, (300, 40, 150)),
                                                     ("so2", SO2_REGIMES, SO2_DRIFTS, SO2_RAMPS, (300, 40, 150))):
        doc = alarms.rules(pollutant)
        ic = _in_control(report, pollutant, doc, regimes, _n(sizes[0]), _n(sizes[1]))
        dl = _delays(report, pollutant, doc, regimes, drifts, ramps, _n(sizes[2]))
        report(f"{pollutant} worst-regime ARL both rules", min(r["both"] for r in ic), "days")
        report(f"{pollutant} ARL ratio new/previous, worst regimes", min(r["both"] for r in ic) / min(r["previous"] for r in ic), "x")
        thresholds = ", ".join(f"{r} k={v['k']} h={v['h']}" for r, v in doc["rules"].items())
        _table(f"{pollutant}: rules {thresholds}", ic, dl)
    _error_models(report, _n(150), _n(100))
