"""EEA, UK DAQI, India NAQI, China HJ 633, Canada AQHI: published examples and their special rules."""

import numpy as np
import pytest

from tynys import aqi

pytestmark = pytest.mark.host


def test_eea_station_takes_the_worst_band():
    # research note test vector 17: PM2.5 1-h 12 -> Fair; NO2 1-h 70 -> Poor; station Poor
    subs = {"pm25": aqi.sub_index([12], "pm25", "1h", "eea"), "no2": aqi.sub_index([70], "no2", "1h", "eea"),
            "o3": aqi.sub_index([50], "o3", "1h", "eea")}
    assert [s.category_names()[0] for s in subs.values()] == ["Fair", "Poor", "Good"]
    o = aqi.overall(subs, "eea")
    assert (o.index[0], o.category_names()[0], o.main[0]) == (4, "Poor", "no2")


def test_eea_needs_no2_o3_and_pm_for_a_station_index():
    subs = {"pm25": aqi.sub_index([12], "pm25", "1h", "eea"), "so2": aqi.sub_index([30], "so2", "1h", "eea")}
    strict = aqi.overall(subs, "eea")
    assert np.isnan(strict.index[0]) and aqi.STATUS[strict.status[0]] == "incomplete" and not strict.complete[0]
    partial = aqi.overall(subs, "eea", strict=False)
    assert partial.index[0] == 2 and not partial.complete[0]


def test_eea_2021_bands_scored_by_name():
    s = aqi.sub_index([10, 10.5, 80], "pm25", "24h", "eea", version="2021")
    assert s.category_names().tolist() == ["Good", "Fair", "Extremely poor"]


def test_uk_daqi_rounds_then_bands():
    s = aqi.sub_index([35.4, 35.5, 70.5], "pm25", "24h", "uk-daqi")
    assert s.index.tolist() == [3, 4, 10] and s.category_names().tolist() == ["Low", "Moderate", "Very High"]


def test_india_cpcb_example():
    # CPCB: sub-index for PM2.5 is 51 at 31, 75 at 45 and 100 at 60 ug/m3
    assert aqi.sub_index([31, 45, 60], "pm25", "24h", "india-naqi").index.tolist() == [51, 75, 100]


def test_india_needs_three_pollutants_including_a_pm():
    s = lambda p, v: aqi.sub_index([v], p, "24h", "india-naqi")  # noqa: E731
    two = aqi.overall({"pm25": s("pm25", 45), "no2": s("no2", 30)}, "india-naqi")
    assert np.isnan(two.index[0]) and aqi.STATUS[two.status[0]] == "incomplete"
    no_pm = aqi.overall({"no2": s("no2", 30), "so2": s("so2", 20), "nh3": s("nh3", 100)}, "india-naqi")
    assert np.isnan(no_pm.index[0])
    ok = aqi.overall({"pm25": s("pm25", 45), "no2": s("no2", 30), "so2": s("so2", 20)}, "india-naqi")
    assert (ok.index[0], ok.main[0]) == (75, "pm25")


def test_india_severe_has_a_category_but_no_invented_number():
    s = aqi.sub_index([300], "pm25", "24h", "india-naqi")
    assert np.isnan(s.index[0]) and s.category_names()[0] == "Severe" and s.status_names()[0] == "above-table"
    o = aqi.overall({"pm25": s, "pm10": aqi.sub_index([400], "pm10", "24h", "india-naqi"),
                     "no2": aqi.sub_index([30], "no2", "24h", "india-naqi")}, "india-naqi")
    assert np.isnan(o.index[0]) and o.category_names()[0] == "Severe" and o.main[0] == "pm25"


def test_india_ozone_8h_and_1h():
    s = aqi.pollutant_index({"8h": [100, 250], "1h": [150, 300]}, "o3", "india-naqi")
    assert s.index.tolist() == [100, 301 + round(99 * (300 - 209) / (748 - 209))]


def test_china_2012_ceiling_and_continuous_table():
    s = aqi.sub_index([36, 80], "pm25", "24h", "china", version="2012")
    assert s.index.tolist() == [52, 107]  # python-aqi gives 51 for 36 (issue #4)


def test_china_2026_revised_pm_rows_and_high_so2_o3_rules():
    assert aqi.sub_index([60, 80], "pm25", "24h", "china", version="2026").index.tolist() == [100, 119]
    assert aqi.sub_index([900], "so2", "1h", "china", version="2026").index.tolist() == [200]
    assert aqi.sub_index([850], "o3", "8h", "china", version="2026").index.tolist() == [300]
    # 2012: SO2 1-h above 800 gets no 1-h sub-index (the 24-h one is reported)
    old = aqi.pollutant_index({"1h": [900], "24h": [300]}, "so2", "china", version="2012")
    assert old.index.tolist() == [100 + np.ceil(50 * 150 / 325)] and old.period.tolist() == ["24h"]


def test_china_2012_so2_reports_1h_and_falls_back_to_24h_only_above_800():
    # HJ 633-2012: the 1-h sub-index; above 800 ug/m3 none, and the 24-h one is reported instead.
    s = aqi.pollutant_index({"1h": [100, 900, 900], "24h": [300, 300, np.nan]}, "so2", "china", version="2012")
    assert s.index[:2].tolist() == [34, 100 + np.ceil(50 * 150 / 325)]  # not the higher of the two
    assert s.period.tolist() == ["1h", "24h", "1h"] and s.status_names()[2] == "use-other-period"
    # the real-time (hourly) series: a plume of 900 ug/m3 is scored on its 24-h running mean
    hours = 1_767_225_600 + 3600 * np.arange(30)
    h = aqi.series.hourly(hours, np.full(30, 900.0), "so2", "china", version="2012")
    assert np.isnan(h.index[:19]).all() and h.index[19:].tolist() == [213] * 11  # 20 of 24 h; 200 + 100·100/800
    assert aqi.series.hourly(hours, np.full(30, 100.0), "so2", "china", version="2012").index.tolist() == [34] * 30


def test_china_2026_rounds_concentrations_half_to_even():
    # 35.5 -> 36 and 36.5 -> 36 (GB/T 8170), 37.5 -> 38; then 50 + 50 * (c - 35)/25 rounded up
    assert aqi.sub_index([35.5, 36.5, 37.5], "pm25", "24h", "china", version="2026").index.tolist() == [52, 52, 56]


def test_china_names_a_primary_pollutant_only_above_50():
    subs = {"pm25": aqi.sub_index([30, 80], "pm25", "24h", "china"), "so2": aqi.sub_index([20, 20], "so2", "24h", "china")}
    o = aqi.overall(subs, "china")
    assert o.main.tolist() == ["", "pm25"]


def test_china_pm_1h_in_2026_uses_the_24h_rows():
    assert aqi.sub_index([80], "pm25", "1h", "china", version="2026").index.tolist() == [119]


def test_canada_aqhi_example():
    r = aqi.aqhi.aqhi(no2=20, o3=30, pm25=10)
    assert float(r.concentration) == pytest.approx(3.72, abs=0.005)
    assert (float(r.index), str(r.category_names())) == (4.0, "Moderate risk")
    missing = aqi.aqhi.aqhi(no2=np.nan, o3=30, pm25=10)
    assert np.isnan(missing.index) and aqi.STATUS[missing.status] == "missing"
    ugm3 = aqi.aqhi.aqhi(no2=20 * 1.88, o3=30, pm25=10, units_in={"no2": "ug/m3"}, temperature_c=25)
    assert float(ugm3.concentration) == pytest.approx(3.72, abs=0.01)


def test_a_value_beyond_the_table_outranks_every_number():
    # China 2012: 600 ug/m3 PM2.5 has no IAQI (above 500) but is worse than NO2's 450-ish number.
    subs = {"pm25": aqi.sub_index([600], "pm25", "24h", "china", version="2012"),
            "no2": aqi.sub_index([3500], "no2", "1h", "china", version="2012")}
    assert 400 < subs["no2"].index[0] < 500
    o = aqi.overall(subs, "china")
    assert np.isnan(o.index[0]) and o.main[0] == "pm25" and o.category_names()[0] == "Severely polluted (严重污染)"
