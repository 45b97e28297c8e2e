"""What the site shows, before any HTML: the 24 hours, indices (incomplete, never a category, where
a measured pollutant has no sub-index), each node's data quality and the notes on what is missing."""

from __future__ import annotations

import numpy as np
import pytest
from smogday import FLAGGED, NOWHERE, STALE, UNCALIBRATED

from tynys import aqi, pipeline
from tynys.publish import snapshot
from tynys.publish.districts import areas
from tynys.sim import city as layouts
from tynys.store import Store

pytestmark = pytest.mark.host


@pytest.fixture(scope="module")
def snap(smog):
    with Store.open(smog["db"]) as store:
        return snapshot.take(store, city="oskemen")


def test_the_24_hours_end_with_the_newest_window(snap, smog):
    assert (snap.start, snap.end) == (smog["start"], smog["end"])
    assert snap.hours.tolist() == list(range(smog["start"], smog["end"], 3600))
    assert [n.id for n in snap.nodes] == smog["nodes"] and snap.located.tolist() == [n != NOWHERE for n in smog["nodes"]]
    assert [s.id for s in snap.standards] == ["us-epa", "eea", "kz"] and snap.default == "us-epa"


def test_node_index_matches_the_aqi_library_and_is_incomplete_without_a_nowcast(snap, smog):
    with Store.open(smog["db"]) as store:
        h = pipeline.hourly(store, smog["start"], smog["end"], nodes=["osk-02"])
    pm = aqi.sub_index(aqi.nowcast(h.pm25.corrected[0]).concentration, "pm25", "24h", "us-epa")
    so2 = aqi.series.hourly(h.hours, h.so2.corrected[0], "so2", "us-epa", unit="ppb")
    want = np.fmax(pm.index, so2.index)[h.reported]
    got = snap.index["us-epa"]
    i = 1  # osk-02
    assert got.status[i, 0] == "incomplete" and got.category[i, 0] == -1 and np.isnan(got.index[i, 0])
    ok = got.status[i] == "ok"
    assert ok[2:].all()
    np.testing.assert_array_equal(got.index[i, ok], want[ok])
    assert np.isfinite(so2.index[h.reported][0])  # SO2 alone had an index in hour 0: still incomplete


def test_eea_shows_the_measured_pollutants_and_says_what_it_lacks(snap):
    eea = snap.standard("eea")
    assert (eea.measured, eea.missing) == (("pm25", "so2"), ("no2", "o3"))
    note = next(n for n in snap.notes if n.key == "note.partial_standard")
    assert note.params == {"standard": "eea", "missing": ["no2", "o3"], "measured": ["pm25", "so2"]}
    sc = snap.index["eea"]
    assert set(sc.status[sc.category >= 0]) == {"ok"}  # a category only where the index is complete


def test_data_quality_in_words(snap, smog):
    q = dict(zip(smog["nodes"], snap.quality))
    assert q["osk-01"]["state"] == "calibrated" and q["osk-01"]["calibration"] == {
        "pm25": {"channel": "pm.pm25_cf1", "profile": "barkjohn2021 v1"},
        "so2": {"channel": "so2.we_mv", "profile": "aan803_alg4 v1"}}
    assert q[UNCALIBRATED]["state"] == "uncalibrated" and q[UNCALIBRATED]["calibration"] == {"pm25": None, "so2": None}
    assert (q[STALE]["stale"], q[STALE]["stale_since"]) == (True, "2026-11-27T20:00:00Z")
    assert (q["osk-01"]["stale"], q["osk-01"]["last"]) == (False, "2026-11-28T00:00:00Z")
    assert q[FLAGGED]["flags"] == [{"key": "flag.bad_frames", "params": {"slot": "pm", "type": "pms5003", "bad": 8640,
                                                                         "of": 86400}}]
    assert all(not q[n]["flags"] for n in smog["nodes"] if n != FLAGGED)


def test_notes_say_what_is_missing(snap):
    notes = {n.key: n for n in snap.notes}
    assert notes["note.no_location"].params == {"nodes": [NOWHERE]}
    assert notes["note.no_profile"].params == {"nodes": [UNCALIBRATED]}
    assert "tynys nodes add" in notes["note.no_location"].text


def test_the_city_and_its_districts(snap):
    assert snap.areas[0] == "city" and set(snap.areas[1:]) <= {d.name for d in layouts.load("oskemen").districts}
    assert snap.area_values["nodes"][0, -1] == 5  # osk-05 is stale, osk-06 uncalibrated: the calibrated five
    assert snap.area_values["basis"][0, -1] == "calibrated"
    centre = snap.areas.index("Centre")
    assert snap.area_values["basis"][centre, -1] == "calibrated"
    assert (snap.area_values["basis"][1:] == "too-few-nodes").sum() > 0


def test_district_areas_hold_their_centres_and_tile_the_box():
    city = layouts.load("oskemen")
    cells = areas(city)
    assert set(cells) == {d.name for d in city.districts}
    for d in city.districts:
        ring = np.array(cells[d.name])
        # the district's centre is inside its own cell (ray casting)
        y, x = d.lat, d.lon
        inside = False
        for (y1, x1), (y2, x2) in zip(ring, np.roll(ring, -1, axis=0)):
            if (y1 > y) != (y2 > y) and x < (x2 - x1) * (y - y1) / (y2 - y1) + x1:
                inside = not inside
        assert inside, d.name
    def area(r):
        r = np.array(r)
        return 0.5 * abs(np.dot(r[:, 0], np.roll(r[:, 1], 1)) - np.dot(r[:, 1], np.roll(r[:, 0], 1)))
    lat = [p[0] for r in cells.values() for p in r]
    lon = [p[1] for r in cells.values() for p in r]
    box = (max(lat) - min(lat)) * (max(lon) - min(lon))
    assert sum(area(r) for r in cells.values()) == pytest.approx(box, rel=1e-3)


def test_an_empty_database_gives_a_snapshot_that_says_so(tmp_path):
    with Store.open(tmp_path / "empty.db") as store:
        s = snapshot.take(store, now=1_795_824_000)
    assert s.nodes == [] and {n.key for n in s.notes} == {"note.no_nodes"}
    assert s.area_index["us-epa"].status[0].tolist() == ["missing"] * 24


def test_a_standard_the_site_cannot_score_is_refused(smog):
    with Store.open(smog["db"]) as store:
        with pytest.raises(snapshot.PublishError, match="canada-aqhi 2008 is a formula of no2, o3, pm25"):
            snapshot.take(store, standard="canada-aqhi")
        with pytest.raises(aqi.AqiError, match="unknown standard 'us'"):
            snapshot.take(store, standard="us")
        with pytest.raises(snapshot.PublishError, match="unknown city 'gotham'"):
            snapshot.take(store, city="gotham")


def test_a_retired_node_is_not_published(smog_store, smog):
    smog_store.retire_node("osk-03", smog["end"] - 7200, "moved to Almaty")
    s = snapshot.take(smog_store, city="oskemen")
    assert [n.id for n in s.nodes] == [n for n in smog["nodes"] if n != "osk-03"]
    assert s.index["us-epa"].index.shape[0] == len(smog["nodes"]) - 1
