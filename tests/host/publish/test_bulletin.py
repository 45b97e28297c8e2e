"""``tynys report``: the day's bulletin as PDF (its pages and tables read back as text, in Kazakh
and English) and PNG (a real picture), and its ПДК figures against the aqi library."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib import image
from pypdf import PdfReader

from tynys.aqi import kz, units
from tynys.cli import main
from tynys.publish import bulletin, snapshot
from tynys.store import Store

pytestmark = pytest.mark.host
DAY = "2026-11-27"  # in UTC: the smog day; in Oskemen (UTC+5) 05:00 .. 05:00 next day


@pytest.fixture(scope="module")
def made(smog, tmp_path_factory):
    out = tmp_path_factory.mktemp("bulletin")
    paths = {}
    for lang in ("en", "kk"):
        assert main(["report", "--db", str(smog["db"]), "--day", DAY, "--lang", lang, "--out", str(out)]) == 0
        paths[lang] = (out / f"tynys-bulletin-network-{DAY}-{lang}.pdf", out / f"tynys-bulletin-network-{DAY}-{lang}.png")
    return paths


def _pages(pdf) -> list[str]:
    return [p.extract_text() for p in PdfReader(pdf).pages]


def test_the_pdf_has_the_pages_and_tables_named(made, smog):
    pages = _pages(made["en"][0])
    assert len(pages) == 4
    titles = ["1. The city through the day", "2. The nodes through the day", "3. Exceedances of ПДК (Kazakhstan)",
              "4. Calibration status of each node"]
    for text, title in zip(pages, titles):
        assert f"Air quality bulletin · Tynys network · {DAY}" in text and title in text
    assert "City value by hour: US AQI (EPA)" in pages[0] and "City value by hour: Kazakhstan: СИ and grade" in pages[0]
    for head in ("Max 20-min, mg/m³", "СИ (× ПДК м.р.)", "Above ПДК м.р. (of n)", "НП, %", "Daily mean, mg/m³", "× ПДК с.с."):
        assert head in pages[2]
    assert "The day over all outdoor nodes: СИ" in pages[2]
    for node in smog["nodes"]:
        assert node in pages[1] and node in pages[2] and node in pages[3]
    assert "barkjohn2021 v1" in pages[3] and "uncalibrated" in pages[3]
    assert "pms5003 (pm) rejected 8640 of 86400 readings" in pages[3]


def test_kazakh_text_is_kept_in_the_pdf(made):
    pages = _pages(made["kk"][0])
    assert "1. Қала тәулік бойы" in pages[0] and "3. ПДК асып кетуі (Қазақстан)" in pages[2]
    assert "Ең жоғары 20 мин, мг/м³" in pages[2] and "4. Әр датчиктің калибрлеуі" in pages[3]
    assert "калибрленбеген" in pages[3]


def test_the_png_is_the_summary_page_as_a_real_picture(made):
    img = image.imread(made["en"][1])
    h, w = img.shape[:2]
    assert (w, h) == (int(8.27 * 110), int(11.69 * 110))  # A4 at 110 dpi
    rgb = (img[..., :3] * 255).astype(np.uint8).reshape(-1, 3)
    assert len(np.unique(rgb, axis=0)) > 100  # charts in category colours and anti-aliased text
    assert (rgb.min(axis=1) < 200).mean() > 0.05  # not a blank page


def test_exceedance_figures_match_the_kz_functions(smog):
    with Store.open(smog["db"]) as store:
        snap = snapshot.take(store, at=smog["end"])
    rows = {(r["node"], r["pollutant"]): r for r in bulletin.exceedances(snap)}
    i = smog["nodes"].index("osk-03")
    singles = units.convert(snap.values["so2_20min"][i], "so2", "ppb", "mg/m3", temperature_c=20.0)
    r = rows[("osk-03", "so2")]
    assert r["si"] == pytest.approx(float(kz.si(singles, "so2")), rel=1e-9)
    assert r["np"] == pytest.approx(float(kz.np_percent(singles, "so2")), rel=1e-9)
    assert r["singles"] == 72 and r["above"] == int((kz.multiples(singles, "so2") > 1).sum())
    pm = rows[("osk-03", "pm25")]
    assert pm["daily_multiple"] == pytest.approx(np.nanmean(snap.values["pm25"][i]) / 1000 / 0.035, rel=1e-9)
    assert ("osk-06", "so2") not in rows  # no SO2 value without its cell's sheet
    day = bulletin.assess_day(snap)
    assert day["si"] == max(r["si"] for r in rows.values())  # every node stands outdoors


def test_bad_day_or_language(smog, tmp_path, capsys):
    assert main(["report", "--db", str(smog["db"]), "--day", "27.11.2026", "--out", str(tmp_path)]) == 2
    assert capsys.readouterr().err == "tynys: error: cannot read --day '27.11.2026': use a date such as 2026-11-27\n"
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("day", ["2026-02-30", "2026-11-27T05:00", "27.11.2026", ""])
def test_a_day_that_is_not_a_calendar_date_is_refused(day):
    with pytest.raises(snapshot.PublishError, match=f"cannot read --day '{day}': use a date such as 2026-11-27"):
        bulletin.day_window(day, None)


def test_the_local_day_of_a_city():
    assert bulletin.day_window("2026-11-27", snapshot.load_city("oskemen")) == (1_795_737_600 - 5 * 3600,
                                                                               1_795_737_600 + 19 * 3600, 5 * 3600)


def test_a_day_without_data_gives_a_bulletin_that_says_so(smog, tmp_path, capsys):
    assert main(["report", "--db", str(smog["db"]), "--day", "2026-11-20", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr()
    assert out.out.startswith(f"bulletin: {tmp_path}/tynys-bulletin-network-2026-11-20-en.pdf")
    assert "tynys: note: no data between 2026-11-20T00:00:00Z and 2026-11-21T00:00:00Z" in out.err
    assert "No data between 2026-11-20T00:00:00Z and 2026-11-21T00:00:00Z." in \
        _pages(tmp_path / "tynys-bulletin-network-2026-11-20-en.pdf")[0]
