"""``compare``'s recommendation: a real gain is called significant, and the best of several fitted
models is judged on the wider (Bonferroni) interval, so picking the luckiest of m is not a finding."""

import numpy as np
import pytest

from tynys.calibrate import comparison
from tynys.calibrate.inputs import Colocated

pytestmark = pytest.mark.host


def _sites(scale: float, sites: int = 12, days: int = 120, seed: int = 1) -> Colocated:
    """PurpleAir-like CF=1 readings at *sites* monitors: sensor = scale · reference + noise."""
    rng = np.random.default_rng(seed)
    n = sites * days
    y = rng.gamma(3.0, 3.0, n)
    rh = rng.uniform(30, 90, n)
    x = scale * y + rng.normal(0, 1.0, n)
    time = np.tile(1_609_459_200 + 86400 * np.arange(days), sites)
    site = np.repeat([f"s{i:02d}" for i in range(sites)], days)
    return Colocated("pm25", "µg/m³", "24h", None, x, y, rh, None, time, site, sorted(set(site)))


def test_a_real_gain_over_the_published_correction_is_called_significant():
    # A sensor reading 3x the reference: Barkjohn's 0.52 leaves it ~60 % high; a fitted line at any
    # held-out monitor removes that, far beyond what resampling the 12 sites can explain.
    c = comparison.compare(_sites(3.0), validation="site", basis="cf1", n_boot=1000)
    best = c.rows[0]
    assert best["kind"] == "fitted" and best["significant"] is True and best["recommended"]
    assert c.tried == 5 and c.family_level == pytest.approx(0.99)  # ols, deming, mlr_rh, kappa, piecewise (no T)
    assert c.best_ci[1] < 0 and c.best_ci[0] <= best["delta_rmse_ci"][0]  # the wider interval, still below 0
    assert c.recommendation.startswith(f"{best['candidate']} (fitted, RMSE ")
    assert "99 % CI" in c.recommendation and "the interval for the best of 5 fitted models" in c.recommendation
    assert "a significant gain" in c.recommendation


def _judged(ci_95, ci_family, tried: int) -> comparison.Comparison:
    rows = [{"candidate": "ols", "kind": "fitted", "rmse": 2.5, "delta_rmse": -0.3, "delta_rmse_ci": ci_95,
             "significant": ci_95[1] < 0},
            {"candidate": "barkjohn2021", "kind": "published", "rmse": 2.8, "delta_rmse": 0.0, "delta_rmse_ci": [0, 0],
             "significant": None}]
    return comparison.Comparison(rows, [], "leave-site-out", 12, "sites", "barkjohn2021", "", "pm25", "µg/m³", "24h",
                                 1000, 12, 0.95, tried=tried, best_ci=ci_family)


def test_the_best_of_several_is_not_significant_on_its_95_interval_alone():
    text, chosen = comparison._recommend(_judged([-0.5, -0.05], [-0.6, 0.04], tried=6))
    assert chosen["candidate"] == "barkjohn2021"
    assert text.startswith("barkjohn2021: ols has the lowest RMSE (2.50 µg/m³) and its gain over barkjohn2021 is "
                           "significant at 95 % alone")
    assert "but not as the best of 6 fitted models (ΔRMSE -0.30 µg/m³, 99.2 % CI -0.60…+0.04 over 12 sites)" in text
    assert text.endswith("barkjohn2021 needs no fitting")


def test_a_single_model_is_judged_at_the_stated_level():
    text, chosen = comparison._recommend(_judged([-0.5, -0.05], None, tried=1))
    assert chosen["candidate"] == "ols" and text.endswith("95 % CI -0.50…-0.05 over 12 sites), a significant gain")
