"""Averages with completeness rules, and the standards' hourly and daily series built on them."""

import numpy as np
import pytest

from tynys import aqi
from tynys.aqi import averaging
from tynys.aqi.tables import AqiError
from tynys.timeutil import Zone

pytestmark = pytest.mark.host

T0 = 1_780_000_000 - 1_780_000_000 % 86400  # a UTC midnight (2026-05-28)
HOURS = T0 + 3600 * np.arange(72, dtype=np.int64)


def test_window_means_need_three_quarters_of_the_window():
    t = T0 + 300 * np.arange(24, dtype=np.int64)  # 5-min windows, two hours
    v = np.ones((2, 24))
    v[0, :4] = np.nan  # hour 1 keeps 8 of 12 -> 67 %: no mean
    v[1, :3] = np.nan  # 9 of 12 -> 75 %: a mean
    hours, means, counts = averaging.window_means(t, v, 3600)
    assert hours.tolist() == [T0, T0 + 3600]
    assert np.isnan(means[0, 0]) and means[1, 0] == 1.0
    assert counts.tolist() == [[8, 12], [9, 12]]
    _, strict, _ = averaging.window_means(t, v, 3600, min_fraction=0.9)  # the Fire and Smoke Map's 90 %
    assert np.isnan(strict[1, 0])


def test_window_means_fill_missing_windows_with_nan_on_a_regular_axis():
    t = np.array([T0, T0 + 300, T0 + 3 * 3600, T0 + 3 * 3600 + 300])
    hours, means, _ = averaging.window_means(t, [1.0, 3.0, 5.0, 7.0], 3600, sample_s=1800)
    assert hours.tolist() == [T0 + k * 3600 for k in range(4)]
    assert means[0] == 2.0 and np.isnan(means[1]) and np.isnan(means[2]) and means[3] == 6.0


def test_twenty_minute_singles_for_kazakhstan_from_five_minute_windows():
    t = T0 + 300 * np.arange(12, dtype=np.int64)
    _, singles, _ = averaging.window_means(t, np.arange(12.0), 1200)
    assert singles.tolist() == [1.5, 5.5, 9.5]


@pytest.mark.parametrize("call, message", [
    (lambda: averaging.window_means(HOURS, np.ones(72), 1200),
     "samples of 3600 s cannot make 1200 s means: a standard that needs 20-min values cannot use coarser data"),
    (lambda: averaging.window_means([T0 + 60, T0], [1.0, 2.0]),
     f"times must increase strictly; times[1]={T0} follows {T0 + 60}: sort and de-duplicate first"),
    (lambda: averaging.window_means([T0], [1.0, 2.0]), "values have 2 samples along the time axis but there are 1 times"),
    (lambda: averaging.check_hourly([T0 + 60]),
     f"hourly times must be hour starts (multiples of 3600 s); {T0 + 60} is not: use averaging.window_means to make hourly means"),
    (lambda: averaging.check_hourly([T0, T0 + 7200]),
     f"hourly times must be a regular hourly axis; {T0} -> {T0 + 7200} is a step of 7200 s: "
     "use averaging.window_means, which fills missing hours with NaN"),
    (lambda: averaging.check_hourly([[T0]]), "times must be one-dimensional (one time per sample); got shape (1, 1)"),
    (lambda: averaging.check_hourly([T0 + 0.5]), "times must be whole Unix seconds (int64 UTC)"),
    (lambda: averaging.window_means([T0, T0 + 300], [1.0, 1.0], min_fraction=0), "min_fraction 0 must be in (0, 1]"),
])
def test_averaging_refuses_what_it_cannot_do(call, message):
    with pytest.raises(AqiError) as e:
        call()
    assert str(e.value) == message


def test_rolling_mean_is_trailing_with_a_minimum_count():
    x = np.array([1.0, np.nan, 3.0, 5.0, np.nan, np.nan])
    r = averaging.rolling_mean(x, 3, 2)
    assert np.isnan(r[0]) and np.isnan(r[1])
    assert r[2:4].tolist() == [2.0, 4.0] and r[4] == 4.0 and np.isnan(r[5])


def test_daily_means_use_local_standard_time_and_18_of_24_hours():
    v = np.ones(72)
    v[24:31] = np.nan  # 7 hours missing in UTC day 2
    days, means, counts = averaging.daily_means(HOURS, v, utc_offset_s=0, min_valid=18)
    assert days.tolist() == [T0, T0 + 86400, T0 + 2 * 86400]
    assert means[0] == 1.0 and np.isnan(means[1]) and counts.tolist() == [24, 17, 24]
    # UTC+5 (Kazakhstan since 2024): local days start at 19:00 UTC the day before.
    days5, _, counts5 = averaging.daily_means(HOURS, np.ones(72), utc_offset_s=5 * 3600)
    assert days5[0] == T0 - 5 * 3600 and counts5.tolist() == [19, 24, 24, 5]


def test_daily_series_follow_the_zones_standard_offset_change():
    # Asia/Almaty: UTC+06:00 until 2024-02-29T18:00Z, UTC+05:00 after; 29 Feb (local) has 25 hours.
    t = 1709056800 + np.arange(96, dtype=np.int64) * 3600  # from 2024-02-27T18:00Z, local midnight
    v = np.arange(96, dtype=float)
    days, d = aqi.series.daily(t, v, "pm25", "us-epa", tz="Asia/Almaty", version="2024")
    assert days.tolist() == [1709056800, 1709143200, 1709233200, 1709319600]  # 18:00Z, 18:00Z, 19:00Z, 19:00Z
    _, means, counts = averaging.daily_means(t, v, utc_offset_s=Zone("Asia/Almaty").standard_offsets(t))
    assert counts.tolist() == [24, 25, 24, 23] and means[1] == np.mean(v[24:49])
    assert np.array_equal(aqi.series.daily(t, v, "pm25", "us-epa", utc_offset_s=6 * 3600, version="2024")[0][:2], days[:2])


def test_daily_max_of_hours():
    v = np.arange(72, dtype=float)
    _, mx, _ = averaging.daily_max(HOURS, v)
    assert mx.tolist() == [23, 47, 71]


def test_ozone_daily_max_uses_the_17_windows_starting_0700_to_2300():
    v = np.full(72, 0.040)
    v[24 + 2: 24 + 6] = 0.200  # 02:00-05:59 on day 2: only the 23:00 window of day 1 reaches it
    days, mx, windows = averaging.daily_max_8h(HOURS, v)
    assert windows.tolist() == [17, 17, 10]  # the last day has no next morning: too few windows
    assert np.isnan(mx[2])
    assert mx[0] == pytest.approx((4 * 0.040 + 4 * 0.200) / 8 - 0.0)  # 23:00-06:59 holds 02-05
    assert mx[1] == pytest.approx(0.040)
    v2 = v.copy()
    v2[7:24 + 7] = np.nan  # no window of day 1 has 6 hours
    _, mx2, w2 = averaging.daily_max_8h(HOURS, v2)
    assert np.isnan(mx2[0]) and w2[0] < 13


def test_hourly_series_use_the_nowcast_and_mark_incomplete_hours():
    x = np.full(72, 20.0)
    x[40:] = 60.0
    x[10] = np.nan
    s = aqi.series.hourly(HOURS, x, "pm25", "us-epa")
    assert s.status_names()[0] == "incomplete"  # one hour of data: 2 of 3 latest are needed
    assert s.index[5] == 71  # 20 ug/m3: 51 + 49 * 10.9/26.3
    nc = aqi.nowcast(x).concentration
    assert np.array_equal(s.index[1:], aqi.sub_index(nc[1:], "pm25", "24h").index)


def test_daily_series_us_pm_and_so2_rule():
    pm = np.full(72, 30.0)
    pm[50:] = np.nan
    days, d = aqi.series.daily(HOURS, pm, "pm25", "us-epa")
    assert days.tolist() == [T0, T0 + 86400, T0 + 2 * 86400]
    assert d.index[:2].tolist() == [90, 90] and d.status_names()[2] == "incomplete"
    so2 = np.full(72, 50.0)
    so2[30:33] = 400.0
    _, d = aqi.series.daily(HOURS, so2, "so2", "us-epa")
    assert d.index.tolist() == [51 + round(49 * 14 / 39), 200, 51 + round(49 * 14 / 39)]


def test_daily_ozone_takes_the_higher_of_8h_and_1h():
    o3 = np.full(72, 0.040)
    o3[34] = 0.180  # one 1-h spike on day 2
    _, d = aqi.series.daily(HOURS, o3, "o3", "us-epa")
    assert d.index[1] == 151 + round(49 * (180 - 165) / (204 - 165))
    assert d.period[1] == "1h" and d.period[0] == "8h"


def test_standards_without_the_rule_say_so():
    with pytest.raises(AqiError) as e:
        aqi.series.daily(HOURS, np.ones(72), "pm25", "eea")
    assert str(e.value) == "eea 2024 has no daily rule for pm25 (it has: none). The European index is hourly; it has no daily value."
    with pytest.raises(AqiError) as e:
        aqi.series.hourly(HOURS, np.ones(72), "o3", "us-epa")
    assert str(e.value).startswith("us-epa 2024 has no hourly rule for o3 (it has: pm25, pm10, so2, no2).")


def test_uk_and_india_hourly_series_use_running_means():
    x = np.full(72, 40.0)
    s = aqi.series.hourly(HOURS, x, "pm25", "uk-daqi")
    assert np.isnan(s.index[16]) and s.index[17] == 4  # 18 of 24 hours needed
    s = aqi.series.hourly(HOURS, x, "pm25", "india-naqi")
    assert np.isnan(s.index[14]) and s.index[15] == 51 + round(49 * 9 / 29)  # 16 hours needed


def test_canada_aqhi_hourly_from_three_hour_means():
    no2, o3, pm = np.full(72, 20.0), np.full(72, 30.0), np.full(72, 10.0)
    no2[5] = np.nan
    s = aqi.aqhi.hourly(HOURS, no2, o3, pm)
    assert np.isnan(s.index[0]) and s.index[1] == 4 and s.index[5] == 4
