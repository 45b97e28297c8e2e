"""The store's data paths: `tynys import` (a 257k-value sensortoolkit export) against a row-by-row
import that checks each value before inserting it, and the hourly pipeline (hourly means, US AQI,
Kazakhstan's СИ, city and districts) over 40 nodes x 7 days of 5-min windows against a
straightforward pandas version of its hourly means and city median, in the same process."""

from __future__ import annotations

import gzip
import sqlite3
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "host"))

from factory import KEY, windows_lines  # noqa: E402

from tynys import pipeline  # noqa: E402
from tynys.importers import read  # noqa: E402
from tynys.imports import import_file  # noqa: E402
from tynys.ingest import Ingestor  # noqa: E402
from tynys.keys import KeyFile  # noqa: E402
from tynys.registry import add_node  # noqa: E402
from tynys.store import Store  # noqa: E402

TOCO = REPO / "calibration" / "examples" / "sensortoolkit-toco" / "toco_toucan_RT01_raw.csv.gz"
NODES, DAYS = 40, 7
T0 = 1_767_225_600


def _row_by_row(store: Store, path: Path) -> int:
    """The obvious import: per value, look it up, insert it if new (one transaction)."""
    t = read(path, "sensortoolkit", tz="-05:00")
    c = store.conn
    c.execute("INSERT INTO sites (provider, provider_id, kind, added) VALUES ('x', 'x', 'sensor', 0)")
    c.execute("INSERT INTO imports (sha256, name, kind, size, imported) VALUES ('x', 'x', 'x', 0, 0)")
    n = 0
    with store.transaction():
        for name, col in t.columns.items():
            for ts, v in zip(t.time.tolist(), col.tolist()):
                if v != v:
                    continue
                if c.execute("SELECT value FROM observations WHERE site=1 AND parameter=? AND t0=?", (name, ts)).fetchone():
                    continue
                c.execute("INSERT INTO observations VALUES (1, ?, ?, ?, ?, ?, '', 1)", (name, ts, ts + 60, v, t.units[name]))
                n += 1
    return n


def _city(root: Path) -> Store:
    store = Store.open(root / "city.db")
    keys = KeyFile(root / "city.keys")
    n = DAYS * 288
    rng = np.random.default_rng(1)
    hour = (T0 + 300 * np.arange(n)) % 86400 / 3600
    base = 20 + 15 * np.sin(2 * np.pi * hour / 24) ** 2
    ing = Ingestor(store, keys, now=lambda: T0 + n * 300 + 60, max_past=None)
    for i in range(NODES):
        add_node(store, keys, f"n{i:02d}", district=f"d{i % 4}", key=KEY)
        pm = base * rng.uniform(0.7, 1.3) + rng.gamma(2, 2, n)
        pm[rng.random(n) < 0.05] = np.nan
        ing.ingest(windows_lines(f"n{i:02d}", KEY, T0, {"pm.pm25_atm": pm}), "bench")
    return store


def _pandas_city(path: Path):
    import pandas as pd

    con = sqlite3.connect(path)
    df = pd.read_sql("SELECT r.node, r.t0, v.mean FROM records r JOIN channel_values v ON v.record = r.id "
                     "WHERE v.channel = 'pm.pm25_atm'", con)
    con.close()
    df["time"] = pd.to_datetime(df["t0"], unit="s", utc=True)
    g = df.set_index("time").groupby("node")["mean"].resample("1h")
    hourly = g.mean().where(g.count() >= 9).unstack("node")
    return hourly.median(axis=1)


def run(report):
    with tempfile.TemporaryDirectory() as d:
        root = Path(d)
        plain = root / "rt01.csv"
        plain.write_bytes(gzip.decompress(TOCO.read_bytes()))
        with Store.open(root / "a.db") as store:
            t = time.perf_counter()
            res = import_file(store, plain, "sensortoolkit", tz="-05:00")
            ours = time.perf_counter() - t
        with Store.open(root / "b.db") as store:
            t = time.perf_counter()
            n = _row_by_row(store, plain)
            base = time.perf_counter() - t
        assert n == res.new
        report("import sensortoolkit export", res.new / ours, "values/s")
        report("import row by row (baseline)", n / base, "values/s")
        report("import speed-up", base / ours, "x")

        t = time.perf_counter()
        store = _city(root)
        report(f"build {NODES} nodes x {DAYS} days (signed ingest)", NODES * DAYS * 288 / (time.perf_counter() - t), "records/s")
        t0, t1 = T0 + 86400, T0 + DAYS * 86400
        t = time.perf_counter()
        med = _pandas_city(store.path)
        base = time.perf_counter() - t
        t = time.perf_counter()
        h = pipeline.hourly(store, t0, t1)
        _, cols = pipeline.city_columns(h, ())
        ours = time.perf_counter() - t
        tracemalloc.start()  # a second run: tracing slows Python down, so it is not timed
        pipeline.city_columns(pipeline.hourly(store, t0, t1), ())
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        got = cols["pm25"][0, h.reported]
        start = np.array([ts.timestamp() for ts in med.index])
        want = med.to_numpy()[start >= t0][: len(got)]
        assert np.allclose(got, want, equal_nan=True), "pandas and tynys disagree on the city median"
        hours = NODES * (t1 - t0) // 3600
        report("hourly means + city median", hours / ours, "node-hours/s")
        report("pandas read_sql + resample + median (baseline)", hours / base, "node-hours/s")
        report("hourly speed-up", base / ours, "x")
        report("hourly peak memory (tracemalloc)", peak / 2**20, "MiB")
        t = time.perf_counter()
        pipeline.city_columns(h, ("us-epa", "kz"))
        pipeline.node_columns(h, ("us-epa", "kz"))
        report("indices for nodes + city (us-epa NowCast, kz)", hours / (time.perf_counter() - t), "node-hours/s")
        store.close()
