"""``tynys publish`` as a user runs it: what it writes and prints, and bad input (unknown city or
standard, no data, a folder holding other files), where nothing that is not the site's is touched
and the site says what is missing."""

from __future__ import annotations

import csv
import json
import re
import threading

import pytest
from pypdf import PdfReader

from tynys.cli import main
from tynys.publish import site
from tynys.publish.folder import MANIFEST, Abandoned, Folder, PublishError, own_files
from tynys.store import Store

pytestmark = pytest.mark.host


def run(capsys, *argv):
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def _site_data(root):
    text = (root / "data" / "site.js").read_text(encoding="utf-8")
    return json.loads(text[text.index("=") + 1:].rstrip().rstrip(";"))


def test_publish_writes_the_site_and_says_where(smog, tmp_path, capsys):
    out = tmp_path / "site"
    code, text, err = run(capsys, "publish", "--db", str(smog["db"]), "--out", str(out), "--city", "oskemen")
    assert code == 0
    assert text.splitlines() == [
        f"site: {out}/index.html  (6 of 7 nodes on the map, 2026-11-27T00:00:00Z .. 2026-11-28T00:00:00Z)",
        f"open data: {out}/open-data/README.md"]
    assert "tynys: note: 1 node(s) without a location are not on the map: osk-07" in err
    files = json.loads((out / MANIFEST).read_text())["files"]
    assert {"index.html", "assets/app.js", "assets/texts.js", "vendor/leaflet/leaflet.js", "vendor/leaflet/LICENSE",
            "data/site.js", "data/nodes/0.js", "open-data/latest.csv"} <= set(files)
    html = (out / "index.html").read_text()
    assert not re.search(r"(src|href)=\"(https?:)?//", html)  # nothing from a CDN
    d = _site_data(out)
    assert d["city"]["title"] == "Oskemen (Ust-Kamenogorsk)" and len(d["districts"]) == 6
    assert [n["id"] for n in d["nodes"]] == smog["nodes"]
    # the texts are the i18n data files, with the kz table's grade names merged in
    assert site.texts()["kk"]["cat.kz.3"] == "Өте жоғары" and site.texts()["ru"]["cat.us-epa.5"] == "Опасно"
    code, text, _ = run(capsys, "publish", "--db", str(smog["db"]), "--out", str(out), "--json", "--tiles", "none")
    assert code == 0 and json.loads(text)["nodes"] == 7 and _site_data(out)["tiles"] is None


def test_every_text_key_exists_in_every_language():
    t = site.texts()
    assert set(t["kk"]) == set(t["ru"]) and set(t["en"]) - set(t["ru"]) <= {k for k in t["en"] if k.startswith("pol.")}
    app = (site.WEB / "app.js").read_text() + (site.WEB.parent / "bulletin.py").read_text()
    used = set(re.findall(r"""t\(["']([a-z_]+\.[a-z_.0-9-]+)["']""", app))
    assert used and used <= set(t["en"]), used - set(t["en"])


def test_a_folder_with_other_files_is_refused_and_left_alone(smog, tmp_path, capsys):
    (tmp_path / "thesis.tex").write_text("months of work")
    (tmp_path / "index.html").write_text("<p>our own page</p>")
    code, text, err = run(capsys, "publish", "--db", str(smog["db"]), "--out", str(tmp_path))
    assert code == 2 and text == ""
    assert err == (f"tynys: error: {tmp_path} holds files tynys publish did not write (index.html, thesis.tex); nothing "
                   "was changed: choose an empty or new --out folder (or one an earlier tynys publish made)\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["index.html", "thesis.tex"]
    assert (tmp_path / "index.html").read_text() == "<p>our own page</p>"


def test_a_rebuild_removes_only_its_own_old_files_and_keeps_the_archive(tmp_path):
    with Folder(tmp_path) as f:
        f.write("data/nodes/osk-09.js", "x")
        f.write("open-data/daily/2026-11-26/osk-09.csv", "t0\n")
        f.write("index.html", "1")
    with Folder(tmp_path) as f:
        f.write("index.html", "2")
    assert not (tmp_path / "data").exists()  # a node no longer published: its file and empty folders go
    assert (tmp_path / "open-data/daily/2026-11-26/osk-09.csv").read_text() == "t0\n"  # the archive stays
    assert (tmp_path / "index.html").read_text() == "2"
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(PublishError, match=r"holds files tynys publish did not write \(notes.txt\)"):
        Folder(tmp_path)
    (tmp_path / "notes.txt").unlink()
    (tmp_path / MANIFEST).write_text("{")
    with pytest.raises(PublishError, match="is not a list of the site's files"):
        Folder(tmp_path)


def test_a_failed_or_stopped_run_changes_nothing(tmp_path):
    with Folder(tmp_path) as f:
        f.write("index.html", "1")
    with pytest.raises(RuntimeError):
        with Folder(tmp_path) as f:
            f.write("index.html", "2")
            f.write("data/new.js", "x")
            raise RuntimeError("disk full")
    stop = threading.Event()
    with pytest.raises(Abandoned):
        with Folder(tmp_path, stop=stop) as f:
            f.write("index.html", "3")
            stop.set()
            f.write("data/new.js", "x")
    stop.clear()
    with pytest.raises(Abandoned):  # asked to stop after the last file: still before the swap
        with Folder(tmp_path, stop=stop) as f:
            f.write("index.html", "4")
            stop.set()
    assert sorted(p.name for p in tmp_path.iterdir()) == [MANIFEST, "index.html"]  # nothing staged is left
    assert (tmp_path / "index.html").read_text() == "1" and own_files(tmp_path) == {"index.html"}
    (tmp_path / ".tynys-tmp-index.html").write_text("a run killed while writing")
    with Folder(tmp_path) as f:  # not refused as foreign; the leftover is removed
        f.write("b.txt", "2")
    assert sorted(p.name for p in tmp_path.iterdir()) == [MANIFEST, "b.txt"]


@pytest.mark.parametrize("argv, message", [
    (["--city", "gotham"], "unknown city 'gotham': use one of almaty, karaganda, oskemen (or a layout file ending in .json)"),
    (["--standard", "who"], "unknown standard 'who'; use one of canada-aqhi, china, eea, india-naqi, kz, uk-daqi, us-epa"),
    (["--at", "yesterday"], None),
])
def test_unknown_city_or_standard_writes_nothing(smog, tmp_path, capsys, argv, message):
    out = tmp_path / "site"
    code, text, err = run(capsys, "publish", "--db", str(smog["db"]), "--out", str(out), *argv)
    assert code == 2 and not out.exists()
    if message:
        assert err == f"tynys: error: {message}\n"
    else:
        assert "cannot read time 'yesterday'" in err


def test_no_data_in_the_window_gives_a_site_that_says_so(smog, tmp_path, capsys):
    out = tmp_path / "site"
    code, text, err = run(capsys, "publish", "--db", str(smog["db"]), "--out", str(out), "--at", "2026-11-20")
    assert code == 0
    assert "tynys: note: no data between 2026-11-19T00:00:00Z and 2026-11-20T00:00:00Z" in err
    d = _site_data(out)
    assert {n["key"] for n in d["notes"]} >= {"note.no_data"}
    assert all(set(n["index"]["us-epa"]["c"]) == {"-"} for n in d["nodes"])
    assert (out / "open-data" / "latest.csv").read_text().count("\n") == 1 + 7  # the nodes, without values


def test_an_empty_database_gives_a_site_that_says_so(tmp_path, capsys):
    db = tmp_path / "city.db"
    Store.open(db).close()
    code, text, err = run(capsys, "publish", "--db", str(db), "--out", str(tmp_path / "site"))
    assert code == 0 and "no active nodes" in err
    assert _site_data(tmp_path / "site")["nodes"] == []


def test_records_without_any_calibration_profile_give_a_site_and_bulletin_of_raw_values_that_say_so(raw_day, tmp_path,
                                                                                                     capsys):
    out = tmp_path / "site"
    code, text, err = run(capsys, "publish", "--db", str(raw_day["db"]), "--out", str(out), "--city", "oskemen")
    nodes = ", ".join(raw_day["nodes"])
    assert code == 0 and text.startswith(f"site: {out}/index.html  (6 of 7 nodes on the map")
    assert f"tynys: note: no calibration profile for {nodes}: their values are raw sensor values" in err
    # the pipeline's per-node note (no SO2 without the cell's sheet) comes once, naming the nodes
    assert err.count("SO2 WE/AE in mV without a calibration sheet") == 1
    assert f"tynys: note: {nodes}: SO2 WE/AE in mV without a calibration sheet: no SO2 value" in err
    d = _site_data(out)
    assert set(d["area_values"]["basis"][0]) == {"raw"} and d["area_index"]["us-epa"]["c"][0][1:].isdigit()
    assert {n["key"] for n in d["notes"]} >= {"note.no_profile", "note.so2_no_sheet"}
    assert next(n for n in d["notes"] if n["key"] == "note.so2_no_sheet")["params"] == {"nodes": nodes.split(", ")}
    with open(out / "open-data" / "latest.csv", encoding="utf-8") as f:
        assert {r["pm25_calibrated"] for r in csv.DictReader(f)} == {"false"}
    code, text, _ = run(capsys, "report", "--db", str(raw_day["db"]), "--day", "2026-11-27", "--out", str(tmp_path / "b"))
    assert code == 0
    pages = [p.extract_text() for p in PdfReader(tmp_path / "b" / "tynys-bulletin-network-2026-11-27-en.pdf").pages]
    status = pages[3]
    assert all(n in status for n in raw_day["nodes"]) and status.count("uncalibrated") >= len(raw_day["nodes"])
