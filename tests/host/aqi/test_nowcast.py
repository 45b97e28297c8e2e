"""PM NowCast: AirNow's worked examples, the completeness rule, and a plain-Python reference
written from the definition (AirNow-Tech forum post 172, EPA NowCast fact sheet)."""

import math

import numpy as np
import pytest

from tynys import aqi
from tynys.aqi.nowcast import nowcast

pytestmark = pytest.mark.host

NAN = float("nan")
FORUM_172 = [34.9, 43, 50, 64.9, 69.2, 66.2, 53.7, 48.6, 49.2, 35, NAN, 21]  # oldest first
SLIDES = [50, 80, 75, 90, 82, 53, 64, 74, 21, 10, 16, 13]


def reference(hours_oldest_first):
    """The NowCast of the last hour, by the fact sheet's steps, one value at a time."""
    c = list(reversed(hours_oldest_first[-12:]))  # c[0] is the current hour
    if sum(not math.isnan(x) for x in c[:3]) < 2:
        return None
    valid = [x for x in c if not math.isnan(x)]
    hi, lo = max(valid), min(valid)
    w = 1.0 if hi == 0 else max(0.5, 1 - (hi - lo) / hi)
    num = sum(w ** i * x for i, x in enumerate(c) if not math.isnan(x))
    den = sum(w ** i for i, x in enumerate(c) if not math.isnan(x))
    return num / den


def test_airnow_forum_example():
    nc = nowcast(FORUM_172)
    assert nc.concentration[-1] == pytest.approx(28.4098, abs=5e-5)
    assert nc.weight[-1] == 0.5 and nc.hours[-1] == 11
    s = aqi.sub_index(nc.concentration[-1:], "pm25", "24h")
    assert (s.concentration[0], s.index[0]) == (28.4, 87)  # 85 on the pre-2024 table:
    assert aqi.sub_index(nc.concentration[-1:], "pm25", "24h", version="2015").index[0] == 85


def test_ordering_matters_the_last_value_is_the_current_hour():
    # Read newest first, the same numbers give a different (wrong) answer: the order is part of the contract.
    assert nowcast(FORUM_172[::-1]).concentration[-1] != pytest.approx(28.4098, abs=0.01)


def test_training_slides_example():
    nc = nowcast(SLIDES)
    assert round(float(nc.concentration[-1]), 1) == 17.4 and nc.weight[-1] == 0.5
    assert aqi.sub_index(nc.concentration[-1:], "pm25", "24h").index[0] == 66


@pytest.mark.parametrize("last3, has", [
    ([21, NAN, 35][::-1], True),     # current hour valid, one of three missing
    ([NAN, 40, 35], True),           # the current hour itself may be missing
    ([NAN, NAN, 35], False),         # two of the last three missing: no NowCast
    ([21, NAN, NAN], False),
])
def test_two_of_the_three_latest_hours_are_required(last3, has):
    series = [30.0] * 9 + list(last3)
    got = nowcast(series).concentration[-1]
    assert (not np.isnan(got)) == has
    assert (reference(series) is not None) == has


def test_steady_values_weigh_equally_and_all_zero_is_zero():
    assert nowcast([10.0] * 12).weight[-1] == 1.0
    assert nowcast([10.0] * 12).concentration[-1] == 10.0
    z = nowcast([0.0] * 12)
    assert (z.concentration[-1], z.weight[-1]) == (0.0, 1.0)


def test_weight_floor_is_one_half():
    nc = nowcast([1.0] * 11 + [100.0])
    assert nc.weight[-1] == 0.5


def test_short_series_use_what_exists_and_count_the_rest_missing():
    nc = nowcast([12.0, 14.0])
    assert np.isnan(nc.concentration[0]) and not np.isnan(nc.concentration[1])
    assert nc.hours.tolist() == [1, 2]


def test_negative_hours_are_missing_by_default():
    series = [20.0] * 10 + [-3.0, 25.0]
    assert nowcast(series).hours[-1] == 11
    assert nowcast(series, negative="keep").hours[-1] == 12


def test_vectorised_equals_the_reference_for_every_hour_of_many_series():
    rng = np.random.default_rng(3)
    x = rng.gamma(1.5, 15, (40, 60))
    x[rng.random(x.shape) < 0.15] = np.nan
    nc = nowcast(x)
    for i in range(x.shape[0]):
        for t in range(x.shape[1]):
            want = reference(list(x[i, : t + 1]))
            got = nc.concentration[i, t]
            assert (np.isnan(got) if want is None else got == pytest.approx(want, rel=1e-12)), (i, t)


def test_time_axis_can_be_any_axis_and_blocks_do_not_change_results():
    rng = np.random.default_rng(4)
    x = rng.gamma(2, 10, (7, 3, 100))
    a = nowcast(x).concentration
    b = nowcast(np.moveaxis(x, -1, 0), axis=0).concentration
    assert np.allclose(a, np.moveaxis(b, 0, -1), equal_nan=True)
    rows = np.vstack([nowcast(r).concentration for r in x.reshape(-1, 100)])
    assert np.allclose(a.reshape(-1, 100), rows, equal_nan=True)
