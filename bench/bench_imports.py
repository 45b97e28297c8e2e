"""Importing a large Sensor.Community archive CSV: Tynys against pandas doing the same job.

One file of 1,000,000 rows in the archive's SDS011 layout (``;``-separated, ISO times without a
zone, P1/P2 with gaps and a few bad cells), made once per run. Two jobs, timed by ``run.py``'s
``report.compare`` (pandas and pyarrow imported and each side run once on the file's first lines
before anything is timed; the sides in alternation, several rounds, median and best); peak memory
is each side's in a fresh interpreter (see ``_peaks``):

- *read*: the file to time [int64 UTC s] + PM10 + PM2.5 [float64] + the sensor of each row,
  times validated (Tynys refuses 2024-02-30; pandas' ``to_datetime(format=...)`` does too),
  cells that are not numbers made NaN (and counted by Tynys).
- *import*: the same into the store (``tynys.imports.import_file``), against pandas reading and
  converting it and handing the same arrays to the same ``Store.insert_observations``.

Beside them, the ceiling: pyarrow's CSV reader with native types and nothing checked (for the
import, the same arrays handed to the same store calls). Memory is
measured as RSS, since pyarrow's allocations are invisible to tracemalloc.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np

ROWS = 1_000_000
REPEATS = 3

HEADER = "sensor_id;sensor_type;location;lat;lon;timestamp;P1;durP1;ratioP1;P2;durP2;ratioP2\n"


def make_file(path: Path, rows: int = ROWS, seed: int = 0) -> None:
    """An archive-layout file: 4 sensors, a reading every ~145 s, 1 % empty and 0.1 % 'nan' cells."""
    rng = np.random.default_rng(seed)
    t = np.datetime64("2024-01-01T00:00:00") + np.cumsum(rng.integers(140, 150, rows)).astype("timedelta64[s]")
    stamps = np.datetime_as_string(t)
    sid = rng.integers(0, 4, rows)
    p1 = np.round(rng.gamma(2.0, 10.0, rows), 2).astype(str)
    p2 = np.round(rng.gamma(2.0, 6.0, rows), 2).astype(str)
    p1[rng.random(rows) < 0.01] = ""
    p2[rng.random(rows) < 0.001] = "nan"
    with open(path, "w") as f:
        f.write(HEADER)
        chunk = 100_000
        for a in range(0, rows, chunk):
            b = min(rows, a + chunk)
            f.writelines(f"{1000 + s};SDS011;{500 + s};49.95;82.63;{ts};{x};;;{y};;\n"
                         for s, ts, x, y in zip(sid[a:b].tolist(), stamps[a:b].tolist(), p1[a:b].tolist(), p2[a:b].tolist()))


def _pandas_read(path):
    import pandas as pd
    df = pd.read_csv(path, sep=";", usecols=["sensor_id", "timestamp", "P1", "P2"], dtype=str, keep_default_na=False)
    t = pd.to_datetime(df["timestamp"], format="%Y-%m-%dT%H:%M:%S").to_numpy("datetime64[s]").astype(np.int64)
    pm10 = pd.to_numeric(df["P1"].replace("", None), errors="coerce").to_numpy(np.float64)
    pm25 = pd.to_numeric(df["P2"].replace("", None), errors="coerce").to_numpy(np.float64)
    return t, pm10, pm25, df["sensor_id"].to_numpy()


def _arrow_read(path):
    """The ceiling: pyarrow's reader with native types, nothing checked or counted."""
    import pyarrow.csv as pacsv
    opts = pacsv.ConvertOptions(include_columns=["sensor_id", "timestamp", "P1", "P2"],
                                column_types={"timestamp": "timestamp[s]"})
    return pacsv.read_csv(path, parse_options=pacsv.ParseOptions(delimiter=";"), convert_options=opts)


def _arrow_arrays(path):
    tab = _arrow_read(path)
    t = tab["timestamp"].to_numpy().astype("datetime64[s]").astype(np.int64)
    pm10, pm25 = (tab[c].to_numpy(zero_copy_only=False).astype(np.float64) for c in ("P1", "P2"))
    return t, pm10, pm25, tab["sensor_id"].to_numpy()


def _pandas_import(path, db, read=_pandas_read) -> int:
    """pandas reads and converts, each sensor's recording interval is its most common step; the
    values go to the store through the same calls tynys makes."""
    import pandas as pd
    from tynys.imports import store_values
    from tynys.store import Store
    t, pm10, pm25, sid = read(path)
    n = 0
    with Store.open(db) as store, store.transaction():
        iid = store.record_import("other-" + os.path.basename(db), os.path.basename(path), "sensor-community", 0, 0)
        for s in np.unique(sid):
            site, _ = store.ensure_site("sensor-community", str(s), kind="sensor")
            sel = sid == s
            steps = pd.Series(np.diff(np.sort(t[sel])))
            step = int(steps[steps > 0].mode().iloc[0])
            for param, v in (("pm10", pm10), ("pm25", pm25)):
                ok = sel & np.isfinite(v)
                store_values(store, iid, site.id, param, t[ok], step, v[ok], "µg/m³")
                n += int(ok.sum())
    return n


def _tynys_import(path, db) -> int:
    from tynys.imports import import_file
    from tynys.store import Store
    with Store.open(db) as store:
        return import_file(store, path, "sensor-community").values


def _head(path: Path, rows: int) -> Path:
    """The file's first *rows* rows (and its header) beside it."""
    small = path.with_name(f"head{rows}-" + path.name)
    if not small.exists():
        with open(path) as f, open(small, "w") as w:
            w.writelines(line for _, line in zip(range(rows + 1), f))
    return small


def _warm(path: Path, side: str) -> None:
    """Run a side once on the file's first lines: its code is loaded (library pages count in RSS
    once touched) before anything is measured; only the data's time and memory are."""
    from tynys.importers import read
    small = _head(path, 200)
    {"pandas": _pandas_read, "ceiling": _arrow_read}.get(side, lambda p: read(p, "sensor_community"))(small)


def _agree(path: Path, tmp: Path) -> int:
    """The sides do the same job: on the file's first 20,000 rows they read the same times, values
    and sensors, and leave the same observations in the store. Returns the rows compared."""
    import sqlite3
    from tynys.importers import read
    small = _head(path, 20_000)
    tab = read(small, "sensor_community")
    ours = (tab.time, tab.columns["pm10"], tab.columns["pm25"], tab.site.strings())
    for other in (_pandas_read(small), _arrow_arrays(small)):
        for a, b in zip(ours, other):
            a, b = np.asarray(a), np.asarray(b)
            same = np.array_equal(a, b, equal_nan=True) if a.dtype.kind == "f" else np.array_equal(a.astype(str), b.astype(str))
            assert same, "the sides read the file differently"
    stored = []
    for side, fn in (("tynys", _tynys_import), ("pandas", _pandas_import),
                     ("ceiling", lambda p, db: _pandas_import(p, db, read=_arrow_arrays))):
        db = tmp / f"agree-{side}.db"
        fn(small, db)
        with sqlite3.connect(db) as c:
            stored.append(c.execute("SELECT s.provider_id, o.parameter, o.t0, o.t1, o.value FROM observations o "
                                    "JOIN sites s ON s.id = o.site ORDER BY 1, 2, 3").fetchall())
    assert stored[0] == stored[1] == stored[2] and len(stored[0]) > 30_000, "the sides stored different observations"
    return len(tab)


def run(report):
    import pandas  # noqa: F401  (every library imported before anything is timed)
    import pyarrow.compute  # noqa: F401
    import pyarrow.csv  # noqa: F401
    from tynys.importers import read
    import tynys.imports  # noqa: F401
    import tynys.store  # noqa: F401

    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        path = tmp / "2024-01_sds011_sensor_1000.csv"
        make_file(path)
        report("imports.file", path.stat().st_size / 2**20, f"MiB, {ROWS} rows (Sensor.Community archive layout)")
        report("imports.sides_agree", _agree(path, tmp), "rows read and stored identically by all sides (checked)")
        count = iter(range(10**6))

        def reader(side):
            def setup():
                _warm(path, side)
                if side == "tynys":
                    return lambda: read(path, "sensor_community")
                return lambda: _pandas_read(path) if side == "pandas" else _arrow_read(path)
            return setup

        def importer(side):
            def setup():
                _warm(path, side)
                db = tmp / f"{side}-{next(count)}.db"
                go = {"tynys": lambda: _tynys_import(path, db), "pandas": lambda: _pandas_import(path, db),
                      "ceiling": lambda: _pandas_import(path, db, read=_arrow_arrays)}[side]
                return go, lambda: db.unlink(missing_ok=True)
            return setup

        sides = {"tynys": reader("tynys"), "pandas": reader("pandas"), "pyarrow read_csv, native types": reader("ceiling")}
        report.compare("imports read", sides, work=ROWS, per="rows", repeats=REPEATS, baseline="pandas",
                       ceiling="pyarrow read_csv, native types")
        _peaks(report, "imports read", "read", path, tmp)
        sides = {"tynys": importer("tynys"), "pandas": importer("pandas"),
                 "pyarrow native read + the same store calls": importer("ceiling")}
        report.compare("imports into the store", sides, work=ROWS, per="rows", repeats=REPEATS, baseline="pandas",
                       ceiling="pyarrow native read + the same store calls")
        _peaks(report, "imports into the store", "import", path, tmp)


# Peak memory: each side in a fresh interpreter (exec, not fork). A forked child shares the parent's
# heap, and memory the parent's earlier runs freed but kept resident (glibc's heap, pyarrow's pool)
# is reused there without growing RSS: a forked measure understates whatever ran in the parent
# before. A fresh process warms up on the file's first lines, notes its RSS, runs, and reports its
# high-water mark (VmHWM; not ru_maxrss, which Linux carries over from the parent through exec).

def _peaks(report, name: str, job: str, path: Path, tmp: Path) -> None:
    import json
    import subprocess
    import sys
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[1] / "host"))
    peak = {}
    for side in ("tynys", "pandas"):
        out = subprocess.run([sys.executable, __file__, job, side, str(path), str(tmp / f"peak-{job}-{side}.db")],
                             capture_output=True, text=True, env=env, check=True)
        peak[side] = json.loads(out.stdout)["peak_mib"]
        report(f"{name} peak memory [{side}]", peak[side], "MiB over set-up (fresh process, VmHWM)")
    report(f"{name} peak memory: tynys / pandas", peak["tynys"] / peak["pandas"], "(goal <= 0.33)")


def _status_mib(field: str) -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return float("nan")


def _child(job: str, side: str, path: str, db: str) -> dict:
    import pandas  # noqa: F401
    import pyarrow.compute  # noqa: F401
    import pyarrow.csv  # noqa: F401
    from tynys.importers import read
    _warm(Path(path), side)
    base = _status_mib("VmRSS")
    if job == "read":
        n = len(read(path, "sensor_community")) if side == "tynys" else len(_pandas_read(path)[0])
    else:
        n = _tynys_import(path, db) if side == "tynys" else _pandas_import(path, db)
    return {"rows": n, "peak_mib": _status_mib("VmHWM") - base}


if __name__ == "__main__":
    import json
    import sys
    print(json.dumps(_child(*sys.argv[1:5])))
