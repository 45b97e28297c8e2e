"""Drift alarms with stated run lengths (tynys.calibrate.alarms), on the project's synthetic co-locations.

What the rules in calibration/drift state is re-checked here on a few dozen simulated sensors with
fixed seeds (the long Monte-Carlo that measured the numbers is bench/bench_drift.py):
(a) no drift, seasonal level rise ×3: at most the stated false alarms per sensor-year, where the previous
    CUSUM/KS alarms fire on most sensors; the standardised residuals stay N(0, 1) as levels triple;
(b) a 10 % gain change and a 2 µg/m³ offset are caught within the stated delays;
(c) SO2-B4 cells calibrated in summer are watched into the winter within the stated rate, and a
    0.6 mV zero shift is caught within the stated delay.
"""

import json
from pathlib import Path

import numpy as np
import pytest

from tynys.calibrate import alarms, drift, models, synthetic

pytestmark = pytest.mark.host

DAY = 86400
PM = alarms.rules("pm25")
SO2 = alarms.rules("so2")


def _run(doc, sim, covariates=None):
    pairs = alarms.daily_pairs(sim["time"], sim["sensor"], sim["reference"], covariates=covariates)
    res = alarms.residuals(pairs["x"], pairs["y"], **alarms.settings(doc, pairs))
    return res, alarms.rule_alarms(res, doc)


def _count(found) -> int:
    return int(sum(f["up"].sum() + f["down"].sum() for f in found.values()))


def _delays(found, start_day: int) -> np.ndarray:
    hit = np.zeros_like(found["gain"]["up"])
    for f in found.values():
        hit |= f["up"] | f["down"]
    hit[:, :start_day] = False
    return np.where(hit.any(1), hit.argmax(1) - start_day, 10**6)


@pytest.fixture(scope="module")
def winter():
    """60 sensors, a year watched after 30 calibration days; levels rise ×3 from day 60."""
    return synthetic.pm_colocation(60, days=395, rise=3.0, seed=17)


def test_no_drift_seasonal_rise_at_most_one_false_alarm_per_sensor_year(winter):
    res, found = _run(PM, winter)
    sensor_years = 60 * 365 / 365
    stated = PM["false_alarms_per_sensor_year"]
    assert stated <= 1.0
    assert _count(found) <= sensor_years * stated, _count(found)
    # Levels triple, the standardised residuals do not notice: mean 0, SD 1, no day-to-day memory.
    e = res["e"][:, 30:]
    assert abs(np.nanmean(e)) < 0.05 and 0.9 < np.nanstd(e) < 1.1
    assert abs(np.corrcoef(e[:, 1:].ravel(), e[:, :-1].ravel())[0, 1]) < 0.1


def test_previous_cusum_confuses_the_winter_rise_with_drift(winter):
    """Why the rules changed: a fixed 30-day fit of reference on sensor plus CUSUM/KS alarms on
    most of the same drift-free sensors within the year (kept as drift.detect_drift for comparison)."""
    t, fired = winter["time"], 0
    base_end = int(t[0]) + 30 * DAY
    for i in range(20):
        x, y = winter["sensor"][i], winter["reference"][i]
        coef = models.fit("ols", {"x": x[t < base_end]}, y[t < base_end])
        fired += bool(drift.detect_drift("n", t, models.predict("ols", coef, {"x": x}), y, baseline_end=base_end))
    assert fired >= 15


QUIET = {k: v / 2 for k, v in synthetic.PM_NOISE.items() if k.endswith("_sd") and not k.startswith(("level", "hour_log"))}


@pytest.mark.parametrize("kind, size, rise, noise", [("gain", -0.10, 3.0, None), ("offset", 2.0, 1.0, None),
                                                     ("gain", -0.10, 3.0, QUIET), ("offset", 2.0, 1.0, QUIET)])
def test_stated_drift_caught_within_stated_delay(kind, size, rise, noise):
    rule = PM["rules"][kind]
    assert rule["drift"]["kind"] == kind and rule["drift"]["size"] == size
    stated = rule["delay_days_half_noise" if noise else "delay_days"]
    sim = synthetic.pm_colocation(40, days=230, rise=rise, drift=kind, drift_size=size, drift_day=100, seed=23,
                                  noise=noise)
    _, found = _run(PM, sim)
    delay = _delays(found, 100)
    assert np.median(delay) <= 1.2 * stated["mean"], delay   # the mean carries the rare late catches
    assert np.mean(delay <= stated["p90"]) >= 0.8, delay


@pytest.fixture(scope="module")
def so2_year():
    return synthetic.so2_colocation(30, days=395, seed=29)


def _so2_cov(sim):
    return {"aan803_kpp_t": alarms.aan803_zero_term(sim["t_c"], sim["sheet"])}


def test_so2_summer_to_winter_without_false_alarms(so2_year):
    res, found = _run(SO2, so2_year, _so2_cov(so2_year))
    assert _count(found) <= 30 * SO2["false_alarms_per_sensor_year"], _count(found)
    # Each unit's zero follows the AAN 803 temperature table only typically (scale u). Without the
    # k''_T term its residuals on hot days lean with u − 1, which a summer calibration then carries
    # into the winter as a zero shift; with the term (and its prior) they do not.
    pairs = alarms.daily_pairs(so2_year["time"], so2_year["sensor"], so2_year["reference"])
    plain = alarms.residuals(pairs["x"], pairs["y"])
    hot = alarms.daily_pairs(so2_year["time"], so2_year["sensor"], so2_year["reference"],
                             covariates=_so2_cov(so2_year))["covariates"]["aan803_kpp_t"] > 5
    u = so2_year["kpp_scale"] - 1

    def lean(e):
        return np.corrcoef([np.nanmean(row[h]) for row, h in zip(e, hot)], u)[0, 1]

    assert lean(plain["e"]) > 0.7 and abs(lean(res["e"])) < 0.3


def test_so2_zero_shift_caught_within_stated_delay():
    rule = SO2["rules"]["offset"]
    sim = synthetic.so2_colocation(30, days=230, drift="zero", drift_size=rule["drift"]["size"], drift_day=100, seed=31)
    _, found = _run(SO2, sim, _so2_cov(sim))
    delay = _delays(found, 100)
    assert np.median(delay) <= 1.2 * rule["delay_days"]["mean"], delay
    assert np.mean(delay <= rule["delay_days"]["p90"]) >= 0.8, delay


def test_watch_one_node_names_rule_arl_and_drift_size():
    """One node whose gain falls by a quarter in a ×3 winter: the gain rule says so, with its ARL and
    the size of the fall (the rates are the many-sensor tests' business)."""
    sim = synthetic.pm_colocation(1, days=170, drift="gain", drift_size=-0.25, drift_day=100, rise=3.0, seed=6)
    found = {(a.rule, a.direction): a for a in alarms.watch("osk-07", sim["time"], sim["sensor"][0], sim["reference"][0])}
    gain = found[("gain", "down")]
    assert 0 <= (gain.time - sim["drift_start"]) / DAY <= 30
    est = gain.estimate
    assert est["unit"] == "%" and -40 < est["low"] < est["size"] < est["high"] < 0
    d = gain.as_dict()
    assert d["arl_days"] == PM["rules"]["gain"]["arl_days"] and d["since"] <= d["time"]
    assert gain.message.startswith("osk-07 reads low against the reference since 2026-")


def test_watch_refuses_a_short_calibration():
    sim = synthetic.pm_colocation(1, days=60, seed=8)
    keep = sim["time"] < sim["time"][0] + 40 * DAY
    sensor = np.where(np.arange(len(keep)) % 24 < 12, sim["sensor"][0], np.nan)   # half of every day missing
    with pytest.raises(alarms.DriftDataError, match="at least 24 are needed"):
        alarms.watch("gappy", sim["time"][keep], sensor[keep], sim["reference"][0][keep])


@pytest.mark.parametrize("complete, watched", [(23, False), (24, True)])
def test_rules_and_baseline_fit_need_the_same_24_days(complete, watched):
    """Daily pairs: the OLS baseline fit shown beside the alarms needs 24 pairs; the rules ask for as
    many complete days of the 30, so a sensor is not refused by one and accepted by the other."""
    sim = synthetic.pm_colocation(1, days=80, seed=8)
    pairs = alarms.daily_pairs(sim["time"], sim["sensor"], sim["reference"])
    t, x, y = pairs["day"], pairs["y"][0], pairs["x"][0]
    x = np.where((np.arange(len(t)) >= complete) & (np.arange(len(t)) < 30), np.nan, x)   # days [complete, 30) missing
    if watched:
        alarms.watch("n", t, x, y)
        models.fit("ols", {"x": x[:30]}, y[:30], interval="24h")
    else:
        with pytest.raises(alarms.DriftDataError, match="at least 24 are needed"):
            alarms.watch("n", t, x, y)
        with pytest.raises(Exception, match="at least 24 are needed"):
            models.fit("ols", {"x": x[:30]}, y[:30], interval="24h")


def test_so2_rules_need_the_temperature_term():
    sim = synthetic.so2_colocation(1, days=60, seed=2)
    with pytest.raises(alarms.DriftDataError, match="need covariates aan803_kpp_t"):
        alarms.watch("so2", sim["time"], sim["sensor"][0], sim["reference"][0], pollutant="so2")


def test_siegmund_matches_the_cusum_tables():
    # k = 0.5, h = 5: in-control ARL 930 and 10.4 for a 1-SD shift by the Markov-chain tables
    # (Montgomery, Introduction to Statistical Quality Control, table of ARLs for k = 1/2).
    assert alarms.siegmund_arl(0.5, 5.0) == pytest.approx(930, rel=0.02)
    assert alarms.siegmund_arl(0.5, 5.0, mu=1.0) == pytest.approx(10.4, rel=0.02)


def test_weights_below_one_never_shorten_the_run_length():
    """Why each rule's ARL is at least the plain CUSUM's: days weighted w ≤ 1 count less."""
    rng = np.random.default_rng(3)
    e = rng.standard_normal((200, 2000))
    plain = alarms.weighted_cusum(e, np.ones_like(e), 0.5, 4.0)["up_alarm"].sum()
    weighted = alarms.weighted_cusum(e, rng.uniform(0.2, 1.0, e.shape), 0.5, 4.0)["up_alarm"].sum()
    assert weighted < plain / 2
    assert e.size / plain == pytest.approx(alarms.siegmund_arl(0.5, 4.0), rel=0.15)


def test_weighted_cusum_by_hand():
    e = np.array([[1.0, 1.0, np.nan, 3.0, -1.0]])
    w = np.array([[1.0, 0.5, 1.0, 1.0, 1.0]])
    cs = alarms.weighted_cusum(e, w, k=0.5, h=2.0)
    assert cs["up"][0].tolist() == [0.5, 0.75, 0.75, 3.25, 0.0]   # NaN day: unchanged; restart after the alarm
    assert cs["up_alarm"][0].tolist() == [False, False, False, True, False]
    assert cs["down"][0].tolist() == [0.0, 0.0, 0.0, 0.0, 0.5]


# --- tynys calibrate drift ---

def _cli(capsys, *argv):
    from tynys.cli import main
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


EXAMPLE = Path(__file__).resolve().parents[3] / "calibration" / "examples" / "synthetic-so2"


def _example(*extra):
    s = EXAMPLE
    return ["calibrate", "drift", "--sensor", f"{s}/node.csv:so2", "--reference", f"{s}/station.csv:so2", "--tz", "UTC",
            "--node", "osk-so2", *extra]


SHEET = ["--param", "sensor_model=so2-b4", "--param", "sensitivity_mv_ppb=0.30"]


def test_cli_alarm_carries_rule_arl_and_drift_interval(capsys):
    """The example node's zero rises 0.1 mV/day (0.33 ppb/day) from 2026-02-15."""
    code, out, err = _cli(capsys, *_example("--t", f"{EXAMPLE}/node.csv:t_c", *SHEET, "--json"))
    assert code == 0, err
    first = json.loads(out)[0]["alarms"][0]
    assert (first["rule"], first["direction"]) == ("offset", "up")
    assert first["arl_days"] == SO2["rules"]["offset"]["arl_days"]
    assert "2026-02-15" <= first["since"][:10] <= first["time"][:10] <= "2026-02-22"
    days = (np.datetime64(first["time"][:10]) - np.datetime64("2026-02-15")).astype(int)
    est = first["estimate"]
    assert est["unit"] == "ppb" and 0 < est["low"] < est["size"] < est["high"] < 0.33 * (days + 3)


def test_cli_fixed_baseline_kept_for_comparison_and_so2_needs_its_temperature(capsys):
    code, out, err = _cli(capsys, *_example("--method", "fixed-baseline", "--json"))
    assert code == 0, err
    assert json.loads(out)[0]["alarms"][0]["kind"] == "cusum_up"
    code, _, err = _cli(capsys, *_example())
    assert code == 2 and "give the temperature [°C] (--t FILE:COLUMN) and the sensor sheet" in err
    code, _, err = _cli(capsys, *_example("--shift", "2"))
    assert code == 2 and "use the fixed-baseline method" in err


def _window_stats(x, y, rh=None, days=30):
    """Median residual SD [reference units] and mean lag-1, lag-2 autocorrelations of standardised
    residuals of sensor-on-reference fits in consecutive *days*-day windows (rows: sensors)."""
    sds, acs = [], []
    for xi, yi, ri in zip(x, y, rh if rh is not None else [None] * len(x)):
        for st in range(0, xi.shape[0] - days + 1, days):
            xs, ys = xi[st:st + days], yi[st:st + days]
            ok = np.isfinite(xs) & np.isfinite(ys)
            if ri is not None:
                ok &= np.isfinite(ri[st:st + days])
            if ok.sum() < 0.8 * days:
                continue
            cols = [np.ones(ok.sum()), xs[ok]] + ([ri[st:st + days][ok]] if ri is not None else [])
            b = np.linalg.lstsq(np.column_stack(cols), ys[ok], rcond=None)[0]
            r = np.full(days, np.nan)
            r[ok] = (ys[ok] - np.column_stack(cols) @ b) / b[1]
            sds.append(np.nanstd(r, ddof=len(cols)))
            z = r / np.nanstd(r)
            acs.append([np.nanmean(z[k:] * z[:-k]) for k in (1, 2)])
    return float(np.median(sds)), np.mean(acs, axis=0)


SE_US = (Path(__file__).resolve().parents[3] / "calibration" / "examples" / "purpleair-se-us-daily"
         / "DAILY90_r0_5km_processeddata_PA_AQS_Jan2021_Aug2023_Final.csv.gz")


@pytest.fixture(scope="module")
def se_us():
    """The SE-US PurpleAir/AQS daily co-locations: {sensor: (first day, grid)}, grid rows reference
    (conc), sensor (A_B_Avg, CF=1) and raw RH, one column per day from the first, NaN where missing."""
    import csv
    import gzip
    with gzip.open(SE_US, "rt") as fh:
        rows = list(csv.DictReader(fh))
    day = np.array([np.datetime64(r["DAILY"]) for r in rows])
    site = np.array([r["sensor_index"] for r in rows])
    out = {}
    for s in np.unique(site):
        sel = site == s
        at = (day[sel] - day[sel].min()).astype(int)
        g = np.full((3, at.max() + 1), np.nan)
        for j, col in enumerate(("conc", "A_B_Avg", "humidity_a")):
            g[j, at] = [float(r[col]) for r, keep in zip(rows, sel) if keep]
        out[str(s)] = (day[sel].min(), g)
    return out


def test_synthetic_pm_noise_looks_like_the_real_colocations(se_us):
    """PM_NOISE against the SE-US PurpleAir/AQS daily co-locations in calibration/examples."""
    grids = [g for _, g in se_us.values()]
    real_sd, real_ac = _window_stats([g[0] for g in grids], [g[1] for g in grids], [g[2] for g in grids])
    sim = synthetic.pm_colocation(60, days=180, level=9.0, seed=4)
    pairs = alarms.daily_pairs(sim["time"], sim["sensor"], sim["reference"])
    syn_sd, syn_ac = _window_stats(pairs["x"], pairs["y"])
    assert real_sd == pytest.approx(1.16, abs=0.05) and real_ac == pytest.approx([0.30, 0.055], abs=0.02)
    assert syn_sd == pytest.approx(real_sd, abs=0.1)
    assert syn_ac == pytest.approx(real_ac, abs=0.04)


def test_real_colocations_gain_alarms_point_the_way_the_calibration_moved(capsys, se_us):
    """The rules on the 18 real SE-US PurpleAir sensors (daily, 2021–2023): sensors too short to
    calibrate are named and the others still watched (the command used to stop at the first), and
    every gain alarm is borne out by the 60 days after it: the sensor-to-reference ratio moved the
    way the alarm says, against the 60 days before the drift's estimated start. (These sensors'
    response changes with the seasons: real calibration changes, not false alarms.)"""
    code, out, err = _cli(capsys, "calibrate", "drift", "--sensor", f"{SE_US}:A_B_Avg", "--reference", f"{SE_US}:conc",
                          "--time-column", "DAILY", "--site-column", "sensor_index", "--tz", "UTC", "--pollutant", "pm25",
                          "--json")
    assert code == 0, err
    docs = {d["sensor"]: d for d in json.loads(out)}
    assert len(docs) == 18
    short = [s for s, d in docs.items() if d["watched"]["problem"]]
    assert short and all("at least" in docs[s]["watched"]["problem"] for s in short)
    checked = 0
    for s, d in docs.items():
        first, g = se_us[s]
        for a in d["alarms"]:
            if a["rule"] != "gain":
                continue
            since, at = ((np.datetime64(a[k][:10]) - first).astype(int) for k in ("since", "time"))
            before, after = g[:, max(since - 60, 0):since], g[:, at + 1:at + 61]
            if min(np.isfinite(before[0] * before[1]).sum(), np.isfinite(after[0] * after[1]).sum()) < 20:
                continue
            moved = (np.nanmean(after[1]) / np.nanmean(after[0])) / (np.nanmean(before[1]) / np.nanmean(before[0])) - 1
            assert np.sign(moved) == (1 if a["direction"] == "up" else -1), (s, a, moved)
            checked += 1
    assert checked >= 8, checked
    code, out, err = _cli(capsys, "calibrate", "drift", "--sensor", f"{SE_US}:A_B_Avg", "--reference", f"{SE_US}:conc",
                          "--time-column", "DAILY", "--site-column", "sensor_index", "--tz", "UTC", "--pollutant", "pm25",
                          "--csv")
    assert code == 0 and all(f"note: {s} not watched: " in err for s in short)   # CSV rows are alarms only


def test_prewhitening_keeps_the_run_length_when_errors_persist():
    """Why the rules model the daily errors as an AR(1) plus white noise (an ARMA(1, 1)): on sensors
    whose day-scale errors persist longer than the rules were measured with (φ = 0.8 instead of
    0.55), the same thresholds raise about half the false alarms of a plain AR(1) prewhitening and
    a tenth of none (60 sensor-years; bench/bench_drift.py has the full table)."""
    sim = synthetic.pm_colocation(60, days=395, noise={"day_phi": 0.8}, seed=41)
    pairs = alarms.daily_pairs(sim["time"], sim["sensor"], sim["reference"])
    n = {errors: _count(alarms.rule_alarms(alarms.residuals(pairs["x"], pairs["y"], errors=errors,
                                                            **alarms.settings(PM, pairs)), PM))
         for errors in alarms.ERROR_MODELS}
    assert n["ar1+noise"] <= 60 and 1.3 * n["ar1+noise"] < n["ar1"] and 4 * n["ar1"] < n["white"], n
