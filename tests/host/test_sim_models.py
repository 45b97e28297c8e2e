"""The sensor models as data (host/tynys/sim/models/*.json), their numpy twins and the truth tables."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tynys.calibrate import corrections
from tynys.sim import models, truth
from tynys.sim.models import ModelError

pytestmark = pytest.mark.host


@pytest.mark.parametrize("name", models.names())
def test_every_parameter_has_one_spread_a_unit_and_a_source(name):
    doc = models.load(name)
    assert doc["format"] == "tynys-sensor-model/1" and doc["equations"] and doc["title"]
    for k, p in doc["parameters"].items():
        assert sum(d in p for d in ("value", "normal", "lognormal", "uniform")) == 1, k
        assert p["source"].strip() and "unit" in p and p["meaning"], k
    u = models.draw(name, np.random.default_rng(3))
    assert set(u) == set(models.typical(name)) == set(doc["parameters"])
    assert u == models.draw(name, np.random.default_rng(3))  # the same seed, the same unit


def test_a_malformed_model_is_refused_with_what_is_wrong(tmp_path, monkeypatch):
    (tmp_path / "bad.json").write_text(json.dumps({"format": "tynys-sensor-model/1", "parameters": {"gain": {"value": 1}}}))
    monkeypatch.setattr(models, "DIR", tmp_path)
    models._load.cache_clear()
    try:
        with pytest.raises(ModelError, match="parameter gain needs exactly one of value/normal/lognormal/uniform and a source"):
            models.load("bad")
        with pytest.raises(ModelError, match="no sensor model 'pms9999'; there are bad"):
            models.load("pms9999")
    finally:
        models._load.cache_clear()


def test_spreads_are_drawn_as_stated():
    d = models.draws("pms5003", np.random.default_rng(1), 4000)
    assert np.std(np.log(d["gain"])) == pytest.approx(0.104, rel=0.05)
    assert np.std(d["offset"]) == pytest.approx(0.6, rel=0.05)
    assert d["rh_deliquescence"].min() >= 65 and d["rh_deliquescence"].max() <= 80
    s = models.draws("isb-so2-b4", np.random.default_rng(1), 4000)
    assert 275 <= s["sensitivity_na_ppm"].min() and s["sensitivity_na_ppm"].max() <= 450  # the datasheet's range


def test_growth_is_kappa_koehler_above_deliquescence_only():
    rh = np.array([50.0, 74.9, 75.0, 85.0, 99.5])
    g = models.growth(rh, 0.33, 75.0)
    assert list(g[:2]) == [1.0, 1.0]  # the dry branch
    # above it, the shipped kappa-Koehler correction with the same kappa undoes it exactly
    back = corrections.kappa_kohler(100 * g[2:4], rh[2:4], 0.33 / 1.65, (0, 99))
    assert back == pytest.approx([100.0, 100.0], rel=1e-12)
    assert g[4] == pytest.approx(float(models.growth(99.0, 0.33, 75.0)))  # RH capped at 99 %


def test_plantower_atm_follows_wallaces_knees():
    u = models.typical("pms5003")
    cf1 = np.array([10.0, 28.0, 53.0, 78.0, 300.0])
    atm = models.atm(cf1, u)
    assert atm[:2] == pytest.approx([10.0, 28.0]) and atm[3:] == pytest.approx(cf1[3:] * 0.6667)
    assert np.all(np.diff(models.atm(np.linspace(0, 400, 4001), u)) >= 0)  # continuous, never falling
    # PyPMS's real PMS5003T frame: CF=1 39 -> ATM 35 lies between equal and 2/3 (this form: 36.1)
    assert 35 * 0.95 < float(models.atm(39.0, u)) < 39


def test_the_so2_cell_reads_low_in_the_cold_and_lower_with_no2():
    u = models.typical("isb-so2-b4")
    s20 = u["sensitivity_na_ppm"] * u["isb_gain_mv_na"] / 1000
    warm, cold = (models.isb(u, 100.0, 0.0, t)["we_mv"] - models.isb(u, 0.0, 0.0, t)["we_mv"] for t in (20.0, -20.0))
    assert warm == pytest.approx(100 * s20) and cold == pytest.approx(100 * s20 * u["sens_m20"])
    no2 = models.isb(u, 0.0, 30.0, 20.0)["we_mv"] - models.isb(u, 0.0, 0.0, 20.0)["we_mv"]
    assert no2 == pytest.approx(30 * u["no2_cross"] * s20)
    sheet = models.sheet(u)
    assert sheet["sensitivity_mv_ppb"] == pytest.approx(s20) and sheet["we_0_mv"] == pytest.approx(u["we_zero_na"] * 0.8)


def test_truth_windows_are_the_means_of_the_world_table():
    class P:  # a planned node with a ramp: PM2.5 0 -> 60 over the first 600 s, then held
        node = "n-1"
        units = {}
        world = {"start": 3600, "t": [0, 600, 1200], "pm25": [0.0, 60.0, 60.0], "rh": 80.0}

    t = truth.windows([P()], 3600, 1)
    assert t.t0[:3].tolist() == [3600, 3900, 4200]
    assert t.values["pm25"][0][:3] == pytest.approx([15.0, 45.0, 60.0])  # exact for a linear ramp
    assert np.isnan(t.values["so2_ppb"]).all() and t.values["rh"][0][0] == 80.0
    hours, h = t.hourly()
    assert hours.tolist() == [3600] and h["pm25"][0][0] == pytest.approx((15 + 45 + 60 * 10) / 12)
