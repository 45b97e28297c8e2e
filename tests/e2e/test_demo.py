"""`make demo` as a user runs it (six virtual nodes, a day, the host away 13:00-15:00): it prints
what the README shows — every line of the README's excerpt, in order, numbers within one unit of
the last digit shown — and its tables are deterministic (windows counted by when they were
measured), the first hour `incomplete`, every district with a value and its node count; it ends
with the published site and bulletin, which Chromium opens."""

import csv
import re
import sys
from pathlib import Path

import pytest

from tynys import demo
from tynys.publish import site

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "host"))
from numtext import differences  # noqa: E402

pytestmark = pytest.mark.e2e

README = Path(__file__).resolve().parents[2] / "README.md"


def readme_excerpt() -> list[list[str]]:
    """The demo's sample output in the README, as runs of consecutive lines ("..." separates runs)."""
    text = README.read_text(encoding="utf-8")
    block = re.search(r"`make demo` takes.*?```\n(.*?)```", text, re.S).group(1)
    runs, run = [], []
    for line in block.splitlines():
        if line == "...":
            runs.append(run)
            run = []
        else:
            run.append(line)
    return [r for r in runs + [run] if r]


def find(runs: list[list[str]], printed: list[str]) -> list[str]:
    """Each run of lines must appear, consecutively and in order, in *printed*; what is missing."""
    at, missing = 0, []
    for run in runs:
        for k in range(at, len(printed) - len(run) + 1):
            if not differences("\n".join(run), "\n".join(printed[k:k + len(run)])):
                at = k + len(run)
                break
        else:
            missing.append("\n".join(run))
    return missing


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo") / "demo"
    log = out.with_name("demo.log")
    with open(log, "w") as stream:
        s = demo.run(out, stream=stream)
    return out, log.read_text().splitlines(), s


def test_the_demo_prints_what_the_readme_shows(demo_run):
    out, printed, s = demo_run
    assert find(readme_excerpt(), printed) == []
    assert s["records"] == s["expected_records"] == 6 * 24 * 12 and s["refused"] == 0
    assert s["held"] == s["held_late"] == 6 * 24  # every window that ended in the outage was stored after it
    hours = [line for line in printed if re.match(r"\d\d:00 ", line)]
    assert [h[:5] for h in hours] == [f"{i:02d}:00" for i in range(24)] and {h.split()[1] for h in hours} == {"72"}
    nodes = {r["node"]: r for r in s["nodes_table"]}
    for r in nodes.values():
        assert r["pm25_profile"] == "barkjohn2021 v1" and r["so2_profile"] == "aan803_alg4 v1"
        assert 0 < r["pm25_corrected"] < r["pm25_raw"]  # the PMS reads high; Barkjohn's correction brings it down
        assert r["kz_grade"] and r["kz_official"] is False
    first = s["city_hours"][0]
    assert (first["aqi"], first["aqi_status"], first["aqi_lacking"]) == (None, "incomplete", "pm25")
    assert all(r["aqi"] is not None for r in s["city_hours"][1:])
    assert {d["district"] for d in s["districts"]} == {"Centre", "Left bank", "Ulba", "Zashchita", "Ablaketka"}
    assert all(d["hours"] == 23 and d["nodes"] >= 1 for d in s["districts"])
    with open(out / "city-hours.csv") as f:
        rows = list(csv.DictReader(f))
    assert {r["area"] for r in rows} >= {"city", "Centre"} and rows[0]["aqi_status"] == "incomplete"
    assert (out / "nodes.csv").read_text().startswith("node,district")


def test_the_demo_ends_with_a_site_and_the_bulletin(demo_run):
    out, printed, s = demo_run
    assert f"   open in a browser: {out}/site/index.html" in printed
    assert s["site"]["index"] == out / "site" / "index.html" and s["site"]["index"].is_file()
    assert len(s["site"]["bulletin"]) == 6  # kk, ru, en; PDF and PNG
    for path in s["site"]["bulletin"]:
        assert f"   bulletin: {path}" in printed and Path(path).stat().st_size > 10_000


@pytest.mark.service
def test_the_demo_site_opens_in_chromium(demo_run, page, artifacts):
    out, _, s = demo_run
    # The demo's site draws OpenStreetMap's tiles: the test answers those requests itself, with
    # one tile, so nothing leaves the machine and nothing fails.
    p = page(tile=site.LEAFLET / "dist" / "images" / "layers.png")
    pg = p.open((out / "site" / "index.html").as_uri())
    assert sorted(pg.eval_on_selector_all(".tn-marker", "els => els.map(e => e.dataset.node)")) == \
        [r["node"] for r in s["nodes_table"]]
    assert "Oskemen (Ust-Kamenogorsk)" in pg.inner_text("#headline")
    pg.wait_for_function("document.querySelectorAll('.leaflet-tile-loaded').length > 0")
    pg.screenshot(path=str(artifacts / "demo-site.png"), full_page=True)
    assert p.errors == [] and p.blocked == []
    assert all(u.startswith(("file://", "data:")) for u in p.requests if u not in p.answered)
    assert p.answered and all(u.startswith("https://tile.openstreetmap.org/") for u in p.answered)


def test_the_readme_check_finds_a_line_that_is_not_printed():
    runs = [["a 1.0", "b"], ["d"]]
    assert find(runs, ["x", "a 1.0", "b", "c", "d"]) == []
    assert find(runs, ["a 1.1", "b", "d"]) == []  # within one unit of the last digit shown
    assert find(runs, ["a 1.0", "c", "b", "d"]) == ["a 1.0\nb"]
    assert find(runs, ["d", "a 1.0", "b"]) == ["d"]
