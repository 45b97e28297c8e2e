"""What `tynys aqi city/node` may publish: an overall index missing a measured pollutant's
sub-index is `incomplete` everywhere (rows, CSV, JSON, tables); each kind of standard shows what
it can (bands, a named missing pollutant, the temperature where a conversion needs one); values
are reported to their measurement precision; outputs name the channel and profile behind a value,
and a second correction never silently changes what "raw" means."""

from __future__ import annotations

import csv
import io
import json

import numpy as np
import pytest
from factory import fill

from tynys import pipeline
from tynys.calibrate import stored, synthetic
from tynys.cli import main
from tynys.keys import KeyFile
from tynys.store import Store

pytestmark = pytest.mark.host

T0 = 1_767_225_600  # 2026-01-01T00:00Z
N = 288  # one day of 5-min windows
FROM, TO = "2026-01-01T00:00Z", "2026-01-01T04:00Z"  # no data before: the first hours have no PM NowCast


@pytest.fixture(scope="module")
def smoky(tmp_path_factory):
    """Three nodes at 150 µg/m³ PM2.5 (ATM and CF=1) with calibrated SO2 (an ISB and its sheet)."""
    root = tmp_path_factory.mktemp("smoky")
    sheet = dict(synthetic.SHEET, no2_cross_mv_ppb=0.0)
    so2 = synthetic.so2_node(days=1, drift_start_day=99, sheet=sheet, noise_mv=0.05, start=T0)
    rep = lambda a: np.repeat(a, 12)  # noqa: E731
    with Store.open(root / "city.db") as store:
        keys = KeyFile(root / "city.keys")
        for i, district in enumerate(("Ulba", "Ulba", "Centre")):
            node = f"osk-0{i + 1}"
            fill(store, keys, node, T0, {"pm.pm25_atm": np.full(N, 150.0 + i / 3), "pm.pm25_cf1": np.full(N, 220.0),
                                         "so2.we_mv": rep(so2["we_mv"]), "so2.ae_mv": rep(so2["ae_mv"]),
                                         "th.t_c": rep(so2["t_c"])}, district=district)
            stored.use_correction(store, node, "so2.we_mv", "aan803_alg4",
                                  params={k: v for k, v in sheet.items() if k != "no2_cross_mv_ppb"})
        stored.apply(store)
    return str(root / "city.db")


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_so2_alone_never_makes_an_overall_index_while_pm25_has_none(smoky, capsys):
    code, out, err = run(capsys, "aqi", "city", "--db", smoky, "--from", FROM, "--to", TO, "--no-districts", "--json")
    rows = json.loads(out)
    first, later = rows[0], rows[2]
    assert first["pm25"] == 150.3 and first["nowcast_pm25"] is None and first["aqi_so2"] is not None
    assert (first["aqi"], first["aqi_category"], first["aqi_main"], first["aqi_status"], first["aqi_lacking"]) == \
        (None, None, None, "incomplete", "pm25")  # was "AQI 16, Good" from SO2 alone
    assert later["aqi"] == later["aqi_pm25"] > 200 and later["aqi_status"] == "ok" and later["aqi_lacking"] is None
    code, out, err = run(capsys, "aqi", "city", "--db", smoky, "--from", FROM, "--to", TO, "--no-districts", "--csv")
    first = next(csv.DictReader(io.StringIO(out)))
    assert (first["aqi"], first["aqi_category"], first["aqi_status"]) == ("", "", "incomplete")
    code, out, err = run(capsys, "aqi", "city", "--db", smoky, "--from", FROM, "--to", TO, "--no-districts")
    table = out.splitlines()
    assert table[0].split()[7:10] == ["aqi", "aqi_category", "aqi_main"]
    assert table[2].split()[7:9] == ["-", "incomplete"] and "Good" not in out.splitlines()[2]
    code, out, err = run(capsys, "aqi", "node", "--db", smoky, "--node", "osk-01", "--from", FROM, "--to", TO, "--json")
    assert json.loads(out)[0]["aqi_status"] == "incomplete" and json.loads(out)[0]["aqi_category"] is None


def test_node_summary_counts_incomplete_hours(smoky):
    with Store.open(smoky) as store:
        h = pipeline.hourly(store, T0, T0 + 6 * 3600)
    s = pipeline.node_summary(h, ("us-epa",))[0]
    assert s["aqi_incomplete_hours"] == 1 and s["aqi"] == s["aqi_max"] > 200


def test_each_kind_of_standard_shows_what_it_can(smoky, capsys):
    code, out, err = run(capsys, "aqi", "city", "--db", smoky, "--from", FROM, "--to", TO, "-s", "canada-aqhi")
    assert (code, out) == (2, "")
    assert err == ("tynys: error: canada-aqhi 2008 needs NO2 and O3 (3-h means), which these nodes do not measure "
                   "(they measure PM2.5 and SO2): choose another standard (tynys aqi standards)\n")
    code, out, err = run(capsys, "aqi", "city", "--db", smoky, "--from", FROM, "--to", TO, "--no-districts", "-s", "eea")
    head, _, first = out.splitlines()[:3]
    assert head.split()[7:] == ["eaqi", "eaqi_category", "eaqi_main", "eaqi_pm25", "eaqi_so2"]
    assert first.split()[7:10] == ["-", "incomplete", "-"] and "6 Extremely poor" in first  # the band, not "-"
    assert "The EEA computes a station index only where NO2, O3 and PM are measured" in err
    # India states no reference temperature: without --temperature SO2 has no index (said), with it, it has one
    evening = ("--from", "2026-01-01T20:00Z", "--to", "2026-01-02T00:00Z", "--no-districts", "-s", "india-naqi", "--json")
    code, out, err = run(capsys, "aqi", "city", "--db", smoky, *evening)
    assert json.loads(out)[0]["india_naqi_so2"] is None and "pass a temperature" in err
    code, out, err = run(capsys, "aqi", "city", "--db", smoky, *evening, "--temperature", "25")
    assert json.loads(out)[0]["india_naqi_so2"] is not None and "pass a temperature" not in err
    code, out, err = run(capsys, "aqi", "city", "--db", smoky, *evening[:-1], "--temperature", "25")
    first = out.splitlines()[2]
    assert first.split()[7:9] == ["-", "incomplete"] and "323 Very Poor" in first  # India: each level, named
    # kz converts SO2 ppb at its documented convention (20 °C) unless told
    with Store.open(smoky) as store:
        h = pipeline.hourly(store, T0, T0 + 3600 * 4)
    at20 = pipeline.node_columns(h, ("kz",))["kz_so2_multiple"]
    at25 = pipeline.node_columns(h, ("kz",), temperature_c=25.0)["kz_so2_multiple"]
    assert np.nanmean(at20 / at25) == pytest.approx(298.15 / 293.15)


def test_reported_values_keep_their_measurement_precision(smoky, capsys):
    code, out, err = run(capsys, "aqi", "node", "--db", smoky, "--from", FROM, "--to", TO, "-s", "us-epa", "-s", "kz", "--json")
    rows = json.loads(out)
    r = rows[4 + 2]  # osk-02, the third hour
    assert r["node"] == "osk-02" and r["pm25_raw"] == 150.3 and isinstance(r["so2_ppb"], int)
    assert r["kz_si"] == round(r["kz_si"], 2) and r["kz_pm25_multiple"] == round(r["kz_pm25_multiple"], 2)
    with Store.open(smoky) as store:  # the store keeps full precision
        assert store.series("osk-02", "pm.pm25_atm").mean[0] == pytest.approx(150 + 1 / 3, abs=0.006)


def test_a_second_correction_does_not_switch_the_raw_channel(smoky, tmp_path, capsys):
    with Store.open(smoky) as src:
        src.backup(tmp_path / "c.db")
    db = str(tmp_path / "c.db")
    with Store.open(db) as store:
        stored.use_correction(store, "osk-01", "pm.pm25_cf1", "barkjohn2021")
        stored.apply(store)
        stored.use_correction(store, "osk-01", "pm.pm25_atm", "epa2021_fsm_atm")
        stored.apply(store)
    argv = ("aqi", "node", "--db", db, "--node", "osk-01", "--from", "2026-01-01T05:00Z", "--to", "2026-01-01T06:00Z")
    code, out, err = run(capsys, *argv, "--json")
    (r,) = json.loads(out)
    assert (r["pm25_channel"], r["pm25_raw"], r["pm25_profile"]) == ("pm.pm25_cf1", 220.0, "barkjohn2021 v1")
    assert err.splitlines()[0] == ("note: osk-01: pm25 has profiles on pm.pm25_cf1 (barkjohn2021 v1) and pm.pm25_atm "
                                   "(epa2021_fsm_atm v1): using pm.pm25_cf1, profiled first; use another with --channel pm25_atm")
    code, out, err = run(capsys, *argv, "--channel", "pm25_atm", "--json")
    (r,) = json.loads(out)
    assert (r["pm25_channel"], r["pm25_raw"], r["pm25_profile"]) == ("pm.pm25_atm", 150.0, "epa2021_fsm_atm v1")
    assert "has profiles on" not in err
    code, out, err = run(capsys, *argv)
    head, _, row = out.splitlines()
    assert head.split()[2:6] == ["pm25_channel", "pm25_raw", "pm25_corrected", "pm25_profile"]
    assert row.split()[2:4] == ["pm.pm25_cf1", "220.0"] and "barkjohn2021 v1" in row


def test_districts_rest_on_the_nodes_they_have(smoky, capsys):
    code, out, err = run(capsys, "aqi", "city", "--db", smoky, "--from", "2026-01-01T05:00Z", "--to", "2026-01-01T06:00Z",
                         "--json")
    rows = {r["area"]: r for r in json.loads(out)}
    assert (rows["city"]["nodes"], rows["Ulba"]["nodes"], rows["Centre"]["nodes"]) == (3, 2, 1)
    assert rows["Centre"]["pm25"] == 150.7 and rows["Centre"]["so2_nodes"] == 1 and rows["Centre"]["aqi"] > 200
    code, out, err = run(capsys, "aqi", "city", "--db", smoky, "--from", "2026-01-01T05:00Z", "--to", "2026-01-01T06:00Z",
                         "--district-min-nodes", "2", "--json")
    rows = {r["area"]: r for r in json.loads(out)}
    assert rows["Centre"]["basis"] == "too-few-nodes" and rows["Centre"]["pm25"] is None and rows["Ulba"]["nodes"] == 2


def test_the_kz_conversion_temperature_has_one_source(smoky, monkeypatch):
    from tynys.aqi import results, tables, units

    kz = tables.load("kz")
    assert kz.data["conversion_temperature_c"] == 20 and kz.reference_temperature_c is None
    with Store.open(smoky) as store:
        h = pipeline.hourly(store, T0, T0 + 3600 * 4)
    before = pipeline.node_columns(h, ("kz",))["kz_so2_multiple"]
    monkeypatch.setitem(kz.data, "conversion_temperature_c", 0.0)  # the table is the one place it is set
    mg = 100 * units.ugm3_per_ppb("so2", 0.0) / 1000
    assert results.value_rows([100], "so2", "20min", "kz", unit="ppb")[0]["multiple"] == round(mg / 0.5, 2)
    after = pipeline.node_columns(h, ("kz",))["kz_so2_multiple"]
    assert np.nanmean(after / before) == pytest.approx(293.15 / 273.15)
