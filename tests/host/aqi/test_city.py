"""City and district values from many nodes: representativeness rules and the dominant pollutant."""

import numpy as np
import pytest

from tynys.aqi import city
from tynys.aqi.tables import AqiError

pytestmark = pytest.mark.host

T0 = 1_780_000_000 - 1_780_000_000 % 3600


def test_calibrated_values_are_preferred_and_marked():
    v = np.array([[10, 20, np.nan], [12, 22, 5], [11, 200, 6], [13, 21, 7.0]])
    qa = np.zeros(v.shape, int)
    qa[2, 1] = 4  # node 2 failed QA in hour 1 (its 200 is dropped)
    c = city.city_values(v, calibrated=[True, True, True, False], qa=qa, districts=["Ulba", "Ulba", "Centre", "Centre"])
    assert c.areas == ["city", "Centre", "Ulba"]
    assert c.value[0].tolist() == [11, 21, 6]
    assert c.basis_names()[0].tolist() == ["calibrated", "mixed", "mixed"]
    assert c.nodes[0].tolist() == [3, 3, 3] and c.calibrated[0].tolist() == [3, 2, 2]
    # a district needs one node by default (and one calibrated node is preferred to raw ones); nodes says how many
    assert c.basis_names()[1:].tolist() == [["calibrated", "raw", "calibrated"], ["calibrated"] * 3]
    assert c.nodes[1:].tolist() == [[1, 1, 1], [2, 2, 1]] and c.value[1:].tolist() == [[11, 21, 6], [11, 21, 5]]
    strict = city.city_values(v, calibrated=[True, True, True, False], qa=qa, districts=["Ulba", "Ulba", "Centre", "Centre"],
                              rules=city.Rules(district_min_nodes=None))
    assert strict.basis_names()[1:].ravel().tolist() == ["too-few-nodes"] * 6  # two nodes per district < min_nodes 3
    assert np.array_equal(strict.value[0], c.value[0])
    no_raw = city.city_values(v, calibrated=[True, True, True, False], qa=qa, rules=city.Rules(allow_raw=False))
    assert np.isnan(no_raw.value[0, 1]) and no_raw.basis_names()[0, 1] == "too-few-nodes"


def test_statistics():
    v = np.array([[10.0], [11.0], [12.0], [13.0], [500.0]])  # one stuck sensor
    got = {s: city.city_values(v, rules=city.Rules(statistic=s, trim=0.2)).value[0, 0] for s in city.STATISTICS}
    assert got == {"median": 12.0, "trimmed": 12.0, "mean": 109.2, "max": 500.0}
    even = city.city_values(v[:4]).value[0, 0]
    assert even == 11.5


def test_qa_bits_and_negative_values():
    v = np.array([[10.0], [-2.0], [12.0], [14.0]])
    qa = np.array([[0], [0], [1], [2]])
    assert city.city_values(v, qa=qa, rules=city.Rules(min_nodes=1)).value[0, 0] == 10.0
    only_bit0 = city.city_values(v, qa=qa, rules=city.Rules(min_nodes=1, qa_reject=1))
    assert only_bit0.value[0, 0] == 12.0 and only_bit0.nodes[0, 0] == 2  # 10 and 14; -2 never counts


def test_dominant_pollutant_per_area_and_hour():
    hours = T0 + 3600 * np.arange(24, dtype=np.int64)
    rng = np.random.default_rng(0)
    pm = 8 + rng.random((5, 24))
    so2 = np.full((5, 24), 20.0)
    so2[:, 20:] = 250.0  # a smelter plume in the evening
    d = ["A", "A", "A", "B", "B"]
    areas, o = city.city_index(hours, {"pm25": city.city_values(pm, districts=d),
                                       "so2": city.city_values(so2, districts=d)}, "us-epa")
    assert areas == ["city", "A", "B"]
    assert o.main[0, 12] == "pm25" and o.main[0, 21] == "so2" and o.main[1, 21] == "so2"
    assert np.isnan(o.index[:, 0]).all() and set(o.status[:, 0]) == {7}  # no PM NowCast in the first hour: incomplete
    assert o.main[2, 21] == "so2"  # district B: two nodes, enough for a district
    _, strict = city.city_index(hours, {"pm25": city.city_values(pm, districts=d, rules=city.Rules(district_min_nodes=3)),
                                        "so2": city.city_values(so2, districts=d, rules=city.Rules(district_min_nodes=3))},
                                "us-epa")
    assert np.isnan(strict.index[2]).all() and np.array_equal(strict.index[:2], o.index[:2], equal_nan=True)


@pytest.mark.parametrize("kwargs, message", [
    (dict(values=np.ones(3)), "values must be nodes x hours (2-D); got shape (3,)"),
    (dict(values=np.ones((2, 3)), districts=["a"]), "districts must name one district per node (2); got 1"),
    (dict(values=np.ones((2, 3)), qa=np.zeros((3, 3))), "qa must be per node (2,) or per value (2, 3); got (3, 3)"),
    (dict(values=np.ones((2, 3)), rules=city.Rules(statistic="mode")), "unknown statistic 'mode'; use one of median, trimmed, mean, max"),
    (dict(values=np.ones((2, 3)), rules=city.Rules(trim=0.5)), "trim 0.5 must be in [0, 0.5): the fraction cut from each end"),
    (dict(values=np.ones((2, 3)), rules=city.Rules(min_nodes=0)), "min_nodes 0 must be at least 1"),
])
def test_bad_city_input(kwargs, message):
    values = kwargs.pop("values")
    with pytest.raises(AqiError) as e:
        city.city_values(values, **kwargs)
    assert str(e.value) == message
