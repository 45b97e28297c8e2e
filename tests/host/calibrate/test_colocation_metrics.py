"""Averaging with EPA's completeness rule, metrics, uncertainty and the overlap refusal."""

import numpy as np
import pytest

from tynys.calibrate import metrics
from tynys.calibrate.colocation import OverlapError, average, colocate, require_pairs
from tynys.calibrate.targets import check, unverified

pytestmark = pytest.mark.host


def test_hour_needs_45_of_60_minutes():
    t = np.concatenate([np.arange(0, 45 * 60, 60), 3600 + np.arange(0, 44 * 60, 60)])
    t = np.concatenate([t, [7200 + 60 * i for i in range(60)]])
    start, mean, n = average(t, np.ones(len(t)), 3600, step=60)
    assert start.tolist() == [0, 3600, 7200]
    assert n.tolist() == [45, 44, 60]
    assert np.isfinite(mean).tolist() == [True, False, True]


def test_day_from_hours_needs_18_of_24():
    t = np.concatenate([np.arange(18) * 3600, 86400 + np.arange(17) * 3600])
    _, mean, n = average(t, np.full(len(t), 5.0), 86400, step=3600)
    assert n.tolist() == [18, 17] and mean[0] == 5.0 and np.isnan(mean[1])


def test_nan_values_do_not_count():
    t = np.arange(60) * 60
    v = np.ones(60)
    v[:16] = np.nan  # 44 valid minutes
    _, mean, _ = average(t, v, 3600, step=60)
    assert np.isnan(mean[0])


def test_days_are_local_standard_time_days_of_tz():
    # The reviewer's case: hourly sensor = the daily level; the reference stamped at local midnight (UTC+5).
    rng = np.random.default_rng(1)
    level = rng.uniform(5, 80, 60)
    t = 1767225600 - 5 * 3600 + np.arange(60 * 24, dtype=np.int64) * 3600
    ref_t = 1767225600 - 5 * 3600 + np.arange(60, dtype=np.int64) * 86400
    utc = colocate(t, np.repeat(level, 24), ref_t, level, "24h")
    assert metrics.regression_stats(utc.reference, utc.sensor)["r2"] < 0.05  # UTC days mix two local days
    for tz in ("+05:00", "Asia/Almaty", "Asia/Qyzylorda"):  # Almaty is UTC+05:00 from 2024-03-01
        p = colocate(t, np.repeat(level, 24), ref_t, level, "24h", tz=tz)
        assert len(p) == 60 and p.time.tolist() == ref_t.tolist()
        assert metrics.regression_stats(p.reference, p.sensor)["r2"] == pytest.approx(1.0)


def test_day_with_a_permanent_offset_change_stays_one_day():
    # Asia/Almaty: UTC+06:00 until 2024-02-29T18:00Z, then UTC+05:00; 29 Feb had 25 hours.
    t = 1709143200 + np.arange(72, dtype=np.int64) * 3600  # hourly from 2024-02-28T18:00Z (local midnight +06)
    start, mean, n = average(t, np.ones(72), 86400, step=3600, tz="Asia/Almaty")
    assert start.tolist() == [1709143200, 1709233200, 1709319600]  # 28 Feb 18:00Z, 29 Feb 19:00Z, 1 Mar 19:00Z
    assert n.tolist()[:2] == [25, 24]


def test_dst_zone_keeps_standard_time_days():
    # America/New_York in July: days start at 05:00Z (midnight EST), not 04:00Z (midnight EDT).
    t = 1783296000 + np.arange(48, dtype=np.int64) * 3600  # 2026-07-06T00:00Z
    start, _, _ = average(t, np.ones(48), 86400, step=3600, tz="America/New_York")
    assert [s % 86400 for s in start.tolist()] == [5 * 3600] * len(start)


def test_colocate_pairs_only_common_complete_intervals():
    st = np.arange(0, 3 * 3600, 60)
    rt = np.array([3600, 7200, 10800])
    p = colocate(st, np.full(len(st), 2.0), rt, np.array([1.0, 2.0, 3.0]), "1h")
    assert p.time.tolist() == [3600, 7200] and p.reference.tolist() == [1.0, 2.0]


def test_regression_matches_polyfit_and_definitions():
    rng = np.random.default_rng(3)
    x = rng.uniform(2, 30, 500)
    y = 0.8 * x + 1.5 + rng.normal(0, 1, 500)
    s = metrics.regression_stats(x, y)
    b, a = np.polyfit(x, y, 1)
    assert s["slope"] == pytest.approx(b) and s["intercept"] == pytest.approx(a)
    assert s["r2"] == pytest.approx(np.corrcoef(x, y)[0, 1] ** 2)
    assert s["rmse"] == pytest.approx(np.sqrt(np.mean((y - x) ** 2)))
    assert s["nrmse"] == pytest.approx(s["rmse"] / x.mean() * 100)


def test_deming_recovers_slope_that_ols_dilutes():
    rng = np.random.default_rng(0)
    truth = rng.uniform(0, 50, 4000)
    x = truth + rng.normal(0, 5, truth.size)
    y = 2.0 + 1.0 * truth + rng.normal(0, 5, truth.size)
    assert metrics.linear_fit(x, y)[0] < 0.94
    assert metrics.deming(x, y)[0] == pytest.approx(1.0, abs=0.02)


def test_bootstrap_interval_brackets_estimate():
    rng = np.random.default_rng(1)
    x = rng.uniform(0, 20, 720)
    y = 0.9 * x + rng.normal(0, 2, 720)
    ci = metrics.bootstrap(x, y, n_boot=500, block=24)
    s = metrics.regression_stats(x, y)
    for k in ("slope", "intercept", "r2", "rmse"):
        assert ci[k][0] < s[k] < ci[k][1]
    assert ci["slope"][1] - ci["slope"][0] < 0.1


def test_expanded_uncertainty_of_perfect_sensor_is_zero_and_bias_counts():
    x = np.linspace(1, 60, 100)
    assert metrics.expanded_uncertainty(x, x, 30.0)["w_percent"] == pytest.approx(0.0, abs=1e-9)
    w = metrics.expanded_uncertainty(x, x + 3.0, 30.0)["w_percent"]
    assert w == pytest.approx(2 * 3.0 / 30.0 * 100, rel=1e-6)


def test_targets_alternatives_and_precision_optional():
    ok = {"slope": 1.0, "intercept": 0.0, "r2": 0.9, "rmse": 9.0, "nrmse": 20.0, "sd": float("nan"), "cv": float("nan")}
    v = check("pm25", ok)
    assert v["pass"] and v["failed"] == [] and v["groups"]["precision"] is None
    bad = dict(ok, rmse=9.0, nrmse=35.0)
    assert check("pm25", bad)["failed"] == ["rmse", "nrmse"] and not check("pm25", bad)["pass"]
    assert check("so2", dict(ok, intercept=6.0))["failed"] == ["intercept"]


def test_too_little_overlap_is_refused_with_how_much():
    with pytest.raises(OverlapError) as e:
        require_pairs(12, 72, "fitting mlr_rh")
    assert str(e.value) == ("fitting mlr_rh: only 12 co-located 1h intervals with both sensor and reference; "
                            "at least 72 are needed (72 hours of overlap): co-locate longer, check the two files "
                            "cover the same dates, or check the time zone")


def test_targets_say_which_are_unverified():
    # sensortoolkit's _targets.py holds PM2.5 (and O3) only; PM10 and SO2 come from unread EPA 2024 supplements.
    assert check("pm25", {})["verified"] is True and unverified("pm25") is None
    for p in ("pm10", "so2"):
        assert check(p, {})["verified"] is False
        assert "unverified" in unverified(p) and "provisional" in unverified(p)



def test_uptime_counts_the_sensor_not_the_reference_gaps():
    # 10 days of 1-min sensor data, all present; the reference misses days 3-5 (inside the period).
    from tynys.calibrate.evaluate import evaluate
    t = np.arange(0, 10 * 86400, 60, dtype=np.int64)
    rng = np.random.default_rng(3)
    ref_t = np.arange(0, 10 * 86400, 3600, dtype=np.int64)
    ref = 10 + 5 * rng.random(len(ref_t))
    ref[(ref_t >= 3 * 86400) & (ref_t < 6 * 86400)] = np.nan
    sensor = np.repeat(ref, 60) + rng.normal(0, 0.1, len(t))
    sensor = np.where(np.isfinite(sensor), sensor, 12.0)  # the sensor kept running
    ev = evaluate({"s": (t, sensor)}, (ref_t, ref), pollutant="pm25", tz="UTC")
    up = {r["interval"]: r["uptime"] for r in ev.rows}
    assert up == {"1h": 100.0, "24h": 100.0}
