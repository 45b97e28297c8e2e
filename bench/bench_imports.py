"""Importing a large Sensor.Community archive CSV: Tynys against pandas doing the same job.

One file of 1,000,000 rows in the archive's SDS011 layout (``;``-separated, ISO times without a
zone, P1/P2 with gaps and a few bad cells), made once per run. Two jobs, each side in a fresh
process (so imports of pandas/pyarrow and their memory are outside the figures, and each peak is
its own), the two sides run in alternation, several times, min and median printed:

- *read*: the file to time [int64 UTC s] + PM10 + PM2.5 [float64] + the sensor of each row,
  times validated (Tynys refuses 2024-02-30; pandas' ``to_datetime(format=...)`` does too),
  cells that are not numbers made NaN (and counted by Tynys).
- *import*: the same into the store (``tynys.imports.import_file``), against pandas reading and
  converting it and handing the same arrays to the same ``Store.insert_observations``.

Beside them, the ceiling: pyarrow's CSV reader with native types and nothing checked.
Peak memory is the process's peak RSS (``VmHWM``) above its RSS after imports (pyarrow's
allocations are invisible to tracemalloc).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

ROWS = 1_000_000
REPEATS = 3
HERE = Path(__file__).resolve().parent

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


# --- one measurement, run in a child process: python bench_imports.py JOB SIDE FILE [DB] ----------------

def _status_mib(field: str) -> float:
    """VmRSS (now) or VmHWM (peak) of this process [MiB]. Not ru_maxrss: Linux carries that over from
    the parent through fork and exec, so a child would report the parent's peak."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return float("nan")


def _pandas_read(path):
    import pandas as pd
    df = pd.read_csv(path, sep=";", usecols=["sensor_id", "timestamp", "P1", "P2"], dtype=str, keep_default_na=False)
    t = pd.to_datetime(df["timestamp"], format="%Y-%m-%dT%H:%M:%S", utc=True).astype("int64").to_numpy() // 10**9
    pm10 = pd.to_numeric(df["P1"].replace("", None), errors="coerce").to_numpy(np.float64)
    pm25 = pd.to_numeric(df["P2"].replace("", None), errors="coerce").to_numpy(np.float64)
    return t, pm10, pm25, df["sensor_id"].to_numpy()


def _child(job: str, side: str, path: str, db: str | None) -> dict:
    import time
    from tynys.importers import read
    from tynys.store import Store
    # Warm up on the file's first lines: the code each side runs is loaded (library pages count in RSS
    # once touched) before the baseline is taken; only the data's memory and time are measured.
    small = Path(path).with_name("warmup-" + Path(path).name)
    with open(path) as f, open(small, "w") as w:
        w.writelines(line for _, line in zip(range(200), f))
    _pandas_read(small) if side == "pandas" else read(small, "sensor_community")
    base = _status_mib("VmRSS")
    start = time.perf_counter()
    if side == "ceiling":
        import pyarrow as pa
        import pyarrow.csv as pacsv
        tab = pacsv.read_csv(path, parse_options=pacsv.ParseOptions(delimiter=";"),
                             convert_options=pacsv.ConvertOptions(include_columns=["sensor_id", "timestamp", "P1", "P2"],
                                                                  column_types={"timestamp": pa.timestamp("s")}))
        n = tab.num_rows
    elif job == "read" and side == "tynys":
        n = len(read(path, "sensor_community"))
    elif job == "read":
        n = len(_pandas_read(path)[0])
    elif side == "tynys":
        from tynys.imports import import_file
        with Store.open(db) as store:
            n = import_file(store, path, "sensor-community").values
    else:
        from tynys.imports import store_values
        t, pm10, pm25, sid = _pandas_read(path)
        n = 0
        with Store.open(db) as store, store.transaction():
            iid = store.record_import("pandas-" + os.path.basename(db), os.path.basename(path), "sensor-community", 0, 0)
            for s in np.unique(sid):
                site, _ = store.ensure_site("sensor-community", str(s), kind="sensor")
                sel = sid == s
                for param, v in (("pm10", pm10), ("pm25", pm25)):
                    ok = sel & np.isfinite(v)
                    store_values(store, iid, site.id, param, t[ok], 145, v[ok], "µg/m³")  # as tynys stores them
                    n += int(ok.sum())
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "rows": n, "peak_mib": _status_mib("VmHWM") - base}


def _measure(job: str, side: str, path: Path, tmp: Path, k: int) -> dict:
    db = str(tmp / f"{job}-{side}-{k}.db")
    env = dict(os.environ, PYTHONPATH=str(HERE.parent / "host"))
    out = subprocess.run([sys.executable, __file__, job, side, str(path), db], capture_output=True, text=True, env=env,
                         check=True)
    return json.loads(out.stdout)


def run(report):
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        path = tmp / "2024-01_sds011_sensor_1000.csv"
        make_file(path)
        report("imports.file", path.stat().st_size / 2**20, f"MiB, {ROWS} rows (Sensor.Community archive layout)")
        for job, sides in (("read", ("tynys", "pandas", "ceiling")), ("import", ("tynys", "pandas"))):
            runs = {s: [] for s in sides}
            for k in range(REPEATS):  # alternated: the machine's load falls on both sides alike
                for s in sides:
                    runs[s].append(_measure(job, s, path, tmp, k))
            rate = {s: [ROWS / r["seconds"] for r in rs] for s, rs in runs.items()}
            peak = {s: min(r["peak_mib"] for r in rs) for s, rs in runs.items()}
            for s in sides:
                report(f"imports.{job}.{s}", max(rate[s]), f"rows/s best of {REPEATS} (median {statistics.median(rate[s]):.0f}),"
                       f" peak {peak[s]:.0f} MiB above imports")
            report(f"imports.{job}.speed_vs_pandas", statistics.median(rate["tynys"]) / statistics.median(rate["pandas"]),
                   "x (median rates; goal >= 1)")
            report(f"imports.{job}.memory_vs_pandas", peak["tynys"] / peak["pandas"], "x peak memory (goal <= 0.33)")
            if "ceiling" in rate:
                report(f"imports.{job}.fraction_of_ceiling", statistics.median(rate["tynys"]) / statistics.median(rate["ceiling"]),
                       "of pyarrow read_csv with native types, nothing checked")


if __name__ == "__main__":
    print(json.dumps(_child(sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4] if len(sys.argv) > 4 else None)))
