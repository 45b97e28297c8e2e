"""Calibration over the store: a node's signed records co-located with an imported reference; the
fit recovers a known truth, apply writes corrected values beside raw ones (which stay as sent),
published corrections and an ISB's calibration sheet become versioned profiles."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest
from factory import fill

from tynys.calibrate import corrections, models, stored, synthetic
from tynys.calibrate.colocation import OverlapError
from tynys.calibrate.corrections import BasisError
from tynys.calibrate.profiles import ProfileStore
from tynys.cli import main
from tynys.errors import TynysError
from tynys.imports import import_file
from tynys.keys import KeyFile
from tynys.store import Store

pytestmark = [pytest.mark.host, pytest.mark.backends]

T0 = 1_767_225_600  # 2026-01-01T00:00Z
DAYS = 10
N = DAYS * 288
TRUTH = {"intercept": 1.5, "slope": 0.6, "rh": -0.04}  # reference = 1.5 + 0.6·cf1 − 0.04·RH


def scenario(seed=1):
    rng = np.random.default_rng(seed)
    t = T0 + 300 * np.arange(N)
    hour = t % 86400 / 3600
    truth = 12 + 8 * np.sin(2 * np.pi * (hour - 8) / 24) + rng.gamma(2.0, 2.0, N)
    rh = 65 + 20 * np.sin(2 * np.pi * (hour - 4) / 24) + rng.normal(0, 3, N)
    cf1 = (truth - TRUTH["intercept"] - TRUTH["rh"] * rh) / TRUTH["slope"]
    return t, truth, rh, cf1


@pytest.fixture
def city(tmp_path, new_db):
    t, truth, rh, cf1 = scenario()
    store = Store.open(new_db())
    keys = KeyFile(tmp_path / "city.keys")
    fill(store, keys, "osk-01", T0, {"pm.pm25_cf1": cf1, "pm.pm25_atm": cf1 * 0.8, "th.rh": rh, "th.t_c": 5 + 0 * rh})
    fill(store, keys, "osk-02", T0, {"pm.pm25_cf1": cf1 * 1.1, "th.rh": rh})
    hours = t.reshape(-1, 12)[:, 0]
    ref = truth.reshape(-1, 12).mean(axis=1) + np.random.default_rng(7).normal(0, 0.3, len(hours))
    csv = tmp_path / "kazhydromet-1.csv"
    csv.write_text("time,pm25\n" + "".join(f"{a},{b:.3f}\n" for a, b in zip(hours, ref)))
    import_file(store, csv, "csv", site="kazhydromet-1", name="Kazhydromet post 1", units={"pm25": "ug/m3"})
    yield store
    store.close()


def digest(store) -> str:
    """Everything a node sent, as stored: the lines and the decoded channel statistics."""
    h = hashlib.sha256()
    for row in store.conn.execute("SELECT r.raw, v.channel, v.n, v.mean, v.sd, v.min, v.max FROM records r "
                                  "JOIN channel_values v ON v.record = r.id ORDER BY r.id, v.channel"):
        h.update(repr(row).encode())
    return h.hexdigest()


def test_fit_recovers_the_known_truth(city):
    s, summary = stored.fit(city, "osk-01", "pm.pm25_cf1", "csv:kazhydromet-1:pm25", model="mlr_rh")
    c = s.profile.coefficients
    assert c["slope"] == pytest.approx(TRUTH["slope"], abs=0.01)
    assert c["rh"] == pytest.approx(TRUTH["rh"], abs=0.01)
    assert c["intercept"] == pytest.approx(TRUTH["intercept"], abs=0.6)
    assert (s.profile.version, s.profile.unit, s.profile.inputs) == (1, "µg/m³", {"x": "pm.pm25_cf1", "rh": "th.rh"})
    f = s.profile.fitted_on
    assert (f["reference"], f["reference_name"], f["n"], f["interval"]) == ("csv:kazhydromet-1:pm25", "Kazhydromet post 1", 240, "1h")
    # the model's out-of-sample error is the reference's noise; raw reads far off
    assert s.profile.metrics["rmse"] < 0.4 < 5 < summary["raw"]["rmse"]
    assert [p.id for p in stored.profiles(city, "osk-01")] == [s.id]


def test_daily_fit_uses_the_reference_sites_local_days(tmp_path):
    # Kazhydromet daily means stamped at local midnight (Oskemen: UTC+05:00), imported with --tz.
    days = 50  # a 24-h fit is cross-validated in blocks of 24 days
    t = T0 + 300 * np.arange(days * 288)
    level = np.random.default_rng(2).uniform(5, 80, days + 1)
    local = (t + 5 * 3600) // 86400
    truth = level[local - local[0]]  # each local day at its own level
    store = Store.open(tmp_path / "d.db")
    fill(store, KeyFile(tmp_path / "d.keys"), "osk-01", T0, {"pm.pm25_cf1": truth / 0.6})
    d, inv = np.unique(local, return_inverse=True)
    stamp = [np.datetime64(int(x), "D").astype(str) + " 00:00" for x in d]
    csv = tmp_path / "kazhydromet-daily.csv"
    csv.write_text("time,pm25\n" + "".join(f"{a},{b:.3f}\n" for a, b in zip(stamp, np.bincount(inv, truth) / np.bincount(inv))))
    import_file(store, csv, "csv", site="kazhydromet-d", tz="Asia/Almaty", interval=86400, units={"pm25": "ug/m3"})
    s, summary = stored.fit(store, "osk-01", "pm.pm25_cf1", "csv:kazhydromet-d:pm25", model="ols", interval="24h")
    assert summary["days"] == s.profile.fitted_on["days"] == "Asia/Almaty standard time"
    assert summary["from"] == "2025-12-31T19:00:00Z" and summary["pairs"] == days  # day 1: 19 of 24 h
    assert summary["raw"]["r2"] == pytest.approx(1.0) and s.profile.coefficients["slope"] == pytest.approx(0.6, abs=1e-3)
    _, utc = stored.fit(store, "osk-01", "pm.pm25_cf1", "csv:kazhydromet-d:pm25", model="ols", interval="24h", tz="UTC")
    assert utc["days"] == "UTC" and utc["from"] == "2026-01-01T00:00:00Z" and utc["raw"]["r2"] < 0.9
    store.close()


def test_apply_writes_corrected_values_beside_untouched_raw(city):
    before = digest(city)
    s, _ = stored.fit(city, "osk-01", "pm.pm25_cf1", "csv:kazhydromet-1", model="mlr_rh")
    rows = stored.apply(city)
    assert rows == [{"node": "osk-01", "channel": "pm.pm25_cf1", "unit": "µg/m³", "windows": N, "corrected": N,
                     "no_value": 0, "not_covered": 0, "versions": {"v1": N}}]
    assert digest(city) == before
    w = city.windows("osk-01", ["pm.pm25_cf1", "th.rh"])
    c = city.corrected("osk-01", "pm.pm25_cf1")
    want = models.predict("mlr_rh", s.profile.coefficients, {"x": w.mean["pm.pm25_cf1"], "rh": w.mean["th.rh"]})
    assert np.array_equal(c.record, w.record) and np.allclose(c.value, want, rtol=0, atol=1e-9)
    assert set(c.profile.tolist()) == {s.id} and set(c.version.tolist()) == {1} and c.unit == "µg/m³"
    assert stored.apply(city) == rows  # again: the same values, not twice as many
    assert city.stats()["corrected_values"] == N


def test_a_newer_version_takes_over_from_its_start(city):
    v1, _ = stored.fit(city, "osk-01", "pm.pm25_cf1", "csv:kazhydromet-1", model="mlr_rh")
    switch = T0 + 5 * 86400
    v2, _ = stored.fit(city, "osk-01", "pm.pm25_cf1", "csv:kazhydromet-1", model="ols", t0=switch, valid_from=switch)
    assert (v1.profile.version, v2.profile.version) == (1, 2) and v2.profile.valid_from == "2026-01-06T00:00:00Z"
    rows = stored.apply(city, "osk-01")
    assert rows[0]["versions"] == {"v1": N // 2, "v2": N // 2}
    c = city.corrected("osk-01", "pm.pm25_cf1")
    w = city.windows("osk-01", ["pm.pm25_cf1"])
    late = c.t0 >= switch
    assert (c.version[late] == 2).all() and (c.version[~late] == 1).all()
    assert np.allclose(c.value[late], models.predict("ols", v2.profile.coefficients, {"x": w.mean["pm.pm25_cf1"][late]}))
    assert len(stored.profiles(city, "osk-01")) == 2  # v1 is kept: its values can be made again


def test_published_correction_reads_the_nodes_own_rh(city):
    before = digest(city)
    s = stored.use_correction(city, "osk-02", "pm.pm25_cf1", "barkjohn2021")
    assert s.profile.inputs == {"x": "pm.pm25_cf1", "rh": "th.rh"} and s.profile.coefficients == {"basis": "cf1"}
    assert s.profile.valid_from == "1970-01-01T00:00:00Z" and s.profile.fitted_on["doi"] == "10.5194/amt-14-4617-2021"
    assert stored.use_correction(city, "osk-02", "pm.pm25_cf1", "barkjohn2021").id == s.id  # no new version for the same
    stored.apply(city, "osk-02")
    w = city.windows("osk-02", ["pm.pm25_cf1", "th.rh"])
    want = corrections.apply("barkjohn2021", x=w.mean["pm.pm25_cf1"], basis="cf1", rh=w.mean["th.rh"])
    assert np.array_equal(city.corrected("osk-02", "pm.pm25_cf1").value, want)
    assert digest(city) == before


@pytest.mark.parametrize("node, channel, name, message", [
    ("osk-01", "pm.pm25_cf1", "epa2021_fsm_atm", "epa2021_fsm_atm was fitted on atm (Plantower ATM (atmospheric environment)) but x is cf1"),
    ("osk-01", "pm.pm25_atm", "barkjohn2021", "barkjohn2021 was fitted on cf1 (Plantower CF=1 (standard particle)) but x is atm"),
    ("osk-01", "th.rh", "barkjohn2021", "barkjohn2021 is for Plantower CF=1 (standard particle) values (channels named *_cf1); th.rh is not one"),
])
def test_a_correction_on_the_wrong_basis_is_refused(city, node, channel, name, message):
    with pytest.raises(BasisError) as e:
        stored.use_correction(city, node, channel, name)
    assert message in str(e.value)
    assert stored.profiles(city) == []


def test_refusals_name_the_fix(city):
    with pytest.raises(TynysError, match=r"node osk-02 has no channel sps.pm25; it has pm.n0_3, pm.pm10_cf1"):
        stored.use_correction(city, "osk-02", "sps.pm25", "epa2021_fsm_atm")
    with pytest.raises(TynysError, match=r"aan803_alg4 needs the sensor's calibration sheet"):
        stored.use_correction(city, "osk-01", "so2.we_mv", "aan803_alg4")
    with pytest.raises(TynysError, match=r"AAN 803 algorithm 4 needs sensor parameters we_0_mv, sensitivity_mv_ppb"):
        stored.use_correction(city, "osk-01", "so2.we_mv", "aan803_alg4", params={"sensor_model": "so2-b4", "we_e_mv": 270})
    with pytest.raises(TynysError, match=r"no calibration profile for osk-01: add one with tynys calibrate fit"):
        stored.apply(city, "osk-01")
    with pytest.raises(OverlapError, match=r"only 10 co-located 1h intervals with both sensor and reference; at least 30 are needed"):
        stored.fit(city, "osk-01", "pm.pm25_cf1", "kazhydromet-1", model="mlr_rh", t1=T0 + 10 * 3600)
    with pytest.raises(TynysError, match=r"site csv:kazhydromet-1 has no 'so2'; it has pm25"):
        stored.fit(city, "osk-01", "pm.pm25_cf1", "kazhydromet-1:so2")
    with pytest.raises(TynysError, match=r"no imported site 'nowhere'"):
        stored.fit(city, "osk-01", "pm.pm25_cf1", "nowhere")


def test_isb_so2_through_its_calibration_sheet(tmp_path):
    """WE/AE millivolts made with the AAN 803 model (synthetic.so2_node) come back as ppb."""
    sheet = dict(synthetic.SHEET, no2_cross_mv_ppb=0.0)  # the node has no NO2 to remove
    node = synthetic.so2_node(days=3, drift_start_day=99, sheet=sheet, noise_mv=0.05)
    rep = lambda a: np.repeat(a, 12)  # noqa: E731  (hourly -> 5-min windows)
    store = Store.open(tmp_path / "c.db")
    fill(store, KeyFile(tmp_path / "c.keys"), "osk-so2", int(node["time"][0]),
         {"so2.we_mv": rep(node["we_mv"]), "so2.ae_mv": rep(node["ae_mv"]), "th.t_c": rep(node["t_c"])})
    params = {k: v for k, v in sheet.items() if k != "no2_cross_mv_ppb"}
    s = stored.use_correction(store, "osk-so2", "so2.we_mv", "aan803_alg4", params=params)
    assert s.profile.inputs == {"we_mv": "so2.we_mv", "ae_mv": "so2.ae_mv", "t_c": "th.t_c"} and s.profile.unit == "ppb"
    assert s.profile.fitted_on["sheet"] == params
    stored.apply(store)
    c = store.corrected("osk-so2", "so2.we_mv")
    got = c.value.reshape(-1, 12).mean(axis=1)
    # the records carry means rounded to 0.01 mV (= 0.03 ppb); the rest is the injected noise
    assert np.sqrt(np.mean((got - node["so2_ppb"]) ** 2)) < 0.3
    store.close()


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_fit_apply_profiles(city, capsys, tmp_path):
    db = str(city.location)
    code, out, err = run(capsys, "calibrate", "fit", "--db", db, "--node", "osk-01", "--channel", "pm.pm25_cf1",
                         "--reference", "csv:kazhydromet-1:pm25", "--model", "mlr_rh", "--json")
    assert code == 0, err
    doc = json.loads(out)
    assert (doc["version"], doc["model"], doc["summary"]["pairs"]) == (1, "mlr_rh", 240)
    code, out, err = run(capsys, "calibrate", "fit", "--db", db, "--node", "osk-01", "--reference", "kazhydromet-1")
    lines = out.splitlines()
    assert code == 0 and lines[0] == "osk-01 pm.pm25_cf1 v2: ols (profile 2 in the database)"
    assert lines[1].startswith("  reference = ") and lines[1].endswith("·sensor   [µg/m³]")
    assert lines[2] == ("  fitted on 240 1h pairs, 2026-01-01T00:00:00Z .. 2026-01-10T23:00:00Z, against "
                        "csv:kazhydromet-1:pm25 (Kazhydromet post 1)")
    assert lines[5].split()[:3] == ["raw", "sensor", "240"] and lines[6].split()[:2] == ["corrected", "240"]
    code, out, err = run(capsys, "calibrate", "apply", "--db", db, "--correction", "barkjohn2021", "--node", "osk-02")
    assert code == 0 and err == "osk-02 pm.pm25_cf1 v1: correction:barkjohn2021 (profile 3)\n"
    assert out.splitlines()[2].split() == ["osk-02", "pm.pm25_cf1", "µg/m³", "2880", "2880", "0", "0", "v1", "2880"]
    code, out, err = run(capsys, "calibrate", "apply", "--db", db, "--json")
    assert [(r["node"], r["versions"]) for r in json.loads(out)] == [("osk-01", {"v2": N}), ("osk-02", {"v1": N})]
    export = tmp_path / "profiles"
    code, out, err = run(capsys, "calibrate", "profiles", "--db", db, "--export", str(export))
    assert code == 0 and err == f"wrote 3 profile file(s) under {export}\n"
    assert [line.split()[:5] for line in out.splitlines()[2:]] == [
        ["1", "osk-01", "pm.pm25_cf1", "1", "mlr_rh"], ["2", "osk-01", "pm.pm25_cf1", "2", "ols"],
        ["3", "osk-02", "pm.pm25_cf1", "1", "correction:barkjohn2021"]]
    files = ProfileStore(export).list("osk-01", "pm.pm25_cf1")
    assert [p.version for p in files] == [1, 2] and files[0].coefficients == doc["coefficients"]
    code, out, err = run(capsys, "calibrate", "profiles", "--db", db, "--export", str(export))
    assert code == 2 and "profile versions are never overwritten" in err


def test_cli_sheet_from_params(tmp_path, capsys):
    store = Store.open(tmp_path / "c.db")
    fill(store, KeyFile(tmp_path / "c.keys"), "osk-01", T0, {"so2.we_mv": np.full(24, 290.0), "so2.ae_mv": np.full(24, 283.0),
                                                              "th.t_c": np.full(24, 20.0)})
    store.close()
    sheet = tmp_path / "sheet.json"
    sheet.write_text(json.dumps({"sensor_model": "so2-b4", "we_e_mv": 270, "ae_e_mv": 275, "we_0_mv": 12, "ae_0_mv": 8}))
    code, out, err = run(capsys, "calibrate", "apply", "--db", str(tmp_path / "c.db"), "--correction", "aan803_alg4",
                         "--params", str(sheet), "--param", "sensitivity_mv_ppb=0.3", "--json")
    assert code == 0, err
    assert json.loads(out)[0]["corrected"] == 24
    with Store.open(tmp_path / "c.db") as s:
        want = corrections.apply("aan803_alg4", we_mv=290.0, t_c=20.0, params={**json.loads(sheet.read_text()),
                                                                               "sensitivity_mv_ppb": 0.3})
        assert np.allclose(s.corrected("osk-01", "so2.we_mv").value, want)


# --- audit issue 10, item 15: the file route and the database route meet -------------------------------

def test_an_imported_sensor_site_is_fitted_from_the_store(tmp_path, capsys, toco):
    # `fit --db --node "sensortoolkit:…"` found no values: it only read nodes' windows.
    db = str(tmp_path / "toco.db")
    with Store.open(db) as store:
        import_file(store, toco / "airnowtech_example_reference_data.csv.gz", "airnowtech")
        import_file(store, toco / "toco_toucan_RT01_raw.csv.gz", "sensortoolkit", tz="-05:00")
    args = ["calibrate", "fit", "--db", db, "--node", "sensortoolkit:Ramphastos Toco 01", "--channel", "pm25",
            "--reference", "airnowtech:370630099", "--model", "mlr_rh"]
    assert main(args) == 2
    assert "sensortoolkit:Ramphastos Toco 01 is an imported site, not a node: its profile cannot be kept in the " \
           "database (profiles belong to nodes); write it to a folder with --profiles DIR" in capsys.readouterr().err
    assert main(args + ["--profiles", str(tmp_path / "calib"), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert (doc["sensor"], doc["inputs"], doc["fitted_on"]["sensor_kind"]) == ("pm25", {"x": "pm25", "rh": "rh"}, "site")
    # the same numbers as the file route: the store holds what the files said
    assert doc["summary"]["pairs"] == 706 and doc["summary"]["raw"]["rmse"] == pytest.approx(3.531, abs=0.001)
    assert doc["metrics"]["rmse"] == pytest.approx(1.522, abs=0.001)
    assert (tmp_path / "calib" / "sensortoolkit:Ramphastos Toco 01" / "pm25" / "v1.json").is_file()


def test_a_profile_fitted_from_files_is_applied_to_a_node(city, capsys, tmp_path):
    # Fit on files, as a researcher does before nodes exist; then the node applies it (there was no way).
    t, truth, rh, cf1 = scenario(seed=3)
    hours = t.reshape(-1, 12)[:, 0]
    f = tmp_path / "colocation.csv"
    f.write_text("time,cf1,rh,ref\n" + "".join(f"{a},{b:.3f},{c:.2f},{d:.3f}\n" for a, b, c, d in zip(
        hours, cf1.reshape(-1, 12).mean(1), rh.reshape(-1, 12).mean(1), truth.reshape(-1, 12).mean(1))))
    root = tmp_path / "calib"
    assert main(["calibrate", "fit", "--sensor", f"{f}:cf1", "--reference", f"{f}:ref", "--rh", f"{f}:rh",
                 "--pollutant", "pm25", "--model", "mlr_rh", "--node", "lab", "--profiles", str(root)]) == 0
    capsys.readouterr()
    path = root / "lab" / "pm.pm25_cf1" / "v1.json"
    code = main(["calibrate", "apply", "--db", str(city.location), "--profile", str(path), "--node", "osk-02", "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert err == f"osk-02 pm.pm25_cf1 v1: mlr_rh from {path} (profile 1)\n"
    assert json.loads(out) == [{"node": "osk-02", "channel": "pm.pm25_cf1", "unit": "µg/m³", "windows": N, "corrected": N,
                                "no_value": 0, "not_covered": 0, "versions": {"v1": N}}]
    s = stored.profiles(city, "osk-02")[0].profile
    assert s.inputs == {"x": "pm.pm25_cf1", "rh": "th.rh"} and s.fitted_on["adopted_from"]["node"] == "lab"
    # each window corrected by the file's equation on the node's own channels
    w = city.windows("osk-02", ["pm.pm25_cf1", "th.rh"])
    coef = json.loads(path.read_text())["coefficients"]
    want = models.predict("mlr_rh", coef, {"x": w.mean["pm.pm25_cf1"], "rh": w.mean["th.rh"]})
    np.testing.assert_allclose(city.corrected("osk-02", "pm.pm25_cf1").value, want, rtol=1e-9)
    assert coef["slope"] == pytest.approx(TRUTH["slope"], abs=0.02)  # fitted on files, it found the truth
