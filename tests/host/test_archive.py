"""The Parquet archive: each UTC day of a database exported under city=/day= partitions, the same
files again on a re-export, a failed export that leaves the previous files, Sensor.Community files
straight to the archive, and the archive's observations read back into another database."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest
from factory import fill

from tynys import archive
from tynys.cli import main
from tynys.imports import import_file
from tynys.keys import KeyFile
from tynys.store import Store

pytestmark = [pytest.mark.host, pytest.mark.backends]

T0 = 1_767_225_600 - 6 * 3600  # 2025-12-31T18:00Z: the records span three UTC days
N = 2 * 288
DATA = Path(__file__).parent / "data" / "imports"
SC = DATA / "2024-01-15_sds011_sensor_12345.csv"


@pytest.fixture
def city(new_db, tmp_path):
    store = Store.open(new_db())
    keys = KeyFile(tmp_path / "city.keys")
    t = np.arange(N)
    pm = 20 + 10 * np.sin(t / 40)
    fill(store, keys, "osk-01", T0, {"pm.pm25_cf1": pm, "th.rh": 60 + 0 * pm})
    fill(store, keys, "osk-02", T0, {"pm.pm25_cf1": pm * 1.2, "th.rh": 50 + 0 * pm})
    ref = tmp_path / "kazhydromet-oskemen-1.csv"
    ref.write_text("time,pm25\n" + "".join(f"{T0 + 3600 * h},{15 + h % 7}.5\n" for h in range(48)))
    import_file(store, ref, "csv", site="kazhydromet-oskemen-1", units={"pm25": "ug/m3"})
    assert main(["calibrate", "apply", "--db", str(store.location), "--correction", "barkjohn2021", "--node", "osk-01"]) == 0
    yield store
    store.close()


def files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_export_writes_each_day_by_city_and_again_the_same_files(city, tmp_path, capsys):
    out = tmp_path / "archive"
    assert main(["archive", "export", "--db", str(city.location), "--out", str(out), "--city", "oskemen"]) == 0
    said = capsys.readouterr().out
    (values,) = city.db.execute("SELECT COUNT(*) FROM channel_values").fetchone()
    days = sorted(p.name for p in (out / "readings" / "city=oskemen").iterdir())
    assert days == ["day=2025-12-31", "day=2026-01-01", "day=2026-01-02"]
    assert said == (f"exported 3 day(s) to {out} (city=oskemen): {values} readings, {N} corrected values, 48 observations\n")
    readings = archive.read_table(out, "readings")
    assert readings.num_rows == values and set(readings.column("city").to_pylist()) == {"oskemen"}
    one = readings.filter((ds.field("node") == "osk-01") & (ds.field("channel") == "pm.pm25_cf1")).sort_by("t0")
    s = city.series("osk-01", "pm.pm25_cf1")
    np.testing.assert_array_equal(one["t0"].to_numpy(), s.t0)
    np.testing.assert_allclose(one["mean"].to_numpy(), s.mean, rtol=1e-12)
    first = one.filter(ds.field("day") == "2025-12-31")
    assert first.num_rows == 6 * 12 and first["t0"].to_numpy().max() < 1_767_225_600
    corr = archive.read_table(out, "corrected").sort_by("t0")
    np.testing.assert_allclose(corr["value"].to_numpy(), city.corrected("osk-01", "pm.pm25_cf1").value, rtol=1e-12)
    assert set(corr["model"].to_pylist()) == {"correction:barkjohn2021"}
    obs = archive.read_table(out, "observations")
    assert obs.num_rows == len(city.observations("csv:kazhydromet-oskemen-1", "pm25"))
    before = files(out)
    assert main(["archive", "export", "--db", str(city.location), "--out", str(out), "--city", "oskemen"]) == 0
    assert files(out) == before  # idempotent: the same bytes
    # a day named by a time inside it is exported whole, never cut at that time
    capsys.readouterr()
    assert main(["archive", "export", "--db", str(city.location), "--out", str(out), "--city", "oskemen",
                 "--from", "2026-01-01T13:00Z", "--to", "2026-01-01T13:00Z"]) == 0
    assert capsys.readouterr().out.startswith("exported 1 day(s)")
    assert files(out) == before


def test_a_failed_export_leaves_the_previous_partition(city, tmp_path, monkeypatch):
    out = tmp_path / "archive"
    archive.export(city, out, city="oskemen")
    before = files(out)
    calls = []

    def broken(table, where, **kw):
        calls.append(where)
        if len(calls) == 4:  # half a file written, then the disk fails
            Path(where).write_bytes(b"PAR1 half")
            raise OSError(28, "No space left on device")
        return real(table, where, **kw)

    real = pq.write_table
    monkeypatch.setattr(pq, "write_table", broken)
    with pytest.raises(OSError, match="No space left"):
        archive.export(city, out, city="oskemen")
    assert files(out) == before  # no half file, no dot-file, every old partition intact


def test_observations_read_back_into_another_database(city, new_db, tmp_path, capsys):
    out = tmp_path / "archive"
    archive.export(city, out, city="oskemen")
    archive.add_sensor_community(out, [SC], city="oskemen")
    archive.add_sensor_community(out, [SC], city="oskemen")  # again: the same file replaced, not doubled
    other = new_db("other")
    assert main(["import", "parquet", str(out), "--db", str(other)]) == 0
    said = capsys.readouterr()
    assert "node readings are not imported" in said.err
    with Store.open(other) as o:
        for ref, param in (("csv:kazhydromet-oskemen-1", "pm25"), ("sensor-community:12345", "pm25"),
                           ("sensor-community:12345", "pm10")):
            if ref.startswith("csv"):
                want = city.observations(ref, param)
            else:
                ref_db = new_db("direct")
                with Store.open(ref_db) as d:
                    import_file(d, SC, "sensor-community")
                    want = d.observations(ref, param)
            got = o.observations(ref, param)
            np.testing.assert_array_equal(got.t0, want.t0)
            np.testing.assert_array_equal(got.t1, want.t1)
            np.testing.assert_allclose(got.value, want.value, rtol=1e-12)
            assert got.unit == want.unit
        site = o.site("sensor-community:12345")
        assert (site.kind, site.lat, site.lon) == ("sensor", 49.949, 82.628)
    assert main(["import", "parquet", str(out), "--db", str(other)]) == 0
    assert capsys.readouterr().out.startswith(f"already imported {out}")


def test_a_parquet_folder_of_another_tool_is_refused_with_the_fix(city, tmp_path, capsys):
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    pq.write_table(pa.table({"ts": [1, 2], "pm": [1.0, 2.0]}), foreign / "part-0.parquet")
    assert main(["import", "parquet", str(foreign), "--db", str(city.location)]) == 2
    err = capsys.readouterr().err
    assert err == (f"tynys: error: {foreign} holds Parquet files of another tool but no _tynys_archive.json: it is not a "
                   "Tynys archive; name a folder written by tynys archive export\n")
    assert main(["archive", "export", "--db", str(city.location), "--out", str(foreign)]) == 2
    assert "export into an empty or new folder" in capsys.readouterr().err
    assert sorted(p.name for p in foreign.iterdir()) == ["part-0.parquet"]  # nothing written beside it
    assert main(["archive", "export", "--db", str(city.location), "--out", str(tmp_path / "a"), "--city", "Öskemen"]) == 2
    assert "--city 'Öskemen': write it as lowercase letters" in capsys.readouterr().err
