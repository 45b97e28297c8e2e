"""Kazakhstan: multiples of ПДК, exceedances, СИ, НП, ИЗА5 and the grade with its conventions."""

import numpy as np
import pytest

from tynys.aqi import kz, tables
from tynys.aqi.tables import AqiError

pytestmark = pytest.mark.host


def test_si_example_pm25():
    # research note vector 18: max 20-min PM2.5 0.40 mg/m3, ПДК м.р. 0.16 -> СИ 2.5 -> elevated
    assert kz.multiples([0.40], "pm25", "20min").tolist() == [2.5]
    assert kz.si([0.40, 0.1], "pm25") == 2.5
    assert kz.grade_names(kz.grade(si=2.5)) == "elevated"


def test_limits_match_the_bulletin_examples():
    # Kazhydromet bulletin No 283 (Kostanay, 2022): 133 ug/m3 PM2.5 = 0.8 ПДК; 17 ug/m3 SO2 = 0.03 ПДК;
    # 14 ug/m3 NO2 = 0.1 ПДК (0.07 rounded up); 762 ug/m3 CO = 0.2 ПДК (0.15)
    m = {p: float(kz.multiples([v], p, "20min", unit="ug/m3")[0]) for p, v in
         (("pm25", 133), ("so2", 17), ("no2", 14), ("co", 762))}
    assert round(m["pm25"], 1) == 0.8 and round(m["so2"], 2) == 0.03
    assert round(m["no2"], 1) == 0.1 and round(m["co"], 1) == 0.2
    assert kz.limit("pm25", "24h") == 0.035 and kz.limit("so2", "24h") == 0.05


def test_np_is_the_share_above_the_limit_and_exceedances_are_counted():
    so2 = [0.2, 0.6, 0.4, 5.5, np.nan]  # ПДК м.р. 0.5
    assert kz.np_percent(so2, "so2") == 50.0  # 2 of 4 valid
    m = kz.multiples(so2, "so2", "20min")
    assert {k: int(v) for k, v in kz.exceedances(m).items()} == {1: 2, 10: 1}


def test_vz_counts_10_pdk_or_more_and_1_pdk_counts_only_above():
    # kz-2022.json: ВЗ is "10 ПДК or more" (Roshydromet: ВЗ ≥ 10 ПДК); "above ПДК" is strictly above.
    m = np.array([1.0, 1.0001, 9.99, 10.0, 12.0])
    assert {k: int(v) for k, v in kz.exceedances(m).items()} == {1: 4, 10: 2}


@pytest.mark.parametrize("si, np_, iza, want", [
    (1.0, None, None, "low"), (1.5, None, None, "elevated"), (4.0, None, None, "elevated"), (4.5, None, None, "high"),
    (10.0, None, None, "high"), (10.1, None, None, "very high"),
    (None, 0.0, None, "low"), (None, 0.5, None, "elevated"), (None, 19.0, None, "elevated"), (None, 19.5, None, "high"),
    (None, 49.0, None, "high"), (None, 50.0, None, "very high"),
    (None, None, 4.0, "low"), (None, None, 4.5, "elevated"), (None, None, 6.0, "elevated"), (None, None, 7.0, "high"),
    (None, None, 13.0, "high"), (None, None, 14.0, "very high"),
    (0.5, 25.0, 3.0, "high"),  # the highest indicator decides
    (12.0, 0.0, 3.0, "very high"),
])
def test_grade_boundaries_and_the_highest_indicator_decides(si, np_, iza, want):
    assert kz.grade_names(kz.grade(si=si, np_=np_, iza=iza)) == want


def test_iza5_uses_hazard_class_exponents_and_the_five_largest():
    means = {"so2": 0.05, "no2": 0.06, "pm25": 0.07, "o3": 0.03, "co": 6.0, "hcho": 0.02, "h2s": 0.004}
    total, terms = kz.iza(means)
    assert "h2s" not in terms  # no ПДК с.с.
    want = {"so2": 1.0 ** 1.0, "no2": 1.5 ** 1.0, "pm25": 2.0 ** 1.0, "o3": 1.0 ** 1.7, "co": 2.0 ** 0.9, "hcho": 2.0 ** 1.3}
    assert terms == pytest.approx(want)
    assert total == pytest.approx(sum(sorted(want.values())[-5:]))


def test_assessment_is_labelled_unofficial_for_sensors():
    a = kz.assess({"so2": [0.4, 0.9, 0.2], "pm25": [0.1, 0.2]}, means={"so2": 0.03})
    assert (a.si, a.si_by) == (pytest.approx(1.8), "so2")
    assert (a.np, a.np_by) == (50.0, "pm25")
    assert a.grade_name() == "very high" and not a.official and "unofficial" in a.label  # НП 50 %
    ref = kz.assess({"so2": [0.4]}, reference=True)
    assert ref.official and ref.label == ""


@pytest.mark.parametrize("call, message", [
    (lambda: kz.limit("h2s", "24h"), "kz 2022 has no ПДК с.с. for h2s"),
    (lambda: kz.limit("pm25", "1h"), "kz 2022 has no period '1h'; use 20min, 24h, mean"),
    (lambda: kz.limit("pb"), "kz 2022 has no ПДК for pb; it covers pm25, pm10, tsp, so2, no2, no, co, o3, h2s, hcho, phenol, nh3, bap"),
    (lambda: kz.grade(), "a grade needs at least one of СИ, НП or ИЗА"),
    (lambda: kz.assess({}), "nothing to assess: give single (20-min) concentrations and/or period means"),
    (lambda: kz.multiples([10], "so2", "20min", unit="ppb"),
     "converting so2 from ppb to mg/m3 needs a temperature: name one (e.g. --temperature 25 for US EPA, 20 for EU/UK)"),
])
def test_bad_requests_get_a_clear_message(call, message):
    with pytest.raises(AqiError) as e:
        call()
    assert str(e.value) == message


def test_bad_values_are_no_multiple():
    assert np.isnan(kz.multiples([-0.1, np.nan, 1e6], "so2", "20min")).all()


def test_unverified_values_say_so_in_the_data():
    d = tables.load("kz").data
    assert d["limits"]["no2"]["confidence"] == "unverified" and d["iza"]["confidence"] == "unverified"
    assert d["sources"][0]["confidence"] == "unverified"
