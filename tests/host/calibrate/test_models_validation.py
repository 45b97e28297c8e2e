"""Fitted models recover known relations; blocked and site folds; the fast CV equals refitting."""

import numpy as np
import pytest

from tynys.calibrate import models, validation
from tynys.calibrate.colocation import OverlapError

pytestmark = pytest.mark.host


@pytest.fixture
def synthetic():
    rng = np.random.default_rng(7)
    n = 2000
    ref = rng.gamma(2.0, 5.0, n)
    rh = rng.uniform(20, 95, n)
    t = rng.uniform(-10, 30, n)
    growth = 1 + 0.3 / (100 / rh - 1)
    x = (1.6 * ref + 1.0) * growth + rng.normal(0, 0.5, n)
    return {"x": x, "rh": rh, "t_c": t}, ref


def test_kappa_fit_recovers_growth(synthetic):
    data, ref = synthetic
    coef = models.fit("kappa", data, ref)
    assert coef["kappa_over_density"] == pytest.approx(0.3, abs=0.03)
    assert coef["slope"] == pytest.approx(1 / 1.6, rel=0.03)


def test_every_model_beats_nothing_and_predicts_shape(synthetic):
    data, ref = synthetic
    for name in models.NAMES:
        coef = models.fit(name, data, ref)
        pred = models.predict(name, coef, data)
        assert pred.shape == ref.shape
        assert np.sqrt(np.mean((pred - ref) ** 2)) < np.sqrt(np.mean((data["x"] - ref) ** 2)), name


def test_piecewise_finds_breakpoint():
    x = np.linspace(0, 100, 400)
    y = np.where(x < 40, 0.5 * x, 20 + 1.5 * (x - 40))
    coef = models.fit("piecewise", {"x": x}, y)
    assert coef["breakpoint"] == pytest.approx(40, abs=3) and coef["slope_change"] == pytest.approx(1.0, abs=0.1)


def test_gram_cross_validation_equals_refitting(synthetic):
    data, ref = synthetic
    folds = validation.blocked_folds(np.arange(len(ref)), 10)
    fast = validation.cross_validate("mlr_rh", data, ref, folds)
    slow = np.empty_like(fast)
    for k in range(10):
        te = folds == k
        c = models.fit("mlr_rh", {kk: v[~te] for kk, v in data.items()}, ref[~te])
        slow[te] = models.predict("mlr_rh", c, {kk: v[te] for kk, v in data.items()})
    np.testing.assert_allclose(fast, slow, rtol=1e-9, atol=1e-9)


def test_blocked_folds_are_contiguous_in_time():
    t = np.random.default_rng(0).permutation(100)
    f = validation.blocked_folds(t, 10)
    for k in range(10):
        assert sorted(t[f == k].tolist()) == list(range(10 * k, 10 * k + 10))


def test_blocked_folds_keep_each_time_in_one_fold():
    # three co-located sensors pooled: 3 rows per hour; a block edge must not split an hour
    t = np.repeat(np.arange(35), 3)
    f = validation.blocked_folds(np.random.default_rng(1).permutation(t), 10)
    tp = np.random.default_rng(1).permutation(t)
    for hour in range(35):
        assert len(set(f[tp == hour].tolist())) == 1, hour
    assert sorted(set(f.tolist())) == list(range(10))


def test_group_folds_need_two_sites():
    with pytest.raises(Exception, match="leave-site-out needs at least 2 sites; have 1"):
        validation.group_folds(["a", "a"])


def test_sensors_sharing_a_reference_are_one_site():
    t = np.arange(100)
    ref_a, ref_b = np.arange(100.0), np.arange(100.0) + 0.5
    labels = ["s1"] * 100 + ["s2"] * 100 + ["s3"] * 100
    # s1 and s2 stand at monitor A (the same reference values; one value differs), s3 at monitor B
    ref = np.concatenate([ref_a, np.where(t == 7, -1.0, ref_a), ref_b])
    sites, merged = validation.shared_reference_sites(labels, np.tile(t, 3), ref)
    assert merged == [["s1", "s2"]]
    assert sites.tolist() == ["s1+s2"] * 200 + ["s3"] * 100
    folds, names = validation.group_folds(sites)
    assert names == ["s1+s2", "s3"] and (folds[:200] == folds[0]).all()


def test_fit_refuses_short_overlap():
    with pytest.raises(OverlapError, match="fitting mlr_rh: only 20 co-located 1h intervals .* at least 30 are needed"):
        models.fit("mlr_rh", {"x": np.arange(20.0), "rh": np.arange(20.0)}, np.arange(20.0))


def test_model_missing_input_named():
    with pytest.raises(Exception, match=r"model mlr_rh needs rh \(e.g. --rh FILE:COLUMN for rh\)"):
        models.fit("mlr_rh", {"x": np.arange(50.0), "rh": None}, np.arange(50.0))
