"""Open data beside the site: CSV and GeoJSON of the latest hour and the 24 hours, feeds that
Sensor.Community's own map code reads, and daily per-node CSVs with raw and corrected values side
by side."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
from factory import KEY, make_body, sign_body
from smogday import STALE

from tynys import publish
from tynys.ingest import Ingestor
from tynys.keys import KeyFile
from tynys.store import Store

pytestmark = pytest.mark.host


@pytest.fixture(scope="module")
def od(smog, tmp_path_factory):
    out = tmp_path_factory.mktemp("od") / "site"
    with Store.open(smog["db"]) as store:
        r = publish.build(store, out, city="oskemen", licence="ODbL 1.0")
    return out / "open-data", r


def test_latest_and_last_24_hours_as_csv_and_geojson(od, smog):
    root, r = od
    latest = list(csv.DictReader(open(root / "latest.csv", encoding="utf-8")))
    assert [x["node"] for x in latest] == smog["nodes"]
    assert {x["hour_start"] for x in latest} == {"2026-11-27T23:00:00Z"}
    day = list(csv.DictReader(open(root / "last24h.csv", encoding="utf-8")))
    assert len(day) == 24 * len(smog["nodes"])
    snap = r.snapshot
    i = smog["nodes"].index("osk-03")
    row = next(x for x in day if x["node"] == "osk-03" and x["hour_start"] == "2026-11-27T10:00:00Z")
    assert float(row["pm25_ugm3"]) == pytest.approx(snap.values["pm25"][i, 10], abs=0.05)
    assert row["pm25_calibrated"] == "true" and row["us_epa_index"] == str(int(snap.index["us-epa"].index[i, 10]))
    assert row["kz_category"] == snap.standard("kz").categories[snap.index["kz"].category[i, 10]][0]
    first = next(x for x in day if x["node"] == "osk-03" and x["hour_start"] == "2026-11-27T00:00:00Z")
    assert (first["us_epa_index"], first["us_epa_category"], first["us_epa_status"]) == ("", "", "incomplete")
    g = json.loads((root / "last24h.geojson").read_text())
    assert g["type"] == "FeatureCollection" and len(g["features"]) == 24 * len(smog["located"])
    f = g["features"][0]
    assert f["geometry"]["type"] == "Point" and len(f["geometry"]["coordinates"]) == 2
    assert "osk-07" not in {f["properties"]["node"] for f in g["features"]}  # no location, no point
    readme = (root / "README.md").read_text(encoding="utf-8")
    assert "Licence: ODbL 1.0" in readme and "`pm25_calibrated`" in readme
    assert r.open_data["licence"] == "ODbL 1.0"


def test_geojson_text_is_what_json_dumps_makes():
    """The GeoJSON is put together from per-column JSON texts (for speed): it must be the very text
    ``json.dumps`` makes of the features, whatever the columns hold."""
    from tynys.publish.opendata import _geojson

    cols = {"node": ["a,1", 'b"2', "ш\\3", "a,1", "d\n4"], "lat": [49.9, None, 50.0, 1e-07, -0.0],
            "lon": [82.5, 82.6, None, 123456789.125, 0.0], "pm": [1.5, None, float("nan"), -0.0, 1e16],
            "n%s": [1, 2, None, True, False], "mixed": ["x", 1, True, 0.0, -0.0], "gone": [None] * 5}
    want = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [lon, lat]},
         "properties": {k: cols[k][j] for k in cols if k not in ("lat", "lon")}}
        for j, (lat, lon) in enumerate(zip(cols["lat"], cols["lon"])) if lat is not None and lon is not None]}
    assert len(want["features"]) == 3
    assert _geojson(cols) == json.dumps(want, ensure_ascii=False, separators=(",", ":")) + "\n"
    assert _geojson({k: [] for k in cols}) == '{"type":"FeatureCollection","features":[]}\n'


def test_many_times_at_once_read_as_one_at_a_time():
    from tynys.timeutil import iso, isos

    ts = [0, -1, 951782400, 1795737599, 1795737600 + 300, 253402300799, -62135596800]  # 2000-02-29, year 9999's end
    assert isos(ts) == [iso(t) for t in ts] and isos(ts)[2] == "2000-02-29T00:00:00Z"
    assert isos([253402300800, 0]) == [iso(253402300800), iso(0)] and "outside" in isos([253402300800])[0]
    assert isos([]) == []


def _read_like_sensor_community_map(entries):
    """What maps.sensor.community does with a feed (feinstaub-map-v2, src/js/feinstaub-api.js:
    getData): keep PM sensors it knows whose P1 and P2 parse as numbers; read lat/lon."""
    known = {"SDS011", "SDS021", "PMS1003", "PMS3003", "PMS5003", "PMS6003", "PMS7003", "HPM", "SPS30"}
    out = {}
    for e in entries:
        vals = {v["value_type"]: v["value"] for v in e["sensordatavalues"]}
        if e["sensor"]["sensor_type"]["name"] in known and "P1" in vals and "P2" in vals:
            out[e["sensor"]["id"]] = (float(e["location"]["latitude"]), float(e["location"]["longitude"]),
                                      float(vals["P2"]), float(vals["P1"]), e["location"]["indoor"], e["tynys_node"])
    return out


def test_sensor_community_shaped_feeds(od, smog):
    root, r = od
    hour = json.loads((root / "sensor-community" / "data.1h.json").read_text())
    seen = _read_like_sensor_community_map(hour)
    assert sorted(v[5] for v in seen.values()) == [n for n in smog["located"] if n != STALE]  # no value this hour
    snap = r.snapshot
    for lat, lon, p2, p1, indoor, node in seen.values():
        i = smog["nodes"].index(node)
        assert p2 == pytest.approx(snap.values["pm25"][i, -1], abs=0.051) and p1 > 0 and indoor == 0
        assert (lat, lon) == pytest.approx((snap.nodes[i].lat, snap.nodes[i].lon), abs=1e-5)
    e = hour[0]
    assert set(e) >= {"id", "sampling_rate", "timestamp", "location", "sensor", "sensordatavalues"}
    assert e["timestamp"] == "2026-11-28 00:00:00" and e["location"]["country"] == "KZ"
    assert all(isinstance(v["value"], str) for x in hour for v in x["sensordatavalues"])
    so2 = [x for x in hour if x["sensordatavalues"][0]["value_type"] == "SO2"]
    assert len(so2) == len(smog["located"]) - 2  # and osk-06 has no SO2 sheet: no SO2 value
    day = _read_like_sensor_community_map(json.loads((root / "sensor-community" / "data.24h.json").read_text()))
    i = smog["nodes"].index("osk-01")
    want = np.nanmean(snap.values["pm25"][i])
    assert next(v[2] for v in day.values() if v[5] == "osk-01") == pytest.approx(want, abs=0.051)


def test_daily_csv_per_node_with_raw_and_corrected_side_by_side(od, smog):
    root, _ = od
    path = root / "daily" / "2026-11-27" / "osk-01.csv"
    rows = list(csv.DictReader(open(path, encoding="utf-8")))
    assert len(rows) == 288 and rows[0]["window_start"] == "2026-11-27T00:00:00Z"
    head = list(rows[0])
    assert head.index("pm.pm25_cf1") < head.index("pm25_corrected_ugm3") and "so2.we_mv" in head
    assert rows[100]["pm25_profile"] == "barkjohn2021 v1" and rows[100]["so2_profile"] == "aan803_alg4 v1"
    with Store.open(smog["db"]) as store:
        c = store.corrected("osk-01", "pm.pm25_cf1", smog["start"], smog["end"])
        s = store.series("osk-01", "pm.pm25_cf1", smog["start"], smog["end"])
    assert float(rows[100]["pm25_corrected_ugm3"]) == pytest.approx(c.value[100], abs=0.006)
    assert float(rows[100]["pm.pm25_cf1"]) == pytest.approx(s.mean[100], abs=0.006)
    uncal = list(csv.DictReader(open(root / "daily" / "2026-11-27" / "osk-06.csv", encoding="utf-8")))
    assert "pm25_corrected_ugm3" not in uncal[0] and "pm.pm25_cf1" in uncal[0]
    assert len(list(csv.DictReader(open(root / "daily" / "2026-11-27" / "osk-05.csv")))) == 288 - 48  # stale


def test_a_window_sent_twice_after_a_reboot_counts_once(smog_store, smog, tmp_path):
    # osk-01 rebooted and sent its last window again under the new boot: the store keeps both
    # records; the feeds' PM10 (read apart from the pipeline) must not trip over the repeated time.
    keys = KeyFile(smog["db"].with_suffix(".keys"))
    t0 = smog["end"] - 300
    line = sign_body(make_body("osk-01", 0, boot=1, t0=t0, channels={"pm.pm10_cf1": 500.0}), KEY)
    out = Ingestor(smog_store, keys, now=lambda: smog["end"] + 60, max_past=None).ingest([line], "test")
    assert [o.status for o in out] == ["stored"]
    r = publish.build(smog_store, tmp_path / "site", city="oskemen")
    feed = json.loads((r.folder / "open-data" / "sensor-community" / "data.1h.json").read_text())
    p1 = {e["tynys_node"]: float(v["value"]) for e in feed for v in e["sensordatavalues"] if v["value_type"] == "P1"}
    with Store.open(smog["db"]) as store:
        s = store.series("osk-01", "pm.pm10_cf1", smog["end"] - 3600, smog["end"])
    both = np.r_[s.mean[:-1], (s.mean[-1] + 500.0) / 2]  # the repeated window is the mean of its two sendings
    assert p1["osk-01"] == pytest.approx(both.mean(), abs=0.05)
