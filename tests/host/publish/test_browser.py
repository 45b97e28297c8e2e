"""The published smog day in Debian's Chromium (Playwright): it loads cleanly and from localhost
only, shows one marker per located node in its category's colour and words, follows the index and
language switches and the time slider, and still shows everything of ours offline."""

from __future__ import annotations

import numpy as np
import pytest

from tynys import aqi, pipeline
from tynys.store import Store

pytestmark = [pytest.mark.host, pytest.mark.service]


def _rgb(hex_colour: str) -> str:
    v = int(hex_colour[1:], 16)
    return f"rgb({v >> 16}, {(v >> 8) & 255}, {v & 255})"


def _markers(p) -> dict:
    return p.eval_on_selector_all(".tn-marker", "els => Object.fromEntries(els.map(e => [e.dataset.node, "
                                  "{text: e.textContent, code: e.dataset.code, bg: getComputedStyle(e).backgroundColor}]))")


def test_the_site_loads_without_errors_from_localhost_only_with_a_marker_per_located_node(web, page, smog, artifacts):
    p = page()
    pg = p.open(web["url"] + "/site/index.html")
    marks = _markers(pg)
    assert sorted(marks) == smog["located"]  # osk-07 has no location: listed, not drawn
    assert "osk-07" in pg.inner_text("#unlocated")
    assert pg.locator("#nodes tr[data-node]").count() == len(smog["nodes"])
    pg.locator(".tn-marker[data-node='osk-02']").click()
    pg.wait_for_selector("#panel svg.tn-chart")
    pg.wait_for_function("document.querySelectorAll('.leaflet-tile-loaded').length > 0")
    pg.screenshot(path=str(artifacts / "site-smog-day.png"), full_page=True)
    assert p.errors == []
    outside = [u for u in p.requests if not u.startswith(web["url"])]
    assert outside == []
    assert any("/tiles/tile.png" in u for u in p.requests)  # the tile layer was used, from localhost


def _expected_us_aqi(smog, node: str, hour: int) -> tuple[int, str]:
    """osk-01's US AQI in *hour*, straight from the aqi library: hourly means of its corrected
    PM2.5 -> NowCast -> sub-index (its SO2 stays far below PM2.5's sub-index all day)."""
    with Store.open(smog["db"]) as store:
        h = pipeline.hourly(store, smog["start"], smog["end"], nodes=[node])
    pm = h.pm25.corrected[0]
    so2 = aqi.series.hourly(h.hours, h.so2.corrected[0], "so2", "us-epa", unit="ppb")
    s = aqi.sub_index(aqi.nowcast(pm).concentration, "pm25", "24h", "us-epa")
    i = h.start + hour
    assert so2.index[i] < s.index[i]
    return int(s.index[i]), str(s.category_names()[i])


def test_a_node_with_a_known_value_shows_its_category_colour_and_words(web, page, smog):
    value, name = _expected_us_aqi(smog, "osk-01", 23)
    pg = page().open(web["url"] + "/site/index.html#index=us-epa&lang=en&hour=23")
    colour = {c.name: c.color for c in aqi.tables.load("us-epa").categories}[name]
    m = _markers(pg)["osk-01"]
    assert (m["text"], m["bg"]) == (str(value), _rgb(colour))
    row = pg.locator("#nodes tr[data-node='osk-01'] td")
    assert [row.nth(2).inner_text(), row.nth(3).inner_text()] == [str(value), name]
    assert name in pg.inner_text("#legend")
    pg.locator(".tn-marker[data-node='osk-01']").click()
    assert f"US AQI (EPA): {value} {name}" in pg.inner_text("#panel .pn-value")


def test_switching_index_and_language_changes_legend_headline_and_labels(web, page):
    snap = web["site"].snapshot
    pg = page().open(web["url"] + "/site/index.html#index=us-epa&lang=en")
    before = {k: pg.inner_text(k) for k in ("#legend", "#headline", "#nodes")}
    assert "Unhealthy for Sensitive Groups" in before["#legend"] and "US AQI (EPA) (table 2024)" in before["#headline"]
    pg.select_option("#standard", "kz")
    kz = {k: pg.inner_text(k) for k in ("#legend", "#headline", "#nodes")}
    assert "Very high" in kz["#legend"] and "Unhealthy" not in kz["#legend"]
    assert "Kazakhstan: СИ and grade (table 2022)" in kz["#headline"] and "ПДК м.р." in kz["#headline"]
    assert kz["#nodes"] != before["#nodes"]
    # a node shows its СИ as the headline does (not its grade's number)
    si = snap.index["kz"].index[0, -1]
    assert 0 < si < 1 and _markers(pg)["osk-01"]["text"] == str(round(si, 2))
    eea = snap.index["eea"]
    pg.select_option("#standard", "eea")
    assert "Extremely poor" in pg.inner_text("#legend")
    assert _markers(pg)["osk-01"]["text"] == str(int(eea.category[0, -1]) + 1)  # a banded index: the band's number
    assert "index of PM2.5, SO₂ only: the full index also needs NO₂, O₃" in pg.inner_text("#headline")
    pg.click("#langs button[data-lang='ru']")
    assert "Крайне плохое" in pg.inner_text("#legend")
    assert "медиана" in pg.inner_text("#headline") and "Датчик" in pg.inner_text("#nodes")
    assert pg.get_attribute("html", "lang") == "ru"
    pg.click("#langs button[data-lang='kk']")
    pg.select_option("#standard", "kz")
    assert "Өте жоғары" in pg.inner_text("#legend")  # the grade names of the kz table, in Kazakh
    assert "медианасы" in pg.inner_text("#headline") and "Аудан" in pg.inner_text("#nodes")
    assert pg.inner_text("#title").endswith("Ауа сапасының картасы")


def test_the_time_slider_moves_markers_and_headline_together(web, page, smog):
    site = web["site"].snapshot
    pg = page().open(web["url"] + "/site/index.html#index=us-epa&lang=en&hour=23")
    late = (_markers(pg), pg.inner_text("#headline .hl-value"))
    pg.locator("#hour").fill("8")
    early = (_markers(pg), pg.inner_text("#headline .hl-value"))
    assert early != late
    for hour, (marks, headline) in ((23, late), (8, early)):
        assert headline == str(int(site.area_index["us-epa"].index[0, hour]))
        for i, n in enumerate(site.nodes):
            if n.id in marks and site.index["us-epa"].status[i, hour] == "ok":
                assert marks[n.id]["text"] == str(int(site.index["us-epa"].index[i, hour]))
    assert "2026-11-27 13:00–14:00 (UTC+05:00)" in pg.inner_text("#hour-label")  # hour 8 is 08:00Z, 13:00 in Oskemen


def test_the_first_hours_are_incomplete_not_a_category(web, page):
    # The PM NowCast needs 2 of the last 3 hours: the day's first hour has none of its own past.
    pg = page().open(web["url"] + "/site/index.html#index=us-epa&lang=en&hour=0")
    marks = _markers(pg)
    assert {m["code"] for m in marks.values()} == {"i"}
    assert {m["text"] for m in marks.values()} == {""}
    assert "incomplete" in pg.inner_text("#headline")


@pytest.mark.parametrize("how", ["http", "file"])
def test_offline_markers_legend_districts_and_charts_still_render(web, page, smog, how):
    p = page(offline=True)
    url = (web["url"] + "/osm/index.html" if how == "http" else (web["root"] / "osm" / "index.html").as_uri())
    pg = p.open(url + "#lang=en")
    assert sorted(_markers(pg)) == smog["located"]
    assert pg.locator("#legend li").count() == 6 + 2
    assert pg.locator("path.tn-district").count() == 6
    pg.locator(".tn-marker[data-node='osk-03']").click()
    pg.wait_for_selector("#panel .pn-quality")
    assert pg.locator("#panel svg.tn-chart").count() == 2
    assert pg.locator("#panel svg.tn-chart").first.locator("rect").count() >= 20
    assert "Calibrated with PM2.5: barkjohn2021 v1; SO₂: aan803_alg4 v1." in pg.inner_text("#panel")
    assert p.blocked and all("tile.openstreetmap.org" in u for u in p.blocked)
    pg.wait_for_selector("#offline:not([hidden])")
    assert [e for e in p.errors if "ERR_INTERNET_DISCONNECTED" not in e] == []


def test_a_nodes_panel_says_its_data_quality_in_words(web, page):
    pg = page().open(web["url"] + "/site/index.html#lang=en&node=osk-05")

    def panel(node):
        pg.wait_for_selector(f"#panel[data-node='{node}'] .pn-quality")  # its detail file has loaded
        return pg.inner_text("#panel")

    assert "Stale: no data since 2026-11-28 01:00" in panel("osk-05")  # 20:00Z, four hours before the end
    pg.locator("#nodes tr[data-node='osk-06']").click()
    assert "Uncalibrated: raw sensor values, no calibration profile." in panel("osk-06")
    pg.locator("#nodes tr[data-node='osk-04']").click()
    assert "Flagged: pms5003 (pm) rejected 8640 of 86400 readings" in panel("osk-04")
    values = np.array(pg.eval_on_selector_all("#nodes tr[data-node] td:nth-child(5)", "els => els.map(e => e.textContent)"))
    assert "uncalibrated" in values and "calibrated · flagged" in values


def test_a_site_without_any_calibration_profile_says_its_values_are_raw(web, page, raw_day):
    p = page()
    pg = p.open(web["url"] + "/raw/index.html#index=us-epa&lang=en&hour=12")
    assert sorted(_markers(pg)) == raw_day["located"] and all(m["code"].isdigit() for m in _markers(pg).values())
    assert "median of 7 nodes (at least 3) (raw values)" in pg.inner_text("#headline")
    assert "No calibration profile, raw sensor values: osk-01, osk-02" in pg.inner_text("#notes")
    pg.locator(".tn-marker[data-node='osk-02']").click()
    pg.wait_for_selector("#panel[data-node='osk-02'] .pn-quality")
    assert "Uncalibrated: raw sensor values, no calibration profile." in pg.inner_text("#panel")
    so2 = pg.locator("#panel svg.tn-chart").nth(1)  # SO2 WE/AE in mV without the cell's sheet: no SO2 value
    assert so2.locator("rect").count() == 0 and "no values in these 24 hours" in so2.text_content()
    assert p.errors == []
    # the pipeline's note on it comes from the language files too, not in English on a Russian page
    ru = page()
    notes = ru.open(web["url"] + "/raw/index.html#index=us-epa&lang=ru&hour=12").inner_text("#notes")
    assert "Нет значения SO2: WE/AE в мВ без паспорта калибровки сенсора" in notes and "WE/AE in mV" not in notes
    assert ru.errors == []
