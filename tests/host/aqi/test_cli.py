"""``tynys aqi`` through tynys.cli.main: the outputs the issue asks for, every standard, and errors."""

import json
import re
from pathlib import Path

import pytest

from tynys.cli import main

pytestmark = pytest.mark.host

DOCS = Path(__file__).resolve().parents[3] / "docs" / "aqi.md"
FORUM = "34.9 43 50 64.9 69.2 66.2 53.7 48.6 49.2 35 nan 21".split()


def run(capsys, *argv):
    code = main(["aqi", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_value_json(capsys):
    code, out, _ = run(capsys, "value", "--standard", "us-epa", "--pollutant", "pm25", "--period", "24h", "35.9", "--json")
    assert code == 0
    assert json.loads(out) == {
        "index": 102, "category": "Unhealthy for Sensitive Groups", "color": "#ff7e00", "status": "ok",
        "standard": "us-epa", "version": "2024", "pollutant": "pm25", "period": "24h",
        "concentration": 35.9, "used": 35.9, "unit": "ug/m3", "note": "",
    }


def test_value_human(capsys):
    code, out, _ = run(capsys, "value", "-p", "pm25", "--period", "24h", "35.9", "9.09")
    assert out == ("us-epa 2024  pm25 24h  35.9 ug/m3  ->  index 102  Unhealthy for Sensitive Groups\n"
                   "us-epa 2024  pm25 24h  9.09 ug/m3 (used 9 ug/m3)  ->  index 50  Good\n")


def test_nowcast_forum_example(capsys):
    code, out, _ = run(capsys, "nowcast", "--pollutant", "pm25", *FORUM, "--json")
    d = json.loads(out)
    assert code == 0
    assert (d["concentration"], d["index"], d["category"], d["weight"], d["hours_valid"]) == (28.4, 87, "Moderate", 0.5, 11)
    assert d["nowcast"] == pytest.approx(28.4098, abs=5e-5) and d["value"] == 21.0
    code, out, _ = run(capsys, "nowcast", "--pollutant", "pm25", "--newest-first", *FORUM[::-1], "--json")
    assert json.loads(out)["index"] == 87
    code, out, _ = run(capsys, "nowcast", "--pollutant", "pm25", *FORUM)
    assert out == ("us-epa 2024  pm25 NowCast 28.4098 -> 28.4 ug/m3 (weight 0.5, 11 of 12 hours)  ->  index 87  Moderate\n")


def test_nowcast_every_hour_and_no_nowcast(capsys):
    code, out, _ = run(capsys, "nowcast", *FORUM, "--all", "--csv")
    lines = out.splitlines()
    assert lines[0].startswith("concentration,index,category,color,hour,value,nowcast")
    assert len(lines) == 13 and lines[-1].startswith("28.4,87,Moderate")
    code, out, err = run(capsys, "nowcast", "10", "nan", "nan")
    assert code == 0 and out == "us-epa 2024  pm25 NowCast: none (needs 2 of the 3 latest hours; 1 of 12 valid)\n"
    code, out, err = run(capsys, "nowcast", "--", "10", "-5", "12", "14")
    assert err == "note: 1 negative hourly value(s) treated as missing\n"


def test_kz_value_prints_multiples_and_grade(capsys):
    code, out, err = run(capsys, "value", "--standard", "kz", "--pollutant", "pm25", "0.40")
    assert out == "kz 2022  pm25 20min  0.4 mg/m3  ->  2.5 x ПДК м.р. (0.16 mg/m3)  grade by СИ: elevated\n"
    assert "unofficial" in err
    code, out, _ = run(capsys, "value", "-s", "kz", "-p", "so2", "--period", "24h", "--unit", "ug/m3", "75", "--json", "--reference")
    d = json.loads(out)
    assert (d["multiple"], d["limit"], d["exceeds"], d["official"], d["grade"]) == (1.5, "ПДК с.с.", [1], True, None)
    code, out, _ = run(capsys, "value", "-s", "kz", "-p", "so2", "--period", "20min", "5.0", "--json")
    assert json.loads(out)["exceeds"] == [1, 10]  # exactly 10 ПДК is ВЗ ("10 ПДК or more")


def test_index_overall_and_main_pollutant(capsys):
    code, out, _ = run(capsys, "index", "o3:8h=0.078", "pm25:24h=35.9", "co:8h=8.4", "--json")
    d = json.loads(out)
    assert (d["index"], d["main_pollutant"], d["category"]) == (126, "o3", "Unhealthy for Sensitive Groups")
    assert [(p["pollutant"], p["index"]) for p in d["pollutants"]] == [("o3", 126), ("pm25", 102), ("co", 90)]
    code, out, _ = run(capsys, "index", "so2:1h=400", "so2:24h=250", "--json")
    assert json.loads(out)["index"] == 200


@pytest.mark.parametrize("argv, want", [
    (["value", "-s", "eea", "-p", "pm25", "--period", "1h", "5", "--json"], {"index": 1, "category": "Good"}),
    (["value", "-s", "uk-daqi", "-p", "pm25", "--period", "24h", "35.5", "--json"], {"index": 4, "category": "Moderate"}),
    (["value", "-s", "india-naqi", "-p", "pm25", "--period", "24h", "45", "--json"], {"index": 75, "category": "Satisfactory"}),
    (["value", "-s", "china", "--version", "2012", "-p", "pm25", "--period", "24h", "36", "--json"], {"index": 52, "category": "Good (良)"}),
    (["value", "-s", "us-epa", "--at", "2020-01-01", "-p", "pm25", "--period", "24h", "12", "--json"], {"index": 50, "version": "2015"}),
    (["index", "-s", "canada-aqhi", "no2=20", "o3=30", "pm25=10", "--json"], {"index": 4, "category": "Moderate risk"}),
    (["index", "-s", "kz", *(f"so2:20min={v}" for v in (0.4, 0.9, 0.2, 0.3, 0.1, 0.1)), "so2:mean=0.03", "--json"],
     {"grade": "elevated", "si": 1.8, "si_by": "so2"}),
    (["convert", "-p", "so2", "--from", "ppb", "--to", "ug/m3", "--temperature", "20", "100", "--json"], {"converted": pytest.approx(266.4, abs=0.1)}),
])
def test_other_standards(capsys, argv, want):
    code, out, _ = run(capsys, *argv)
    d = json.loads(out)
    assert code == 0 and {k: d[k] for k in want} == want


def test_standards_list(capsys):
    code, out, _ = run(capsys, "standards", "--json")
    rows = json.loads(out)
    assert {(r["standard"], r["version"]) for r in rows} >= {("us-epa", "2024"), ("kz", "2022"), ("china", "2026")}
    assert all(r["source"] and r["url"].startswith("http") for r in rows)
    code, out, _ = run(capsys, "standards", "-s", "us-epa")
    assert out.splitlines()[2].startswith("us-epa    2013     2013-03-18  2015-12-28")


@pytest.mark.parametrize("argv, message", [
    (["value", "-p", "pm25", "--period", "24h", "--", "-3"], "pm25 value -3 is negative: a concentration cannot be below 0; check the input"),
    (["value", "-p", "pm25", "--period", "24h", "1e9"], "pm25 value 1e+09 ug/m3 is above the plausible limit 20000 ug/m3 (tables/pollutants.json): check the unit"),
    (["value", "-p", "o3", "--period", "8h", "50"], "o3 value 50 ppm is above the plausible limit 10000 ug/m3 (tables/pollutants.json): check the unit"),
    (["value", "-s", "kz", "-p", "so2", "200"], "so2 value 200 mg/m3 is above the plausible limit 100000 ug/m3 (tables/pollutants.json): check the unit"),
    (["value", "-p", "pm25", "--period", "24h", "abc"], "'abc' is not a number (write a missing hour as nan)"),
    (["value", "-p", "dust", "3"], "unknown pollutant 'dust'; use one of pm25, pm10, tsp, so2, no2, no, o3, co, nh3, h2s, hcho, phenol, pb, bap"),
    (["value", "-p", "pm25", "--period", "1h", "3"], "us-epa 2024 has no pm25 table for period '1h'; it has 24h (for hourly PM use `tynys aqi nowcast`, which weighs the last 12 hours)"),
    (["value", "-p", "o3", "0.07"], "us-epa 2024 has several periods for o3 (8h, 1h): choose one with --period"),
    (["value", "-s", "eea", "-p", "co", "--period", "8h", "3"], "eea 2024 has no table for co; it covers no2, o3, pm10, pm25, so2"),
    (["value", "-s", "nowhere", "-p", "pm25", "3"], "unknown standard 'nowhere'; use one of canada-aqhi, china, eea, india-naqi, kz, uk-daqi, us-epa"),
    (["value", "-s", "india-naqi", "-p", "so2", "--period", "24h", "--unit", "ppb", "20"],
     "india-naqi 2014 states no reference temperature for converting so2 from ppb to ug/m3: pass a temperature"),
    (["value", "-s", "canada-aqhi", "-p", "no2", "20"],
     "canada-aqhi 2008 combines NO2, O3 and PM2.5 in one formula: use `tynys aqi index --standard canada-aqhi no2=20 o3=30 pm25=10`"),
    (["nowcast", "-p", "so2", "3"], "us-epa 2024 does not use the NowCast for so2 (it does for: pm25, pm10)"),
    (["nowcast", "3", "inf"], "an hourly value is infinite: write a missing hour as nan"),
    (["index", "pm25"], "'pm25': write pollutant[:period]=value, e.g. pm25:24h=35.9"),
    (["index", "-s", "canada-aqhi", "no2=20"], "canada-aqhi 2008 needs no2, o3 and pm25 (3-h means); missing: o3, pm25"),
    (["index", "-s", "kz", "so2:24h=0.1"], "kz index takes pollutant:20min=value (single concentrations) and pollutant:mean=value (period means for ИЗА); got period '24h'"),
    (["convert", "-p", "pm25", "--from", "ppb", "--to", "ug/m3", "--temperature", "25", "3"], "PM2.5 is measured by mass; it has no ppb (use ug/m3)"),
])
def test_errors_are_one_line_and_exit_2(capsys, argv, message):
    code, out, err = run(capsys, *argv)
    assert (code, out, err) == (2, "", f"tynys: error: {message}\n")


def test_every_command_has_help_and_docs(capsys):
    from tynys.cli.aqi import aqi

    docs = DOCS.read_text(encoding="utf-8")
    for name, cmd in aqi.commands.items():
        assert cmd.help and "Example:" in cmd.help, name
        assert re.search(rf"^\$ tynys aqi {name}\b", docs, re.M), f"docs/aqi.md shows no `tynys aqi {name}`"


def _doc_examples():
    text = DOCS.read_text(encoding="utf-8")
    for block in re.findall(r"```\n(.*?)```", text, re.S):
        lines = block.splitlines()
        for k, line in enumerate(lines):
            if line.startswith("$ tynys aqi "):
                out = []
                for nxt in lines[k + 1:]:
                    if nxt.startswith("$ "):
                        break
                    out.append(nxt)
                yield line[2:], "\n".join(out).rstrip("\n") + "\n"


@pytest.mark.parametrize("command, shown", list(_doc_examples()), ids=lambda x: x[:60] if isinstance(x, str) else "")
def test_docs_show_what_the_command_prints(capsys, command, shown):
    import shlex

    argv = shlex.split(command)[1:]
    code = main(argv)
    out, err = capsys.readouterr()
    assert out + err == shown
    assert code == (2 if err.startswith("tynys: error") else 0)


def test_an_overall_index_missing_a_given_pollutants_sub_index_is_incomplete(capsys):
    code, out, err = run(capsys, "index", "pm25:24h=35", "so2:1h=400", "--json")
    doc = json.loads(out)
    assert (doc["index"], doc["category"], doc["status"], doc["complete"], doc["lacking"]) == \
        (None, None, "incomplete", False, "so2")  # was 99 Moderate from PM2.5 alone, with SO2 at 400 ppb
    assert doc["note"] == "no so2 sub-index, so the highest of the others could understate it"
    code, out, err = run(capsys, "index", "pm25:24h=35", "so2:1h=400")
    assert out.splitlines()[-1] == "us-epa 2024  overall: no index  [incomplete]" and err == f"note: {doc['note']}\n"
    code, out, err = run(capsys, "index", "pm25:24h=35", "so2:1h=400", "--partial", "--json")
    assert (json.loads(out)["index"], json.loads(out)["complete"]) == (99, False)
