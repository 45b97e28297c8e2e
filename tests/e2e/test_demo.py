"""`make demo` in small: three virtual nodes for two simulated hours, through calibration and indices."""

import csv

import pytest

from tynys import demo

pytestmark = pytest.mark.e2e


def test_the_demo_collects_calibrates_and_scores_a_small_city(tmp_path):
    out = tmp_path / "demo"
    log = tmp_path / "demo.log"
    with open(log, "w") as stream:
        s = demo.run(out, nodes=3, hours=2, stream=stream)
    text = log.read_text()
    assert s["records"] == s["expected_records"] == 3 * 24 and s["refused"] == 0
    # one progress line per simulated hour, each when all three nodes' windows of that hour are stored
    assert [line[:5] for line in text.splitlines() if line[:3] in ("00:", "01:")] == ["00:00", "01:00"]
    assert "144 corrected values written" in text  # PM2.5 and SO2 of 72 windows
    nodes = {r["node"]: r for r in s["nodes_table"]}
    assert set(nodes) == {"osk-01", "osk-02", "osk-03"}
    for r in nodes.values():
        assert r["pm25_profile"] == 1 and r["so2_profile"] == 1
        assert 0 < r["pm25_corrected"] < r["pm25_raw"]  # the PMS reads high; Barkjohn's correction brings it down
        assert r["kz_grade"] and r["kz_official"] is False
    assert [r["nodes"] for r in s["city_hours"]] == [3, 3]
    assert all(r["calibrated"] for r in s["city_hours"])
    with open(out / "city-hours.csv") as f:
        assert {r["area"] for r in csv.DictReader(f)} >= {"city"}
    assert (out / "nodes.csv").read_text().startswith("node,district")
    # 5. the published values against the truth the simulation kept: every node-hour within the
    # spread its sensor models state, the city's AQI category agreement reported
    truth = {r["node"]: r for r in s["truth_table"]}
    assert set(truth) == {"osk-01", "osk-02", "osk-03", "city"}
    assert all(truth[n]["as_stated"] == "100%" for n in ("osk-01", "osk-02", "osk-03"))
    assert all(abs(truth[n]["barkjohn"] - truth[n]["expected"]) < 2 for n in ("osk-01", "osk-02", "osk-03"))
    assert truth["city"]["aqi_right"] is not None and "5. Against the truth" in text
    assert (out / "truth.csv").read_text().startswith("node,t0,t1,pm25_ugm3")
