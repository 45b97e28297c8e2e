"""Each reader on a small file in its source's layout, and the refusals with their exact messages."""

import gzip

import numpy as np
import pytest

from tynys.importers import ImportFormatError, TimeZoneError, detect, read
from tynys.importers.aqs import read_aqs
from tynys.importers.generic import read_csv
from tynys.importers.openaq import read_openaq
from tynys.importers.sensor_community import read_sensor_community
from tynys.importers.sensortoolkit import read_sensortoolkit
from tynys.timeutil import TimestampError, iso, parse_times

pytestmark = pytest.mark.host

AQS_HEADER = ('"State Code","County Code","Site Num","Parameter Code","POC","Latitude","Longitude","Datum",'
              '"Parameter Name","Date Local","Time Local","Date GMT","Time GMT","Sample Measurement",'
              '"Units of Measure","MDL","Uncertainty","Qualifier","Method Type","Method Code","Method Name",'
              '"State Name","County Name","Date of Last Change"')


def _aqs_row(code, poc, gmt_date, gmt_time, value, unit="Micrograms/cubic meter (LC)", site="0099"):
    return (f'"37","063","{site}","{code}",{poc},35.889,-78.874,"WGS84","PM2.5 - Local Conditions","2019-08-01","00:00",'
            f'"{gmt_date}","{gmt_time}",{value},"{unit}",2,"","","FEM","238","T640X","North Carolina","Durham","2020-01-01"')


def write(tmp_path, name, text, gz=False):
    p = tmp_path / name
    if gz:
        p.write_bytes(gzip.compress(text.encode()))
    else:
        p.write_text(text, encoding="utf-8")
    return p


def test_aqs_two_sites_and_second_poc(tmp_path):
    rows = [AQS_HEADER, _aqs_row("88101", 1, "2019-08-01", "05:00", 7.5), _aqs_row("88101", 3, "2019-08-01", "05:00", 8.0),
            _aqs_row("88101", 1, "2019-08-01", "06:00", 6.5), _aqs_row("88101", 1, "2019-08-01", "05:00", 12.0, site="0014"),
            _aqs_row("42401", 1, "2019-08-01", "05:00", 1.2, unit="Parts per billion")]
    p = write(tmp_path, "hourly_88101_2019.csv", "\n".join(rows) + "\n")
    assert detect(p) == "aqs"
    t = read_aqs(p)
    assert t.sites() == ["37-063-0014", "37-063-0099"]
    s = t.select("37-063-0099")
    assert s.time.tolist() == [1564635600, 1564639200]
    assert s.columns["pm25"].tolist() == [7.5, 6.5] and s.columns["pm25_poc3"][0] == 8.0
    assert t.units["pm25"] == "µg/m³" and t.units["so2"] == "ppb"


def test_aqs_temperature_in_fahrenheit_becomes_celsius(tmp_path):
    rows = [AQS_HEADER, _aqs_row("62101", 1, "2019-08-01", "05:00", 77.0, unit="Degrees Fahrenheit"),
            _aqs_row("88101", 1, "2019-08-01", "05:00", 7.5)]
    t = read_aqs(write(tmp_path, "hourly_TEMP_2019.csv", "\n".join(rows) + "\n"))
    assert t.columns["t_c"].tolist() == [25.0] and t.units["t_c"] == "°C"
    assert t.columns["pm25"].tolist() == [7.5]


def test_openaq_archive_and_explorer_layouts(tmp_path):
    a = write(tmp_path, "location-1-20240101.csv.gz",
              "location_id,sensors_id,location,datetime,lat,lon,parameter,units,value\n"
              "2178,3917,Almaty,2024-01-01T06:00:00+06:00,43.2,76.9,pm25,µg/m³,41.0\n"
              "2178,3918,Almaty,2024-01-01T06:00:00+06:00,43.2,76.9,so2,ppm,0.004\n"
              "2178,3919,Almaty,2024-01-01T06:00:00+06:00,43.2,76.9,bc,µg/m³,3.0\n", gz=True)
    t = read_openaq(a)
    assert detect(a) == "openaq" and t.time.tolist() == [1704067200]
    assert t.columns["pm25"][0] == 41.0 and t.units["so2"] == "ppm" and t.meta["ignored_params"] == ["bc"]
    e = write(tmp_path, "explorer.csv", "location_id,location_name,parameter,value,unit,datetimeUtc,datetimeLocal\n"
              "2178,Almaty,pm10,80,µg/m³,2024-01-01T00:00:00Z,2024-01-01T06:00:00+06:00\n")
    assert read_openaq(e).columns["pm10"].tolist() == [80.0] and read_openaq(e).meta["layout"] == "explorer"


def test_sensor_community_p1_is_pm10(tmp_path):
    p = write(tmp_path, "2018-12-01_sds011_sensor_11245.csv",
              "sensor_id;sensor_type;location;lat;lon;timestamp;P1;durP1;ratioP1;P2;durP2;ratioP2\n"
              "11245;SDS011;5680;49.857;8.646;2018-12-01T00:00:18;5.43;;;5.33;;\n"
              "11245;SDS011;5680;49.857;8.646;2018-12-01T00:02:46;7.10;;;4.90;;\n")
    t = read_sensor_community(p)
    assert detect(p) == "sensor_community"
    assert t.columns["pm10"].tolist() == [5.43, 7.10] and t.columns["pm25"].tolist() == [5.33, 4.90]
    assert t.time[0] == 1543622418 and t.meta["location"] == "5680"


def test_sensor_community_unexpected_column(tmp_path):
    p = write(tmp_path, "x.csv", "sensor_id;sensor_type;location;lat;lon;timestamp;P1;P2;co2_ppm\n1;X;2;0;0;2020-01-01T00:00:00;1;2;400\n")
    with pytest.raises(ImportFormatError) as e:
        read_sensor_community(p)
    assert str(e.value) == (f"{p}: unexpected column(s) co2_ppm; columns found: sensor_id, sensor_type, location, lat, lon, "
                            "timestamp, P1, P2, co2_ppm; expected value columns: P0, P1, P2, temperature, humidity, "
                            "pressure, pressure_sealevel, altitude")


def test_generic_csv_mapping_and_epoch(tmp_path):
    p = write(tmp_path, "node.csv", "time,PM2.5 (µg/m³),rh,node\n1767225600,12.5,80,a\n1767229200,,81,a\n")
    t = read_csv(p, columns={"pm25": "PM2.5 (µg/m³)", "rh": "rh"}, site_column="node")
    assert t.time.tolist() == [1767225600, 1767229200] and t.units["pm25"] == "µg/m³"
    assert np.isnan(t.columns["pm25"][1]) and t.sites() == ["a"]


def test_generic_csv_refuses_missing_zone(tmp_path):
    p = write(tmp_path, "n.csv", "timestamp,pm25\n2026-01-01 00:00,5\n")
    with pytest.raises(TimeZoneError) as e:
        read(p)
    assert str(e.value) == (f"{p} column 'timestamp': timestamps carry no time zone (first: '2026-01-01 00:00'); "
                            "say which zone they are in with --tz UTC, --tz +06:00 or --tz Asia/Almaty")
    # Kazakhstan moved to a single zone, UTC+05:00, on 2024-03-01: the IANA data knows it
    assert read(p, tz="Asia/Almaty").time.tolist() == [1767225600 - 5 * 3600]


def test_generic_csv_without_time_column(tmp_path):
    p = write(tmp_path, "n.csv", "when,pm25\n2026-01-01,5\n")
    with pytest.raises(ImportFormatError) as e:
        read(p)
    assert str(e.value) == (f"{p}: no time column; columns found: when, pm25; name it with --time-column "
                            "(looked for time, timestamp, datetime, date, datetime_utc, time_utc)")


def test_reference_with_unknown_columns(tmp_path):
    p = write(tmp_path, "ref.csv", "Site,Param,Value,Time\nX,PM2.5,3,1\n")
    from tynys.importers.airnowtech import read_airnowtech
    with pytest.raises(ImportFormatError) as e:
        read_airnowtech(p)
    assert str(e.value) == (f"{p}: not the AirNow-Tech export format: missing column(s) 'Site AQS', 'Param AQS', 'POC', "
                            "'Date (UTC)', 'Time (UTC)', 'Unit', 'QC Code'; columns found: 'Site', 'Param', 'Value', "
                            "'Time'; expected: 'Site AQS', 'Param', 'Param AQS', 'POC', 'Date (UTC)', 'Time (UTC)', "
                            "'Value', 'Unit', 'QC Code'")


def test_dst_ambiguous_and_nonexistent_times_refused():
    with pytest.raises(TimeZoneError) as e:
        parse_times(["2019-11-03 01:30"], tz="America/New_York", what="f.csv")
    assert str(e.value) == ("f.csv: 1 timestamp(s) fall in the hour repeated when daylight saving ends in America/New_York "
                            "(first: 2019-11-03 01:30); a local clock cannot say which of the two it means: if the logger "
                            "keeps standard time pass its fixed offset, e.g. --tz -05:00, or export the data in UTC")
    with pytest.raises(TimeZoneError, match=r"do not exist .* the logger did not follow daylight saving: pass its fixed offset instead, e.g. --tz -05:00"):
        parse_times(["2019-03-10 02:30"], tz="America/New_York", what="f.csv")
    assert parse_times(["2019-11-03 01:30"], tz="-05:00").tolist() == [1572762600]


def test_offsets_in_cells_win_and_mixing_is_refused():
    assert parse_times(["2024-01-01T06:00:00+06:00", "2024-01-01T00:00:00Z"]).tolist() == [1704067200] * 2
    with pytest.raises(TimeZoneError, match="some timestamps carry a time zone and some do not"):
        parse_times(["2024-01-01T06:00:00+06:00", "2024-01-01T00:00:00"], tz="UTC")


def test_sensortoolkit_preamble_zone(tmp_path):
    pre = "Serial ID: X 01\nInstrument Data Export\n1/1/2020 to 1/2/2020\n(UTC-05:00) Eastern Time (US & Canada)\nAveraging period: 1 minute\n\n"
    winter = write(tmp_path, "w.csv", pre + "Time,PM2.5 (µg/m³),RH (%),Inlet\n1/1/2020 0:00,5,50,Sample\n1/1/2020 0:01,6,50,Zero\n")
    t = read_sensortoolkit(winter)  # no daylight saving in January: the label is unambiguous
    assert t.time.tolist() == [1577854800, 1577854860] and np.isnan(t.columns["pm25"][1])
    assert t.meta["serial"] == "X 01" and t.meta["tz"] == "-05:00"
    summer = write(tmp_path, "s.csv", pre + "Time,PM2.5 (µg/m³)\n8/1/2019 7:11,5.4\n")
    with pytest.raises(TimeZoneError, match=r"ambiguous here: .* pass --tz -05:00 or --tz America/New_York"):
        read_sensortoolkit(summer)
    odd = write(tmp_path, "o.csv", pre + "Time,PM2.5 (µg/m³),Lux (lx)\n1/1/2020 0:00,5,3\n")
    with pytest.raises(ImportFormatError, match=r"unexpected column 'Lux \(lx\)'; columns found: Time, PM2.5 \(µg/m³\), Lux \(lx\)"):
        read_sensortoolkit(odd)


@pytest.mark.shared
def test_shared_files_are_detected(shared_dir):
    d = shared_dir / "data"
    assert detect(d / "sensortoolkit-toco" / "toco_toucan_RT01_raw.csv") == "sensortoolkit"
    assert detect(d / "sensortoolkit-toco" / "airnowtech_example_reference_data.csv") == "airnowtech"
    assert detect(d / "purpleair-se-us-daily" / "DAILY90_r0_5km_processeddata_PA_AQS_Jan2021_Aug2023_Final.csv") == "csv"


@pytest.mark.parametrize("cell, why", [("20240101", "a date written YYYYMMDD: write it as YYYY-MM-DD"),
                                       ("1704067200000", "Unix milliseconds: divide by 1000")])
def test_whole_number_times_that_are_not_unix_seconds_are_refused(tmp_path, cell, why):
    p = write(tmp_path, "t.csv", f"time,pm25\n1704067200,4\n{cell},5\n")
    with pytest.raises(ImportFormatError) as e:
        read_csv(p)
    assert str(e.value) == (f"{p} column 'time': '{cell}' (row 2) looks like {why}; "
                            "whole numbers in a time column are read as Unix seconds (UTC)")
    assert read_csv(write(tmp_path, "ok.csv", "time,pm25\n1704067200,4\n")).time.tolist() == [1704067200]



# --- audit issue 10, items 11-13: no roll-over, counted drops, header-only and truncated files, dates ---

@pytest.mark.parametrize("cell, why", [("2024-02-30 00:00", "February 2024 has 29 days"),
                                       ("2023-02-29", "February 2023 has 28 days"),
                                       ("2024-03-01 25:00", "hours run 00 to 23"),
                                       ("2024-03-01T24:00:00", "hours run 00 to 23: 24:00 is 00:00 of the next day"),
                                       ("2024-13-01", "there is no month 13")])
def test_impossible_timestamps_are_refused_with_the_row(tmp_path, cell, why):
    # 2024-02-30 used to become 2024-03-01 and 25:00 01:00 of the next day, without a word
    p = write(tmp_path, "t.csv", f"time,pm25\n2024-02-28 00:00,4\n{cell},5\n")
    with pytest.raises(TimestampError) as e:
        read_csv(p, tz="UTC")
    assert str(e.value) == (f"{p} column 'time': {cell!r} (row 2) is not a real time ({why}); correct it in the file: "
                            "a time is never rolled over into the next day or month")


def test_slashed_dates_are_checked_too():
    with pytest.raises(TimestampError, match=r"'2/30/2019 5:00' \(row 1\) is not a real time \(February 2019 has 28 days\)"):
        parse_times(["2/30/2019 5:00"], tz="UTC", order="mdy", what="f.csv")


def test_dropped_and_out_of_range_values_are_counted_per_column(tmp_path):
    p = write(tmp_path, "v.csv", "time,PM2.5 (µg/m³),RH (%)\n"
              "2024-01-01 00:00,5,50\n2024-01-01 01:00,abc,51\n2024-01-01 02:00,inf,52\n"
              "2024-01-01 03:00,NaN,180\n2024-01-01 04:00,-1e308,53\n0001-01-01 05:00,6,54\n2024-01-01 06:00,,55\n")
    t = read(p, tz="UTC")
    assert len(t) == 6 and t.time[-1] == 1704088800  # the year-0001 row is dropped, the empty cell is just missing
    assert np.isnan(t.columns["PM2.5 (µg/m³)"][1:4]).all() and np.isnan(t.columns["RH (%)"][3])
    assert t.messages() == [
        f"{p} column 'PM2.5 (µg/m³)': 4 value(s) dropped: 1 not numbers (first 'abc' (row 2)); 2 not finite "
        "(first 'inf' (row 3)); 1 out of range -100…100000 µg/m³ (first -1e+308 at 2024-01-01T04:00:00Z)",
        f"{p} column 'RH (%)': 1 value(s) dropped: 1 out of range 0…100 % (first 180 at 2024-01-01T03:00:00Z)",
        f"{p} column 'time': 1 value(s) dropped: 1 out of range (first a year outside 1900-2199 (row 6))"]


@pytest.mark.parametrize("name, text", [
    ("2024-01-15_sds011_sensor_1.csv", "sensor_id;sensor_type;location;lat;lon;timestamp;P1;durP1;ratioP1;P2;durP2;ratioP2\n"),
    ("location-1.csv", "location_id,sensors_id,location,datetime,lat,lon,parameter,units,value\n"),
    ("airnowtech.csv", "Agency,Site,Site AQS,Param,Param AQS,POC,Method,Duration,Date (UTC),Time (UTC),Date (LST),"
                       "Time (LST),Offset (LST),Value,Unit,QC Code\n"),
    ("hourly_88101_2024.csv", AQS_HEADER + "\n"),
    ("st.csv", "Serial ID: X 01\nInstrument Data Export\n1/1/2020 to 1/2/2020\n(UTC-05:00) Eastern Time (US & Canada)\n"
               "Averaging period: 1 minute\n\nTime,PM2.5 (µg/m³),Inlet\n"),
    ("plain.csv", "time,pm25\n")])
def test_header_only_files_are_refused_in_every_reader(tmp_path, name, text):
    p = write(tmp_path, name, text)
    with pytest.raises(ImportFormatError) as e:  # an IndexError before
        read(p, tz="UTC")
    assert str(e.value) == f"{p}: a header and no data rows: nothing to read; check the file is complete"


def test_a_truncated_last_line_is_skipped_and_said(tmp_path):
    p = write(tmp_path, "2024-01-15_sds011_sensor_7.csv",
              "sensor_id;sensor_type;location;lat;lon;timestamp;P1;durP1;ratioP1;P2;durP2;ratioP2\n"
              "7;SDS011;5;49.9;82.6;2024-01-15T00:00:10;5.4;;;3.2;;\n7;SDS011;5;49.9;82.6;2024-01-15T00:02:35;6.1;;;3.")
    t = read(p)
    assert len(t) == 1 and t.messages() == [f"{p}: 1 row(s) with the wrong number of cells skipped (first: "
                                            "'7;SDS011;5;49.9;82.6;2024-01-15T00:02:35;6.1;;;3.'): a truncated line "
                                            "or a stray delimiter"]
    cut = write(tmp_path, "cut.csv.gz", "time,pm25\n" + "".join(f"2024-01-01T{h:02d}:00Z,{h}\n" for h in range(24)),
                gz=True)
    cut.write_bytes(cut.read_bytes()[:-12])
    with pytest.raises(ImportFormatError, match=r"cut.csv.gz: the file ends early or is damaged \(.*\): copy or download"):
        read(cut)


def test_a_date_is_its_own_day_whatever_the_zone(tmp_path):
    # New York's days start at 05:00 UTC (midnight EST) all year; a date-only daily value was read as local
    # midnight, 04:00 UTC in summer, and fell into the day before (12 pairs of days merged at spring-forward).
    times = parse_times(["2021-03-13", "2021-03-14", "2021-03-15", "2021-07-04"], tz="America/New_York")
    assert [iso(t) for t in times] == ["2021-03-13T05:00:00Z", "2021-03-14T05:00:00Z", "2021-03-15T05:00:00Z",
                                       "2021-07-04T05:00:00Z"]
    assert parse_times(["2021-07-04 00:00"], tz="America/New_York").tolist() == [1625371200]  # a clock time: EDT


def test_blank_lines_before_the_header_are_skipped(tmp_path):
    p = write(tmp_path, "b.csv", "\n\ntime,pm25\n2024-01-01T00:00:00Z,4\n2024-01-01T01:00:00Z,5\n")
    assert read_csv(p).columns["pm25"].tolist() == [4.0, 5.0]


# The fast path (uniform-width ISO columns read from their bytes) against the general one (one regex
# over the column) and against Python's own datetime, on random times of every layout the fast path
# reads. A pyarrow array with a non-zero offset always takes the regex path.

_LAYOUTS = ["%Y-%m-%d", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%MZ", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%SZ",
            "%Y-%m-%dT%H:%M{off}", "%Y-%m-%dT%H:%M:%S{off}"]


def _both_paths(cells, monkeypatch, **kw):
    import pyarrow as pa
    from tynys import timeutil
    with monkeypatch.context() as m:  # every row read from its bytes, none left to the regex
        m.setattr(timeutil, "_by_regex", lambda *a: pytest.fail("the fast path left rows to the general one"))
        fast = parse_times(pa.array(cells, pa.string()), **kw)
    general = parse_times(pa.array(["x", *cells], pa.string()).slice(1), **kw)
    return fast, general


@pytest.mark.parametrize("layout", _LAYOUTS)
def test_the_fast_time_parser_equals_the_general_one_and_python_on_random_times(layout, monkeypatch):
    from datetime import datetime, timedelta, timezone
    rng = np.random.default_rng(len(layout))
    secs = rng.integers(-2_000_000_000, 5_000_000_000, 2000)  # 1906 .. 2128, leap days and year ends included
    secs[:4] = [951_782_400, 4_107_456_000 - 1, 1_709_164_800, 0]  # 2000-02-29, 2099-12-31 23:59:59, 2024-02-29, 1970
    offs = rng.integers(-12 * 4, 14 * 4, len(secs)) * 900  # quarter hours east of UTC
    cells, want = [], []
    for s, o in zip(secs.tolist(), offs.tolist()):
        local = datetime(1970, 1, 1) + timedelta(seconds=s)
        off = f"{'+' if o >= 0 else '-'}{abs(o) // 3600:02d}:{abs(o) % 3600 // 60:02d}"
        text = local.strftime(layout.replace("{off}", off))
        cells.append(text)
        zoned = text.endswith("Z") or "{off}" in layout
        ref = datetime.fromisoformat(text.replace("Z", "+00:00"))
        want.append(int((ref if zoned else ref.replace(tzinfo=timezone(timedelta(hours=6)))).timestamp()))
    fast, general = _both_paths(cells, monkeypatch, tz="+06:00")
    assert fast.tolist() == want and general.tolist() == want


@pytest.mark.parametrize("cell", ["2023-02-29 10:00", "2024-04-31T00:00:00", "2024-13-01", "2024-01-01 24:00",
                                  "2024-01-01T23:60Z", "2024-01-01T23:59:60+06:00", "2024-00-10"])
def test_both_time_parsers_refuse_what_does_not_exist(cell):
    import pyarrow as pa
    for arr in (pa.array([cell] * 3, pa.string()), pa.array(["x", cell, cell, cell], pa.string()).slice(1)):
        with pytest.raises(TimestampError, match=r"\(row 1\) is not a real time"):
            parse_times(arr, tz="UTC")


def test_value_cells_read_as_python_reads_them_and_what_is_dropped_is_counted():
    # The C cast (with a regex for the cells it refuses) against Python's float() on random cells.
    import pyarrow as pa
    import pyarrow.compute as pc
    from tynys.importers.scan import Dropped, _floats
    rng = np.random.default_rng(7)
    forms = ["{:.2f}", "{:g}", "{:e}", " {:.1f} ", "+{:.3f}", "{:.0f}.", "{:.4E}"]
    others = ["abc", "1,5", "--1", "1e", "n/a", ".", "nan", "NaN", "inf", "-Infinity", "+inf", " NAN "]
    cells = []
    for _ in range(3000):
        if rng.random() < 0.2:
            cells.append(others[rng.integers(len(others))])
        else:
            x = float(rng.normal(0, 10) * 10.0 ** rng.integers(-3, 6))
            cells.append(forms[rng.integers(len(forms))].format(x).replace("+-", "-"))
    cells.append(None)  # an empty cell: the reader makes it null (no value, nothing dropped)
    want, not_number, not_finite = [], 0, 0
    for c in cells:
        t = (c or "").strip()
        try:
            v = float(t) if t else float("nan")
        except ValueError:
            v, not_number = float("nan"), not_number + 1
        if t and not np.isfinite(v) and t.lower().lstrip("+-") in ("nan", "inf", "infinity"):
            not_finite += 1
        want.append(v if np.isfinite(v) else np.nan)
    d = Dropped()
    got = _floats(pa.array(cells, pa.string()), d, 1, pc)
    assert np.array_equal(got, np.array(want), equal_nan=True)
    assert (d.not_number, d.not_finite) == (not_number, not_finite) and not_number > 100 and not_finite > 100
