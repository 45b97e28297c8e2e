"""The hourly pipeline over the store: hourly means with the aqi package's completeness rule, indices
that match the aqi library on the same arrays, the city and its districts with the minimum-node
rule, calibrated values preferred and marked, Kazakhstan's СИ from 20-min means."""

from __future__ import annotations

import json

import numpy as np
import pytest
from factory import fill

from tynys import pipeline
from tynys.aqi import averaging, city, kz, series
from tynys.calibrate import stored, synthetic
from tynys.cli import main
from tynys.keys import KeyFile
from tynys.store import Store, StoreError

pytestmark = [pytest.mark.host, pytest.mark.backends]

T0 = 1_767_225_600  # 2026-01-01T00:00Z
N = 2 * 288  # two days of 5-min windows
END = T0 + N * 300
NODES = {  # node: (district, placement, PM scale)
    "osk-01": ("Ulba", "outdoor", 1.0), "osk-02": ("Ulba", "outdoor", 1.3), "osk-03": ("Ulba", "outdoor", 0.8),
    "osk-04": ("Centre", "outdoor", 1.1), "osk-05": ("Centre", "outdoor", 0.9), "osk-06": ("Centre", "indoor", 3.0),
}


def pm_pattern():
    t = T0 + 300 * np.arange(N)
    hour = t % 86400 / 3600
    return 25 + 20 * np.sin(2 * np.pi * (hour - 7) / 24) ** 2 + 5 * np.random.default_rng(3).random(N)


@pytest.fixture(scope="module")
def city_db(tmp_path_factory, dbs):
    root = tmp_path_factory.mktemp("city")
    db = dbs.new(root, "city", copyable=True)
    store = Store.open(db)
    keys = KeyFile(root / "city.keys")
    pm = pm_pattern()
    for k, (node, (district, placement, scale)) in enumerate(NODES.items()):
        v = pm * scale
        if node == "osk-01":
            v = v.copy()
            v[12 * 30: 12 * 30 + 3] = np.nan  # hour 30: 9 of 12 windows -> counts
            v[12 * 31: 12 * 31 + 4] = np.nan  # hour 31: 8 of 12 -> does not
        fill(store, keys, node, T0, {"pm.pm25_cf1": v * 1.4, "pm.pm25_atm": v, "th.rh": np.full(N, 60.0)},
             district=district, placement=placement)
    store.close()
    return db


@pytest.fixture
def store(city_db, dbs, tmp_path):
    """A private copy of the module's city (tests add profiles to it)."""
    s = Store.open(dbs.copy(city_db, tmp_path, "city"))
    yield s
    s.close()


def on_axis(hours, t, values):
    out = np.full(len(hours), np.nan)
    out[(t - hours[0]) // 3600] = values
    return out


def test_hourly_means_and_us_aqi_match_the_aqi_library(store):
    h = pipeline.hourly(store, T0 + 86400, END)
    assert h.hours[h.start] == T0 + 86400 and h.hours[0] == T0 and len(h.hours) == 48
    assert [n.id for n in h.nodes] == list(NODES) and h.pm25.channel[0] == "pm.pm25_atm"
    s = store.series("osk-01", "pm.pm25_atm")  # the very arrays the pipeline reads
    t, hourly, _ = averaging.window_means(s.t0, s.mean, 3600)
    want = on_axis(h.hours, t, hourly)
    assert np.array_equal(h.pm25.raw[0], want, equal_nan=True)
    assert np.isfinite(h.pm25.raw[0, 30]) and np.isnan(h.pm25.raw[0, 31])  # 9 of 12 windows count, 8 do not
    assert h.pm25.raw[0, 30] == pytest.approx(np.mean(s.mean[12 * 30 + 3: 12 * 31]))
    cols = pipeline.node_columns(h, ("us-epa",))
    aqi = series.hourly(h.hours, want, "pm25", "us-epa")
    assert np.array_equal(cols["aqi"][0], aqi.index, equal_nan=True)
    assert np.array_equal(cols["nowcast_pm25"][0], aqi.concentration, equal_nan=True)
    assert set(cols["aqi_main"][0, 12:]) == {"pm25"}
    rows = pipeline.node_rows(h, ("us-epa",))
    assert len(rows) == 6 * 24 and rows[0]["node"] == "osk-01" and rows[0]["hour"] == "2026-01-02T00:00:00Z"
    r = rows[7]  # osk-01, hour 31: no hourly mean, but the NowCast still has 2 of the 3 latest hours
    assert (r["hour"], r["pm25_raw"], r["pm25"]) == ("2026-01-02T07:00:00Z", None, None)
    assert r["aqi"] == aqi.index[31] and r["pm25_calibrated"] is False and r["pm25_profile"] is None


def test_city_and_districts_with_the_minimum_node_rule(store):
    h = pipeline.hourly(store, T0 + 86400, END)
    areas, cols = pipeline.city_columns(h, ("us-epa",))
    assert areas == ["city", "Centre", "Ulba"]
    outdoor = h.pm25.raw[:5]  # osk-06 is indoors: never in the city value
    k = 40
    assert cols["nodes"][0, k] == 5 and cols["pm25"][0, k] == pytest.approx(np.median(outdoor[:, k]))
    assert cols["nodes"][2, k] == 3 and cols["pm25"][2, k] == pytest.approx(np.median(outdoor[:3, k]))
    assert cols["basis"][1, k] == "raw" and cols["nodes"][1, k] == 2  # a district needs 1 node by default
    _, strict = pipeline.city_columns(h, ("us-epa",), city.Rules(district_min_nodes=3))
    assert strict["basis"][1, k] == "too-few-nodes" and np.isnan(strict["pm25"][1, k])  # Centre: 2 outdoor nodes < 3
    assert strict["nodes"][0, k] == 5 and strict["pm25"][0, k] == cols["pm25"][0, k]
    assert cols["basis"][0, k] == "raw"
    want = series.hourly(h.hours, cols["pm25"], "pm25", "us-epa").index
    assert np.array_equal(cols["aqi"], want, equal_nan=True)  # the NowCast of the city median
    rows = pipeline.city_rows(h, ("us-epa",), city.Rules(min_nodes=2))
    centre = [r for r in rows if r["area"] == "Centre"]
    assert len(rows) == 3 * 24 and centre[16]["nodes"] == 2
    assert centre[16]["pm25"] == pytest.approx(np.median(outdoor[3:5, k]), abs=0.05)  # reported to 0.1 ug/m3


def test_calibrated_values_are_preferred_and_marked(store):
    for node in ("osk-01", "osk-02"):
        stored.use_correction(store, node, "pm.pm25_cf1", "barkjohn2021")
    stored.apply(store)
    h = pipeline.hourly(store, T0 + 86400, END)
    assert h.pm25.channel[:3] == ["pm.pm25_cf1", "pm.pm25_cf1", "pm.pm25_atm"]  # raw = what the profile corrects
    c = store.corrected("osk-01", "pm.pm25_cf1")
    t, want, _ = averaging.window_means(c.t0, c.value, 3600)
    assert np.array_equal(h.pm25.corrected[0], on_axis(h.hours, t, want), equal_nan=True)
    k = 40
    _, cols = pipeline.city_columns(h, ("us-epa",))
    assert cols["basis"][0, k] == "mixed" and cols["calibrated"][0, k] == 2  # 2 calibrated < 3: used with the raw
    stored.use_correction(store, "osk-03", "pm.pm25_cf1", "barkjohn2021")
    stored.apply(store, "osk-03")
    h = pipeline.hourly(store, T0 + 86400, END)
    _, cols = pipeline.city_columns(h, ("us-epa",))
    assert cols["basis"][0, k] == "calibrated" and cols["nodes"][0, k] == 3
    assert cols["pm25"][0, k] == pytest.approx(np.median(h.pm25.corrected[:3, k]))
    row = pipeline.node_rows(h, ("us-epa",))[16]
    assert row["pm25_calibrated"] is True and row["pm25_profile"] == "barkjohn2021 v1" and row["pm25"] == row["pm25_corrected"]
    assert row["pm25_channel"] == "pm.pm25_cf1"


def test_kazakhstan_si_from_20_minute_means_is_unofficial(store):
    h = pipeline.hourly(store, T0 + 86400, END)
    s = store.series("osk-02", "pm.pm25_atm")
    t, singles, _ = averaging.window_means(s.t0, s.mean, 1200)
    m = kz.multiples(singles, "pm25", "20min", unit="ug/m3")
    want_si = np.nanmax(m.reshape(-1, 3), axis=1)  # the hour's highest 20-min multiple of ПДК м.р.
    rows = [r for r in pipeline.node_rows(h, ("kz",)) if r["node"] == "osk-02"]
    assert [r["kz_si"] for r in rows] == pytest.approx(want_si[24:].tolist(), abs=0.005)  # reported to 0.01
    assert [r["kz_grade"] for r in rows] == kz.grade_names(kz.grade(si=want_si[24:])).tolist()
    assert {r["kz_si_by"] for r in rows} == {"pm25"} and {r["kz_official"] for r in rows} == {False}
    summary = {r["node"]: r for r in pipeline.node_summary(h)}
    a = kz.assess({"pm25": singles[72:] / 1000.0})
    assert (summary["osk-02"]["kz_si"], summary["osk-02"]["kz_np"], summary["osk-02"]["kz_grade"]) == \
        (pytest.approx(a.si, abs=0.005), pytest.approx(a.np, abs=0.05), a.grade_name())


def test_so2_from_an_isb_sheet_joins_the_index(tmp_path):
    sheet = dict(synthetic.SHEET, no2_cross_mv_ppb=0.0)
    node = synthetic.so2_node(days=2, drift_start_day=99, sheet=sheet, noise_mv=0.05, start=T0)
    rep = lambda a: np.repeat(a, 12)  # noqa: E731
    store = Store.open(tmp_path / "c.db")
    keys = KeyFile(tmp_path / "c.keys")
    for i in range(3):
        fill(store, keys, f"osk-0{i + 1}", T0, {"pm.pm25_atm": np.full(N, 2.0), "so2.we_mv": rep(node["we_mv"]),
                                                "so2.ae_mv": rep(node["ae_mv"]), "th.t_c": rep(node["t_c"])})
    h = pipeline.hourly(store, T0 + 86400, END)
    assert np.isnan(h.so2.raw).all() and len(h.notes) == 3
    assert h.notes[0] == ("osk-01: SO2 WE/AE in mV without a calibration sheet: no SO2 value "
                          "(tynys calibrate apply --node osk-01 --correction aan803_alg4 --params sheet.json)")
    params = {k: v for k, v in sheet.items() if k != "no2_cross_mv_ppb"}
    for i in range(3):
        stored.use_correction(store, f"osk-0{i + 1}", "so2.we_mv", "aan803_alg4", params=params)
    stored.apply(store)
    h = pipeline.hourly(store, T0 + 86400, END)
    assert h.notes == [] and h.so2.channel == ["so2.we_mv"] * 3 and [c.raw for c in h.so2.choices] == [None] * 3
    assert np.sqrt(np.nanmean((h.so2.corrected[0, 24:] - node["so2_ppb"][24:]) ** 2)) < 0.3
    areas, cols = pipeline.city_columns(h, ("us-epa", "kz"))
    so2_index = series.hourly(h.hours, cols["so2_ppb"], "so2", "us-epa", unit="ppb").index
    assert np.array_equal(cols["aqi_so2"], so2_index, equal_nan=True)
    both = np.isfinite(cols["aqi_pm25"]) & np.isfinite(cols["aqi_so2"])
    assert np.array_equal(cols["aqi"][both], np.maximum(cols["aqi_pm25"], cols["aqi_so2"])[both])
    # the first hour has no PM NowCast yet (2 of the 3 latest hours): SO2 alone gives no overall index
    assert np.isfinite(cols["aqi_so2"][0, 0]) and np.isnan(cols["aqi_pm25"][0, 0])
    assert np.isnan(cols["aqi"][0, 0]) and cols["aqi_status"][0, 0] == "incomplete" and cols["aqi_lacking"][0, 0] == "pm25"
    plume = np.nanargmax(cols["so2_ppb"][0, 24:]) + 24
    assert cols["aqi_main"][0, plume] == "so2" and cols["so2_basis"][0, plume] == "calibrated"
    assert cols["kz_so2_multiple"][0, plume] > 0 and cols["kz_si_by"][0, plume] in ("so2", "pm25")
    store.close()


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_city_and_node(city_db, capsys):
    db = str(city_db)
    code, out, err = run(capsys, "aqi", "city", "--db", db, "-s", "us-epa", "-s", "kz", "--json")
    assert code == 0
    rows = json.loads(out)
    assert len(rows) == 3 * 24 and rows[0]["area"] == "city" and rows[0]["hour"] == "2026-01-02T00:00:00Z"
    assert rows[-1]["hour"] == "2026-01-02T23:00:00Z" and rows[0]["aqi_main"] == "pm25" and rows[0]["kz_official"] is False
    assert err.splitlines()[0].startswith("note: osk-01: SO2 WE/AE in mV without a calibration sheet: no SO2 value")
    assert err.splitlines()[-1] == ("note: Values computed from low-cost sensors are unofficial: Kazhydromet's levels come "
                                    "from its own posts (20-min and daily samples).")
    code, out, err = run(capsys, "aqi", "city", "--db", db, "--from", "2026-01-02T10:00Z", "--to", "2026-01-02T12:00Z",
                         "--no-districts", "--min-nodes", "5")
    lines = out.splitlines()
    assert code == 0 and lines[0].split() == ["area", "hour", "nodes", "basis", "pm25", "so2_ppb", "so2_nodes", "aqi",
                                              "aqi_category", "aqi_main", "aqi_pm25"]
    assert [line.split()[:4] for line in lines[2:]] == [["city", "2026-01-02T10:00:00Z", "5", "raw"],
                                                         ["city", "2026-01-02T11:00:00Z", "5", "raw"]]
    code, out, err = run(capsys, "aqi", "node", "--db", db, "--node", "osk-05", "--from", "2026-01-02T10:00Z",
                         "--to", "2026-01-02T11:00Z", "--json")
    (r,) = json.loads(out)
    assert (r["node"], r["district"], r["pm25_channel"], r["aqi_category"]) == ("osk-05", "Centre", "pm.pm25_atm", "Moderate")
    code, out, err = run(capsys, "aqi", "node", "--db", db, "--node", "nope")
    assert code == 2 and err.startswith("tynys: error: no node nope in ")
    code, out, err = run(capsys, "aqi", "city", "--db", db, "-s", "nowhere")
    assert code == 2 and "nowhere" in err


def test_empty_store_says_so(tmp_path):
    with Store.open(tmp_path / "e.db") as s, pytest.raises(StoreError, match="no records in .* for any node yet"):
        pipeline.hourly(s)


def test_city_and_node_series_on_a_local_cluster_equal_the_single_process_run(city_db, capsys):
    """Each node's hourly series read and averaged on a Dask worker process, the NowCast, indices
    and city median computed from them as always: the same rows as one process."""
    for cmd in (["aqi", "city", "-s", "us-epa", "-s", "kz"], ["aqi", "node", "-s", "us-epa"]):
        args = [*cmd, "--db", str(city_db), "--from", "2026-01-02T00:00Z", "--to", "2026-01-03T00:00Z", "--json"]
        code, here, _ = run(capsys, *args)
        assert code == 0
        code, there, err = run(capsys, *args, "--cluster", "local:2")
        assert code == 0, err
        a, b = json.loads(here), json.loads(there)
        assert len(a) == len(b) > 0
        for ra, rb in zip(a, b):
            assert ra.keys() == rb.keys()
            for k, v in ra.items():
                assert rb[k] == (pytest.approx(v, rel=1e-12) if isinstance(v, float) else v), (k, ra, rb)
