"""tynys sim without running nodes: city layouts, node placement, the scenarios' air, the plume
model against its formula, the plan, the registry, node configs, and the command's refusals."""

from __future__ import annotations

import json
import math
from collections import Counter

import numpy as np
import pytest
from factory import make_line

from tynys import firmware
from tynys.cli import main
from tynys.ingest import Ingestor
from tynys.keys import KeyFile
from tynys.sim import Endpoints, SimError, node_config, plan, register
from tynys.sim.city import REUSE_SPACING_M, CityError, load, names, place
from tynys.sim.runner import _summary
from tynys.sim.scenarios import SCENARIOS, ScenarioError, briggs_urban, gaussian_plume, ugm3_to_ppb, worlds
from tynys.store import Store
from tynys.timeutil import iso

pytestmark = pytest.mark.host
START = 1795737600  # 2026-11-27 00:00 UTC = 05:00 in Kazakhstan (UTC+5)


def distance_m(city, lat, lon, lat2, lon2):
    x1, y1 = city.xy(lat, lon)
    x2, y2 = city.xy(lat2, lon2)
    return float(math.hypot(x2 - x1, y2 - y1))


def day(scenario, city_name="oskemen", n=10):
    """A day of *scenario* at *n* nodes: the city, their places, their world tables, the rows' local hours."""
    city = load(city_name)
    places = place(city, n)
    ws = worlds(scenario, city, places, START, 24)
    return city, places, ws, ((START + np.array(ws[0]["t"]) + city.utc_offset_s) % 86400) / 3600


@pytest.mark.parametrize("name", ["oskemen", "almaty", "karaganda"])
def test_each_city_has_its_sites_and_sources_in_town_and_one_time_zone(name):
    city = load(name)
    assert name in names()
    assert city.tz == "Asia/Almaty" and city.utc_offset_s == 5 * 3600  # one zone, UTC+5, since 2024-03-01
    assert "OpenStreetMap" in city.coordinates_source
    assert len(city.sites) >= 8 and len(city.districts) >= 5 and city.sources and city.reference_stations
    for s in city.sites:
        assert distance_m(city, city.lat, city.lon, s.lat, s.lon) < 15000, s
    for s in city.sources:
        assert distance_m(city, city.lat, city.lon, s.lat, s.lon) < 40000 and s.so2_gs > 0 and s.height_m > 0, s
    assert {s.district for s in city.sites} <= {d.name for d in city.districts}


def test_more_nodes_than_sites_reuse_them_a_little_further_out():
    city = load("oskemen")
    places = place(city, 25)
    assert len({p.node for p in places}) == 25 and places[0].node == "osk-01" and places[24].node == "osk-25"
    for i, p in enumerate(places):
        site = city.sites[i % len(city.sites)]
        k = i // len(city.sites)
        assert p.district == site.district
        assert distance_m(city, site.lat, site.lon, p.lat, p.lon) == pytest.approx(REUSE_SPACING_M * k, abs=2)
        assert p.name == site.name if k == 0 else p.name == f"{site.name} ({k + 1})"
    assert len({(p.lat, p.lon) for p in places}) == 25
    assert [p.node for p in place(city, 120)][-1] == "osk-120"


def test_the_same_seed_gives_the_same_air_and_another_seed_other_air():
    city = load("almaty")
    places = place(city, 4)
    a = worlds("inversion", city, places, START, 6, seed=3)
    assert a == worlds("inversion", city, places, START, 6, seed=3)
    assert a != worlds("inversion", city, places, START, 6, seed=4)
    w = a[0]
    assert w["t"][0] == 0 and w["t"][1] == 600 and w["t"][-1] >= 6 * 3600 and w["start"] == START
    assert all(len(w[k]) == len(w["t"]) for k in ("pm25", "so2_ppb", "t_c", "rh"))
    assert len({x["seed"] for x in a}) == 4  # each node's sensors have their own noise


def test_inversion_smoke_builds_up_at_night_and_in_the_stove_districts():
    _, places, ws, h = day("inversion")
    pm = np.array([w["pm25"] for w in ws])
    evening, midday = (h >= 19) & (h < 24), (h >= 12) & (h < 15)
    assert (pm[:, evening].mean(1) > 2 * pm[:, midday].mean(1)).all()
    stoves = [i for i, p in enumerate(places) if p.district in ("Zashchita", "Ablaketka", "Sogra")]
    centre = [i for i, p in enumerate(places) if p.district == "Centre"]
    assert pm[stoves].mean() > 1.5 * pm[centre].mean()
    t_c = np.array([w["t_c"] for w in ws])
    assert t_c.max() < -10 and 20 < pm.mean() < 200


def test_a_clean_day_is_clean():
    _, _, ws, _ = day("clean", "karaganda", 5)
    pm, so2 = np.array([w["pm25"] for w in ws]), np.array([w["so2_ppb"] for w in ws])
    assert pm.max() < 25 and so2.max() < 5 and min(min(w["t_c"]) for w in ws) > 5


def test_the_plume_sweeps_the_city_reaching_nodes_at_different_hours():
    _, places, ws, h = day("plume")
    so2 = np.array([w["so2_ppb"] for w in ws])
    peak_hours = {round(float(h[np.argmax(row)])) for row in so2}
    assert len(peak_hours) >= 4, peak_hours
    assert so2.max() > 100 and (so2.max(1) > 5 * 3).sum() >= 5  # many nodes see a plume 5x the 3 ppb background
    assert (np.median(so2, 1) < 10).all()  # and clean air most of the day
    centre = [i for i, p in enumerate(places) if p.district == "Centre"]
    at = np.argmax(so2[centre].mean(0))
    assert 7 <= h[at] <= 11  # the smelter's plume crosses the centre in the morning, as the layout says


def test_gaussian_plume_against_its_formula():
    # Briggs urban class D at x = 1000 m: sy = 0.16*1000/sqrt(1.4), sz = 0.14*1000/sqrt(1.3)
    sy, sz = briggs_urban(1000.0, "D")
    assert (float(sy), float(sz)) == pytest.approx((135.225, 122.788), abs=1e-3)
    sy, sz = briggs_urban(1000.0, "AB")
    assert (float(sy), float(sz)) == pytest.approx((0.32 * 1000 / math.sqrt(1.4), 0.24 * 1000 * math.sqrt(2.0)), rel=1e-12)
    # Q = 100 g/s, H = 50 m, u = 5 m/s: C = Q/(pi u sy sz) exp(-H^2/2sz^2), by hand 352.9 ug/m3
    c = gaussian_plume(100.0, 50.0, 1000.0, 0.0, 5.0, "D")
    assert float(c) == pytest.approx(352.9, abs=0.1)
    assert float(gaussian_plume(100.0, 50.0, 1000.0, 135.225, 5.0, "D")) == pytest.approx(352.9 * math.exp(-0.5), abs=0.1)
    assert float(gaussian_plume(100.0, 50.0, -1000.0, 0.0, 5.0, "D")) == 0.0  # upwind
    # 1 ppb of SO2 is 2.62 ug/m3 at 25 degC (24.45 L/mol)
    assert float(ugm3_to_ppb(2.62, 25.0)) == pytest.approx(1.0, abs=0.002)


def test_plan_puts_nodes_on_transports_in_turn_and_checks_every_argument():
    plans = plan("oskemen", 7, 2, "plume", "mixed", start=START)
    assert [p.transport for p in plans] == ["serial", "http", "mqtt", "serial", "http", "mqtt", "serial"]
    assert {p.world["start"] for p in plans} == {START}
    assert plan("almaty", 2, 1, "clean", "http", start=START)[0].node == "ala-01"


def test_smog_is_the_inversions_smoke_with_the_plumes_on_top():
    _, places, inv, h = day("inversion")
    _, _, smog, _ = day("smog")
    for a, b in zip(inv, smog):
        assert a["pm25"] == b["pm25"] and a["t_c"] == b["t_c"]
    excess = np.array([b["so2_ppb"] for b in smog]) - np.array([a["so2_ppb"] for a in inv])
    assert excess.min() >= -0.05  # rounding to 0.1 ppb
    ulba = next(i for i, p in enumerate(places) if p.district == "Ulba")  # beside the smelter
    assert excess[ulba].max() > 100


@pytest.mark.parametrize("kw, message", [
    ({"city": "oskmen"}, "unknown city 'oskmen': use one of almaty, karaganda, oskemen"),
    ({"scenario": "storm"}, "unknown scenario 'storm': use one of clean, plume, inversion, smog"),
    ({"transport": "lora"}, "unknown transport 'lora': use one of serial, http, mqtt, mixed"),
    ({"nodes": 0}, "0 nodes: simulate 1 to 64"),
    ({"hours": 0}, "0 hours: simulate 1 to 744 hours"),
    ({"start": START + 180}, "start 2026-11-27T00:03:00Z is not on a 5-minute boundary (windows are aligned to the UTC clock): "
                             "use e.g. 2026-11-27T00:00:00Z"),
])
def test_a_bad_argument_is_named_with_the_choices(kw, message):
    args = dict(city="oskemen", nodes=2, hours=1, scenario="clean", transport="http", start=START)
    args.update(kw)
    with pytest.raises((SimError, CityError, ScenarioError)) as e:
        plan(**args)
    assert str(e.value).startswith(message)
    assert set(SCENARIOS) == {"clean", "plume", "inversion", "smog"}


def test_nodes_are_registered_with_place_and_keys_once(tmp_path):
    store = Store.open(tmp_path / "city.db")
    keys = KeyFile(tmp_path / "city.keys")
    plans = plan("oskemen", 3, 1, "clean", "mixed", start=START)
    got = register(store, keys, plans, installed=START)
    assert set(got) == {"osk-01", "osk-02", "osk-03"} and keys.load() == got
    n = store.node("osk-02")
    assert (n.name, n.district, n.lat, n.lon) == ("Kirov park", "Centre", 49.952, 82.632)
    assert sorted(f"{s.slot}={s.type}:{s.model}" for s in n.sensors) == ["pm=pms5003:", "so2=isb:so2-b4", "th=sht3x:"]
    with pytest.raises(SimError, match=r"already has node\(s\) osk-01, osk-02, osk-03: .* simulate into a new --db"):
        register(store, keys, plans)
    store.close()


def test_the_summary_spans_the_windows_the_host_uses(tmp_path):
    store = Store.open(tmp_path / "city.db")
    keys = KeyFile(tmp_path / "city.keys")
    plans = plan("oskemen", 1, 1, "clean", "http", start=START)
    key = register(store, keys, plans, installed=START)["osk-01"]
    # a record from before NTP answered (the node's clock at 2000-01-01, no set-clock record of its boot: pending)
    # and one with a set clock
    lines = [make_line("osk-01", key, 0, boot=1, t0=946684800, clock="unsynced"), make_line("osk-01", key, 1, t0=START)]
    assert [o.status for o in Ingestor(store, keys, now=lambda: START + 3600).ingest(lines, "test")] == ["stored"] * 2
    (row,) = _summary(store, plans, Counter())["per_node"]
    assert (row["records"], row["first"], row["last"]) == (2, iso(START), iso(START + 300))
    store.close()


def test_node_configs_carry_the_key_wifi_for_ntp_and_their_uplink():
    plans = plan("oskemen", 3, 1, "clean", "mixed", start=START)
    key = bytes(range(32))
    ep = Endpoints("http://127.0.0.1:8080/api/v1/records", ("127.0.0.1", 1883))
    cfgs = [node_config(p, key, ep) for p in plans]
    assert [list(c["uplinks"]) for c in cfgs] == [["serial"], ["http"], ["mqtt"]]
    assert all(c["key"] == key.hex() and c["wifi"]["ssid"] for c in cfgs)
    assert cfgs[1]["uplinks"]["http"]["url"] == ep.http_url and cfgs[2]["uplinks"]["mqtt"]["port"] == 1883
    assert set(cfgs[0]["sensors"]) == {"pm", "th", "so2"}
    with pytest.raises(SimError, match="transport mqtt needs a broker"):
        node_config(plans[2], key, Endpoints())
    # each node's heap by its uplink (tynys.firmware.heap_for): serial 96 KB, HTTP 112, MQTT 128
    assert [firmware.heap_for(c) for c in cfgs] == ["96K", "112K", "128K"]
    assert firmware.heap_for({"uplinks": {"http": {}, "sensor_community": {}}}) == "128K"
    assert firmware.heap_for(None) == firmware.heap_for({}) == firmware.DEFAULT_HEAP


def test_sim_list_shows_cities_scenarios_and_transports(capsys):
    assert main(["sim", "--list"]) == 0
    out = capsys.readouterr().out
    assert "Oskemen (Ust-Kamenogorsk)" in out and "kazzinc" in out and "inversion" in out and "mixed" in out
    assert main(["sim", "--list", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert [c["city"] for c in doc["cities"]] == ["almaty", "karaganda", "oskemen"]
    assert [s["scenario"] for s in doc["scenarios"]] == ["clean", "plume", "inversion", "smog"]


def test_sim_refuses_a_bad_city_in_one_line(tmp_path, capsys):
    assert main(["sim", "--city", "astana", "--db", str(tmp_path / "x.db")]) == 2
    err = capsys.readouterr().err
    assert err == "tynys: error: unknown city 'astana': use one of almaty, karaganda, oskemen (or a layout file ending in .json)\n"
    assert not (tmp_path / "x.db").exists()


def test_every_sim_option_is_documented():
    from pathlib import Path

    from tynys.cli.sim import sim

    doc = (Path(__file__).resolve().parents[2] / "docs" / "sim.md").read_text()
    assert "tynys sim --city oskemen --nodes 5" in doc and "tynys db stats --db city.db --json" in doc
    for p in sim.params:
        for opt in p.opts:
            if opt.startswith("--") and opt != "--help":
                assert f"`{opt}`" in doc, opt
