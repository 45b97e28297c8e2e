"""``tynys import``: every format into sites and observations, each file once, overlaps counted once,
bad files refused in one line with nothing stored."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np
import pytest

from tynys.cli import main
from tynys.imports import ImportRefused, import_file
from tynys.importers import ImportFormatError
from tynys.store import Store, StoreError

pytestmark = [pytest.mark.host, pytest.mark.backends]

DATA = Path(__file__).parent / "data" / "imports"
TOCO = Path(__file__).resolve().parents[2] / "calibration" / "examples" / "sensortoolkit-toco"


@pytest.fixture
def store(new_db):
    s = Store.open(new_db())
    yield s
    s.close()


def unzip(src: Path, dest: Path) -> Path:
    dest.write_bytes(gzip.decompress(src.read_bytes()))
    return dest


def count(store, table="observations") -> int:
    return store.db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]


def test_airnowtech_real_export_keeps_flags(store, tmp_path):
    ref = unzip(TOCO / "airnowtech_example_reference_data.csv.gz", tmp_path / "airnowtech.csv")
    res = import_file(store, ref, "airnowtech")
    assert (res.status, res.values, res.new, res.duplicate) == ("imported", 3595, 3595, 0)
    site = store.site("airnowtech:370630099")
    assert (site.name, site.kind, site.provider) == ("Burdens Creek", "reference", "airnowtech")
    params = store.site_parameters(site.id)
    assert {p: (d["n"], d["flagged"], d["unit"]) for p, d in params.items()} == {
        "no2": (705, 1, "ppb"), "o3": (686, 1, "ppb"), "pm25": (734, 4, "µg/m³"), "rh": (735, 0, "%"), "t_c": (735, 0, "°C")}
    pm = store.observations(site, "pm25")
    assert len(pm) == 730 and (pm.t1 - pm.t0 == 3600).all() and (np.diff(pm.t0) > 0).all()
    flagged = store.observations(site, "pm25", include_flagged=True)
    assert len(flagged) == 734 and sorted(set(flagged.qc.tolist())) == ["", "9"]
    assert flagged.value[flagged.qc == "9"].tolist() == [10.1] * 4  # kept as sent, marked by the source's code
    # the same numbers the calibration reader gives for the unflagged hours
    from tynys.importers.airnowtech import read_airnowtech
    t = read_airnowtech(ref)
    ok = np.isfinite(t.columns["pm25"])
    assert np.array_equal(pm.t0, t.time[ok]) and np.array_equal(pm.value, t.columns["pm25"][ok])


def test_same_file_twice_lands_once(store, tmp_path):
    ref = unzip(TOCO / "airnowtech_example_reference_data.csv.gz", tmp_path / "airnowtech.csv")
    import_file(store, ref, "airnowtech")
    copy = tmp_path / "renamed.csv"
    copy.write_bytes(ref.read_bytes())
    again = import_file(store, copy, "auto")
    assert again.status == "already imported" and again.new == 0
    assert again.earlier["name"] == "airnowtech.csv" and again.earlier["values"] == 3595
    assert count(store) == 3595 and count(store, "imports") == 1


def test_overlapping_files_count_each_value_once(store, tmp_path):
    lines = gzip.decompress((TOCO / "airnowtech_example_reference_data.csv.gz").read_bytes()).decode("utf-8-sig").splitlines()
    head, body = lines[0], lines[1:]
    a, b = tmp_path / "part1.csv", tmp_path / "part2.csv"
    a.write_text("\n".join([head] + body[:2000]) + "\n")
    changed = body[1500:]
    cells = changed[0].split(",")
    cells[13] = str(float(cells[13]) + 1)  # the later file revised one value
    changed[0] = ",".join(cells)
    b.write_text("\n".join([head] + changed) + "\n")
    r1 = import_file(store, a, "airnowtech")
    r2 = import_file(store, b, "airnowtech")
    assert (r1.new, r2.values, r2.new, r2.duplicate, r2.differing) == (2000, 2095, 1595, 500, 1)
    assert count(store) == 3595
    site = store.site("370630099")
    kept = store.db.execute("SELECT value FROM observations o JOIN imports i ON i.id = o.import "
                              "WHERE i.name = 'part1.csv' AND o.site = ? AND o.t0 = ? AND o.parameter = ?",
                              (site.id, *_key(body[1500]))).fetchone()
    assert kept == (float(body[1500].split(",")[13]),)  # the stored value was kept


def _key(line):
    from tynys.importers.airnowtech import VARIABLE_MAP
    from tynys.timeutil import parse_times
    c = line.split(",")
    return int(parse_times([f"{c[8]} {c[9]}"], tz="UTC", order="mdy")[0]), VARIABLE_MAP[c[4]]


def test_sensortoolkit_export_is_a_sensor_site(store):
    res = import_file(store, TOCO / "toco_toucan_RT01_raw.csv.gz", "sensortoolkit", tz="-05:00")
    site = store.site("sensortoolkit:Ramphastos Toco 01")
    assert site.kind == "sensor" and site.tz == "-05:00" and res.sites[0]["interval_s"] == 60
    pm = store.observations(site, "pm25")
    assert len(pm) == 42836 and (pm.t1 - pm.t0 == 60).all()
    assert pm.t0[0] == 1564661460  # 8/1/2019 7:11 at UTC-05:00


def test_sensor_community_archive(store):
    res = import_file(store, DATA / "2024-01-15_sds011_sensor_12345.csv", "sensor-community")
    site = store.site("sensor-community:12345")
    assert (site.kind, site.lat, site.lon) == ("sensor", 49.949, 82.628)
    pm25, pm10 = store.observations(site, "pm25"), store.observations(site, "pm10")
    assert len(pm25) == 50 and pm25.value[0] == 18.0 and pm10.value[0] == 25.2  # P2 is PM2.5, P1 PM10
    assert res.sites[0]["interval_s"] == 145 and pm25.unit == "µg/m³"


def test_aqs_two_sites_with_coordinates(store):
    res = import_file(store, DATA / "hourly_88101_2024_excerpt.csv", "aqs")
    assert [s["site"] for s in res.sites] == ["aqs:37-063-0099", "aqs:37-183-0014"]
    s = store.site("aqs:37-063-0099")
    assert (s.lat, s.lon, s.name, s.kind) == (35.889, -78.874, "", "reference")
    pm = store.observations(s, "pm25")
    assert pm.value.tolist() == [7.0, 7.5, 8.0, 8.5, 9.0, 9.5] and pm.t0[0] == 1705363200  # 2024-01-16 00:00 GMT


def test_openaq_archive_keeps_units(store):
    import_file(store, DATA / "location-2178-20240115.csv", "openaq")
    s = store.site("openaq:2178")
    assert s.name == "Almaty US Consulate" and s.lat == 43.2325
    so2 = store.observations(s, "so2")
    assert so2.unit == "ppm" and so2.value.tolist() == [0.004, 0.005, 0.006, 0.007]
    assert so2.t0[0] == 1705276800  # 06:00+06:00 is midnight UTC


def test_generic_csv_with_mapping_zone_and_site(store):
    res = import_file(store, DATA / "kazhydromet-oskemen-1.csv", "csv", tz="+05:00", site="kazhydromet-oskemen-1",
                      name="Kazhydromet post 1", lat=49.95, lon=82.61, time_column="Дата и время",
                      columns={"pm25": "PM2.5 (mg/m3)", "so2": "SO2 (mg/m3)"})
    assert res.new == 12
    s = store.site("kazhydromet-oskemen-1")
    assert (s.ref, s.name, s.kind, s.tz) == ("csv:kazhydromet-oskemen-1", "Kazhydromet post 1", "reference", "+05:00")
    so2 = store.observations(s, "so2")
    assert so2.unit == "mg/m3" and so2.t0[0] == 1705258800  # 2024-01-15 00:00 at UTC+05:00


def test_generic_csv_refusals(store, tmp_path):
    p = tmp_path / "station.csv"
    p.write_text("time,so2\n2024-01-15T00:00Z,12\n2024-01-15T01:00Z,13\n")
    with pytest.raises(ImportRefused, match="does not say which site it is from: name it with --site ID"):
        import_file(store, p, "csv")
    with pytest.raises(ImportRefused, match=r"no unit for 'so2': say it with --unit so2=UNIT"):
        import_file(store, p, "csv", site="x")
    import_file(store, p, "csv", site="x", units={"so2": "ppb"})
    q = tmp_path / "station-later.csv"
    q.write_text("time,so2\n2024-01-15T02:00Z,30\n")
    with pytest.raises(ImportRefused, match=r"csv:x so2 is stored in ppb, this file gives ug/m3"):
        import_file(store, q, "csv", site="x", units={"so2": "ug/m3"})
    assert count(store) == 2 and count(store, "imports") == 1  # the refused file left nothing behind
    with pytest.raises(StoreError, match=r"site csv:x is stored as a reference site, this import says sensor"):
        import_file(store, q, "csv", site="x", kind="sensor", units={"so2": "ppb"})
    assert count(store, "imports") == 1


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_bad_columns_is_one_line_and_the_other_files_still_land(capsys, tmp_path):
    bad = tmp_path / "ref.csv"
    bad.write_text("Site,Param,Value,Time\nX,PM2.5,3,1\n")
    good = DATA / "hourly_88101_2024_excerpt.csv"
    db = str(tmp_path / "c.db")
    code, out, err = run(capsys, "import", "airnowtech", str(bad), "--db", db)
    assert code == 2 and out == ""
    assert err == (f"tynys: error: {bad}: not the AirNow-Tech export format: missing column(s) 'Site AQS', 'Param AQS', 'POC', "
                   "'Date (UTC)', 'Time (UTC)', 'Unit', 'QC Code'; columns found: 'Site', 'Param', 'Value', 'Time'; "
                   "expected: 'Site AQS', 'Param', 'Param AQS', 'POC', 'Date (UTC)', 'Time (UTC)', 'Value', 'Unit', 'QC Code'\n")
    code, out, err = run(capsys, "import", "aqs", str(bad), str(good), "--db", db)
    assert code == 2 and err.count("\n") == 1 and "not the AQS hourly format: missing column(s) 'State Code'" in err
    assert out.startswith(f"imported {good} (aqs): 12 values, 12 new\n")
    with Store.open(db) as s:
        assert count(s) == 12 and count(s, "imports") == 1


def test_cli_human_and_json(capsys, tmp_path):
    db = str(tmp_path / "c.db")
    f = str(DATA / "location-2178-20240115.csv")
    code, out, err = run(capsys, "import", "openaq", f, "--db", db)
    assert code == 0 and err == ""
    assert out == (f"imported {f} (openaq): 8 values, 8 new\n"
                   "  openaq:2178  Almaty US Consulate  reference (new site)  every 3600 s  pm25 4, so2 4  "
                   "2024-01-15T00:00:00Z .. 2024-01-15T03:00:00Z\n")
    code, out, _ = run(capsys, "import", "auto", f, "--db", db, "--json")
    doc = json.loads(out)
    assert code == 0 and doc[0]["status"] == "already imported" and doc[0]["earlier"]["values"] == 8
    code, out, _ = run(capsys, "db", "sites", "--db", db, "--json")
    assert json.loads(out) == [{"site": "openaq:2178", "name": "Almaty US Consulate", "kind": "reference", "lat": 43.2325,
                                "lon": 76.9113, "tz": "", "parameters": "pm25 4 µg/m³, so2 4 ppm",
                                "first": "2024-01-15T00:00:00Z", "last": "2024-01-15T03:00:00Z"}]
    code, out, _ = run(capsys, "db", "stats", "--db", db, "--json")
    assert {k: json.loads(out)[k] for k in ("imports", "sites", "observations")} == {"imports": 1, "sites": 1, "observations": 8}


def test_cli_csv_options(capsys, tmp_path):
    db = str(tmp_path / "c.db")
    code, out, err = run(capsys, "import", "csv", str(DATA / "kazhydromet-oskemen-1.csv"), "--db", db, "--tz", "+05:00",
                         "--site", "kazhydromet-oskemen-1", "--time-column", "Дата и время",
                         "--map", "pm25=PM2.5 (mg/m3)", "--map", "so2=SO2 (mg/m3)", "--json")
    assert code == 0, err
    assert json.loads(out)[0]["sites"][0]["parameters"]["so2"]["unit"] == "mg/m3"
    code, out, err = run(capsys, "import", "aqs", str(DATA / "hourly_88101_2024_excerpt.csv"), "--db", db, "--map", "pm25=x")
    assert code == 2 and "--map and --unit are for plain CSV" in err


@pytest.mark.shared
def test_shared_real_files(shared_dir, store):
    d = shared_dir / "data" / "sensortoolkit-toco"
    ref = import_file(store, d / "airnowtech_example_reference_data.csv", "auto")
    assert (ref.format, ref.new) == ("airnowtech", 3595)
    sensors = [import_file(store, d / f"toco_toucan_RT0{i}_raw.csv", "auto", tz="-05:00") for i in (1, 2, 3)]
    assert [s.sites[0]["site"] for s in sensors] == [f"sensortoolkit:Ramphastos Toco 0{i}" for i in (1, 2, 3)]
    assert all(store.site(s.sites[0]["site"]).kind == "sensor" for s in sensors)
    # the repo copy is the same data: importing it adds nothing new
    again = import_file(store, TOCO / "toco_toucan_RT01_raw.csv.gz", "sensortoolkit", tz="-05:00")
    assert again.status == "imported" and again.new == 0 and again.duplicate == sensors[0].values


def test_unknown_format_and_missing_file(store, tmp_path):
    with pytest.raises(ImportRefused, match=r"unknown format 'netcdf'; use one of sensor-community, airnowtech"):
        import_file(store, DATA / "kazhydromet-oskemen-1.csv", "netcdf")
    with pytest.raises(ImportRefused, match="no such file"):
        import_file(store, tmp_path / "nope.csv", "csv")
    with pytest.raises(ImportFormatError, match="not the Sensor.Community archive format"):
        import_file(store, DATA / "kazhydromet-oskemen-1.csv", "sensor-community")


def test_a_file_that_is_not_utf8_text_is_refused_with_the_fix(store, tmp_path):
    cp1251 = tmp_path / "kazhydromet.csv"  # a Windows Cyrillic export, as many Kazakh stations give them
    cp1251.write_bytes("Дата,so2\n2024-01-15 00:00,12\n".encode("cp1251"))
    for fmt in ("auto", "csv", "airnowtech"):
        with pytest.raises(ImportRefused, match=r"not UTF-8 text .*: save it as UTF-8, e.g. iconv -f CP1251 -t UTF-8"):
            import_file(store, cp1251, fmt, site="x")
    fake = tmp_path / "export.csv.gz"
    fake.write_text("time,so2\n")
    with pytest.raises(ImportRefused, match=r"export.csv.gz: cannot read it .*: a .gz file must be gzip-compressed text"):
        import_file(store, fake, "csv", site="x")
    assert count(store, "imports") == 0


def test_header_only_and_truncated_files_do_not_stop_the_others(capsys, tmp_path):
    # Each used to end the whole command with an IndexError traceback.
    db = str(tmp_path / "c.db")
    empty = tmp_path / "2024-01-14_sds011_sensor_12345.csv"
    empty.write_text("sensor_id;sensor_type;location;lat;lon;timestamp;P1;durP1;ratioP1;P2;durP2;ratioP2\n")
    good = DATA / "2024-01-15_sds011_sensor_12345.csv"
    code, out, err = run(capsys, "import", "sensor-community", str(empty), str(good), "--db", db)
    assert code == 2 and out.startswith(f"imported {good} (sensor-community): 100 values, 100 new\n")
    assert err == f"tynys: error: {empty}: a header and no data rows: nothing to read; check the file is complete\n"


def test_dropped_values_are_reported_and_not_stored(capsys, tmp_path):
    db = str(tmp_path / "c.db")
    f = tmp_path / "station.csv"
    f.write_text("time,pm25,so2\n2024-01-15 00:00,12,3\n2024-01-15 01:00,abc,4\n2024-01-15 02:00,-1e308,NaN\n"
                 "0001-01-01 03:00,9,5\n2024-01-15 04:00,14,2e6\n")
    code, out, err = run(capsys, "import", "csv", str(f), "--db", db, "--tz", "UTC", "--site", "st", "--unit", "so2=ppb")
    assert code == 0, err
    assert err.splitlines() == [
        f"note: {f} column 'pm25': 2 value(s) dropped: 1 not numbers (first 'abc' (row 2)); 1 out of range -100…100000 "
        "µg/m³ (first -1e+308 at 2024-01-15T02:00:00Z)",
        f"note: {f} column 'so2': 2 value(s) dropped: 1 not finite (first 'NaN' (row 3)); 1 out of range -100…1e+06 ppb "
        "(first 2e+06 at 2024-01-15T04:00:00Z)",
        f"note: {f} column 'time': 1 value(s) dropped: 1 out of range (first a year outside 1900-2199 (row 4))"]
    with Store.open(db) as s:
        assert s.observations("csv:st", "pm25").value.tolist() == [12.0, 14.0]
        assert s.observations("csv:st", "so2").value.tolist() == [3.0, 4.0]


def test_the_same_file_read_another_way_is_imported_again(capsys, tmp_path):
    # A second --map answered "already imported" with exit 0 and no way through.
    db = str(tmp_path / "c.db")
    f = tmp_path / "pa.csv"
    f.write_text("time,sensor,A_B_Avg,humidity_a\n" + "".join(f"2024-01-{d:02d},7,{d + 3},{50 + d}\n" for d in range(1, 11)))
    base = ["import", "csv", str(f), "--db", db, "--tz", "UTC", "--site-column", "sensor", "--unit", "pm25=ug/m3"]
    code, out, err = run(capsys, *base, "--map", "pm25=A_B_Avg")
    assert code == 0 and out.startswith(f"imported {f} (csv): 10 values, 10 new\n"), err
    code, out, err = run(capsys, *base, "--map", "pm25=A_B_Avg")
    assert code == 0 and out.startswith(f"already imported {f}: same content as pa.csv imported ")
    assert out.rstrip().endswith("(10 values), read the same way (to read it another way, give other options: --map, "
                                 "--site, --tz …)")
    code, out, err = run(capsys, *base, "--map", "pm25=A_B_Avg", "--map", "rh=humidity_a")
    assert code == 0, err
    assert out.startswith(f"imported {f} (csv): 20 values, 10 new, 10 already stored\n")
    with Store.open(db) as s:
        assert count(s) == 20 and count(s, "imports") == 2
        assert s.observations("csv:7", "rh").value.tolist() == [float(50 + d) for d in range(1, 11)]
