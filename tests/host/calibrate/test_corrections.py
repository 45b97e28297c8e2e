"""Every published correction reproduces its test vectors; wrong inputs are refused with the fix."""

import numpy as np
import pytest

from tynys.calibrate import corrections
from tynys.calibrate.corrections import BasisError
from tynys.calibrate.data import load
from tynys.errors import TynysError

pytestmark = pytest.mark.host

NAMES = sorted(corrections.catalogue())
# No implementation or published table with numbers was found for these (the JSON says what was searched).
NO_INDEPENDENT_SOURCE = {"nilson2022_kappa"}


def test_catalogue_has_every_version():
    assert {"barkjohn2020_draft", "barkjohn2021", "barkjohn2021_smoke", "barkjohn2021_sensortoolkit", "barkjohn2022_cf1",
            "epa2021_fsm_atm", "lrapa", "nilson2022_kappa", "aan803_alg1", "aan803_alg2", "aan803_alg3", "aan803_alg4"} <= set(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_test_vectors(name):
    doc = corrections.get(name)
    atol = doc["test_vectors"]["atol"]  # 0.001 in every file: vectors are given to 4 significant decimals
    assert atol == 0.001
    got, want = zip(*corrections.check_vectors(name))
    np.testing.assert_allclose(got, want, atol=atol, equal_nan=True)
    assert doc["citation"] and doc["basis"] and doc["inputs"]


@pytest.mark.parametrize("name", NAMES)
def test_independent_vectors_name_their_source(name):
    # Vectors worked from our own coefficients cannot catch a wrong coefficient: each correction also
    # has cases from another implementation or its published output, named in test_vectors.sources.
    tv = corrections.get(name)["test_vectors"]
    independent = corrections.independent_cases(name)
    if name in NO_INDEPENDENT_SOURCE:
        assert not any(independent) and tv["independent"].startswith("none found: ")
        return
    assert sum(independent) >= 1
    for case, ok in zip(tv["cases"], independent):
        assert ok or "from" not in case, f"{name}: case names an unknown source {case['from']!r}"
    assert all(len(text) > 40 and " at commit " in text or "published output" in text for text in tv["sources"].values())


def test_epa_atm_form_is_named_and_dated_from_its_source():
    doc = corrections.get("epa2021_fsm_atm")
    assert doc["effective"] == "2021-10" and "October 2021" in doc["citation"]
    assert corrections.get("epa2023_atm") is doc  # its earlier name: stored profiles still apply
    assert "epa2023_atm" not in corrections.catalogue()


def test_five_range_is_continuous_at_breakpoints():
    for b in (30, 50, 210, 260):
        lo, hi = corrections.apply("epa2021_fsm_atm", x=np.array([b - 1e-9, b]), basis="atm", rh=np.array([50.0, 50.0]))
        assert abs(lo - hi) < 1e-5, b


def test_atm_correction_refuses_cf1_input():
    with pytest.raises(BasisError) as e:
        corrections.apply("epa2021_fsm_atm", x=np.array([10.0]), basis="cf1", rh=np.array([50.0]))
    assert str(e.value) == (
        "epa2021_fsm_atm was fitted on atm (Plantower ATM (atmospheric environment)) but x is cf1 (Plantower CF=1 "
        "(standard particle)); applying it would be wrong by up to 50 %. Use a correction made for cf1: "
        "barkjohn2020_draft, barkjohn2021, barkjohn2021_sensortoolkit, barkjohn2021_smoke, barkjohn2022_cf1, nilson2022_kappa")


def test_cf1_correction_refuses_atm_input():
    with pytest.raises(BasisError, match=r"barkjohn2021 was fitted on cf1 .* but x is atm .* Use a correction made for atm: epa2021_fsm_atm, lrapa"):
        corrections.apply("barkjohn2021", x=np.array([10.0]), basis="atm", rh=np.array([50.0]))


def test_unknown_basis_and_missing_rh_are_refused():
    with pytest.raises(BasisError, match="needs to know which Plantower output x is: say basis 'cf1' or 'atm'"):
        corrections.apply("barkjohn2021", x=np.array([10.0]), rh=np.array([50.0]))
    with pytest.raises(BasisError, match="barkjohn2021 needs rh: RH"):
        corrections.apply("barkjohn2021", x=np.array([10.0]), basis="cf1")


def test_unverified_needs_consent():
    with pytest.raises(TynysError, match="barkjohn2022_cf1 is marked unverified"):
        corrections.apply("barkjohn2022_cf1", x=np.array([10.0]), basis="cf1", rh=np.array([50.0]))
    with pytest.raises(TynysError, match="aan803_alg3 is marked unverified"):
        corrections.apply("aan803_alg3", we_mv=[300.0], ae_mv=[290.0], t_c=[20.0], params={})


def test_barkjohn2022_coefficients_match_the_abstracts_structure():
    # Sensors 22, 9669: the 2021 correction "up to 300 µg/m3, transitioning to a quadratic fit above 400".
    doc = corrections.get("barkjohn2022_cf1")
    low, high = doc["equations"]["low"], doc["equations"]["high"]
    assert low["const"] + low["x"] * 570 + low["rh"] * 50 == pytest.approx(300, abs=0.5)
    assert high["const"] + high["x"] * 611 + high["x2"] * 611 ** 2 == pytest.approx(400, abs=0.5)
    assert doc["status"] == "unverified" and "abstract" in doc["status_note"]


def test_aan803_so2_k_t_tables_are_there():
    # k_T / k'_T (algorithms 2, 3) of SO2-A4/B4: the AAN 803 table of the EnvCity driver (second-hand).
    tables = load("alphasense/aan803-temperature.json")["tables"]
    assert tables["so2-b4"]["k_t"] == [1, 1, 1, 1, 1, 1, 1.2, 1.9, 3.6]
    assert tables["so2-b4"]["kp_t"] == [1, 1, 1, 1, 1, 1, 2.0, 3.5, 7.0]
    assert tables["so2-a4"]["k_t"] == [3.3, 3.3, 3.3, 3.0, 2.3, 1, 1, 1, 1]
    assert tables["so2-a4"]["kp_t"] == [1.5, 1.5, 1.5, 1.5, 1, 1, 1, 1, 1]
    sheet = {"sensor_model": "so2-b4", "we_e_mv": 270, "ae_e_mv": 275, "we_0_mv": 12, "ae_0_mv": 8, "sensitivity_mv_ppb": 0.3}
    # 40 °C: k_T 1.9 -> (130 - 1.9 · 12/8 · 25) / 0.3
    got = corrections.apply("aan803_alg2", we_mv=[400.0], ae_mv=[300.0], t_c=[40.0], params=sheet)
    np.testing.assert_allclose(got, [(130 - 1.9 * 1.5 * 25) / 0.3])


def test_aan803_missing_table_and_params_named():
    sheet = {"sensor_model": "no2-b43f", "we_e_mv": 270, "ae_e_mv": 275, "we_0_mv": 12, "ae_0_mv": 8, "sensitivity_mv_ppb": 0.3}
    with pytest.raises(TynysError, match=r"table k_t for no2-b43f is not in calibration/alphasense .* params\['k_t'\]"):
        corrections.apply("aan803_alg2", we_mv=[300.0], ae_mv=[290.0], t_c=[20.0], params=sheet)
    with pytest.raises(TynysError, match="needs sensor parameters sensitivity_mv_ppb"):
        corrections.apply("aan803_alg4", we_mv=[300.0], t_c=[20.0], params={"sensor_model": "so2-b4", "we_e_mv": 1, "we_0_mv": 1})


def test_temperature_factor_saturates_outside_table():
    t = corrections.temperature_factor([-4, -4, -4, -4, -4, 0, 20, 140, 450], [-40, 35, 60])
    np.testing.assert_allclose(t, [-4, 80, 450])


def test_unknown_correction_lists_names():
    with pytest.raises(TynysError, match="unknown correction .epa.; known: aan803_alg1, "):
        corrections.get("epa")
