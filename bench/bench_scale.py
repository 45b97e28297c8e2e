"""Past one laptop (docs/scale.md): the same signed ingest into PostgreSQL (a private server with
fsync on) against SQLite (synchronous=FULL); Sensor.Community archive CSVs straight to the Parquet
archive against pandas ``read_csv`` + ``to_sql``; ``tynys archive export``; and the network
calibration (every node fitted against the reference) on a Dask LocalCluster of 1 and 2 worker
processes against the same fits in this process, with the per-task overhead of a cluster."""

from __future__ import annotations

import resource
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "host"))

from factory import KEY, windows_lines  # noqa: E402

from tynys import archive, cluster  # noqa: E402
from tynys.calibrate import network  # noqa: E402
from tynys.imports import import_file  # noqa: E402
from tynys.ingest import Ingestor  # noqa: E402
from tynys.keys import KeyFile  # noqa: E402
from tynys.pgserver import PostgresServer, postgres_bin  # noqa: E402
from tynys.registry import add_node  # noqa: E402
from tynys.store import Store  # noqa: E402

T0 = 1_767_225_600
INGEST_NODES, INGEST_PER_NODE, BATCH = 10, 600, 100  # a collector's group commit: 100 records
SC_SENSORS, SC_ROWS = 40, 600  # 40 daily files of ~600 rows (an SDS011 every 145 s)
NET_NODES, NET_DAYS = 6, 365  # a network-year: 630,000 signed records


def _lines(nodes: int, per_node: int) -> dict[str, list[bytes]]:
    rng = np.random.default_rng(1)
    return {f"n{i:02d}": windows_lines(f"n{i:02d}", KEY, T0, {"pm.pm25_atm": 20 + rng.gamma(2, 2, per_node),
                                                                 "th.rh": 50 + rng.normal(0, 5, per_node)})
            for i in range(nodes)}


def _ingest_side(location_of, root: Path, lines):
    """Set-up: a fresh database with the nodes; timed: every line through the signed ingest in
    collector-sized batches (one transaction each)."""
    def side():
        location = location_of()
        store = Store.open(location)
        keys = KeyFile(root / f"k{time.monotonic_ns()}.keys")
        for n in lines:
            add_node(store, keys, n, key=KEY)
        ing = Ingestor(store, keys, now=lambda: T0 + INGEST_PER_NODE * 300 + 60, max_past=None)
        batches = [ls[i:i + BATCH] for ls in lines.values() for i in range(0, len(ls), BATCH)]

        def go():
            for b in batches:
                out = ing.ingest(b, "bench")
                assert out[-1].status == "stored"
        return go, store.close
    return side


def _sc_files(root: Path) -> list[Path]:
    rng = np.random.default_rng(2)
    files = []
    for s in range(SC_SENSORS):
        t = T0 + 145 * np.arange(SC_ROWS)
        p10, p25 = 20 + rng.gamma(2, 3, SC_ROWS), 12 + rng.gamma(2, 2, SC_ROWS)
        stamps = np.datetime_as_string(t.astype("datetime64[s]"), unit="s")
        path = root / f"2026-01-01_sds011_sensor_{1000 + s}.csv"
        path.write_text("sensor_id;sensor_type;location;lat;lon;timestamp;P1;durP1;ratioP1;P2;durP2;ratioP2\n" + "".join(
            f"{1000 + s};SDS011;{5000 + s};49.9{s % 10};82.6{s % 7};{ts};{a:.2f};;;{b:.2f};;\n" for ts, a, b in zip(stamps, p10, p25)))
        files.append(path)
    return files


def _pandas_to_sql(files, db: Path) -> int:
    import pandas as pd

    con = sqlite3.connect(db)
    n = 0
    for f in files:
        df = pd.read_csv(f, sep=";", usecols=["sensor_id", "lat", "lon", "timestamp", "P1", "P2"])
        df["t0"] = pd.to_datetime(df["timestamp"]).astype("int64") // 10**9
        df.drop(columns="timestamp").to_sql("sc", con, if_exists="append", index=False)
        n += 2 * len(df)
    con.commit()
    con.close()
    return n


def _network(location, root: Path) -> None:
    """NET_NODES nodes x NET_DAYS days of 5-min windows (signed ingest) and an hourly reference."""
    rng = np.random.default_rng(3)
    n = NET_DAYS * 288
    t = T0 + 300 * np.arange(n)
    hour = t % 86400 / 3600
    truth = 12 + 8 * np.sin(2 * np.pi * (hour - 8) / 24) + rng.gamma(2.0, 2.0, n)
    rh = 65 + 20 * np.sin(2 * np.pi * (hour - 4) / 24) + rng.normal(0, 3, n)
    with Store.open(location, synchronous="NORMAL") as store:
        keys = KeyFile(root / "net.keys")
        ing = Ingestor(store, keys, now=lambda: T0 + n * 300 + 60, max_past=None)
        for k in range(NET_NODES):
            add_node(store, keys, f"net-{k:02d}", key=KEY)
            cf1 = (1.4 + 0.05 * k) * truth + 0.04 * rh + rng.normal(0, 0.5, n)
            lines = windows_lines(f"net-{k:02d}", KEY, T0, {"pm.pm25_cf1": cf1, "th.rh": rh})
            for i in range(0, n, 2000):
                ing.ingest(lines[i:i + 2000], "bench")
        ref = root / "ref.csv"
        hours = t.reshape(-1, 12)[:, 0]
        ref.write_text("time,pm25\n" + "".join(f"{a},{b:.3f}\n" for a, b in zip(hours, truth.reshape(-1, 12).mean(1))))
        import_file(store, ref, "csv", site="ref-1", units={"pm25": "ug/m3"})


def _noop(i):
    return i


def _worker_peak() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def run(report):
    with tempfile.TemporaryDirectory() as d:
        root = Path(d)
        _bench_ingest(report, root)
        _bench_archive(report, root)
        _bench_network(report, root)


def _bench_ingest(report, root: Path) -> None:
    if postgres_bin() is None:
        report("postgresql ingest: skipped (no PostgreSQL server programs; scripts/system-deps.sh installs them)", "")
        return
    lines = _lines(INGEST_NODES, INGEST_PER_NODE)
    with PostgresServer(durable=True) as pg:
        names = iter(range(10**6))
        sides = {"postgresql": _ingest_side(lambda: pg.new_schema(f"b{next(names)}"), root, lines),
                 "sqlite": _ingest_side(lambda: root / f"i{next(names)}.db", root, lines)}
        report.compare(f"signed ingest, {BATCH}-record batches, durable commits", sides,
                       work=INGEST_NODES * INGEST_PER_NODE, per="records", baseline="sqlite", repeats=3)


def _bench_archive(report, root: Path) -> None:
    files = _sc_files(root)
    rows = 2 * SC_SENSORS * SC_ROWS  # PM10 and PM2.5 values
    names = iter(range(10**6))

    def ours():
        out = root / f"a{next(names)}"
        return lambda: archive.add_sensor_community(out, files, city="bench")

    def pandas_side():
        db = root / f"p{next(names)}.db"
        return lambda: _pandas_to_sql(files, db)

    def ceiling():
        import pyarrow.csv as pacsv
        import pyarrow.parquet as pq

        out = root / f"c{next(names)}"
        out.mkdir()
        opts = pacsv.ParseOptions(delimiter=";")
        return lambda: [pq.write_table(pacsv.read_csv(f, parse_options=opts), out / f"{f.stem}.parquet") for f in files]

    report.compare("Sensor.Community CSVs to the archive", {"tynys archive add": ours, "pandas read_csv + to_sql": pandas_side,
                                                             "pyarrow read_csv + write_table": ceiling},
                   work=rows, per="values", baseline="pandas read_csv + to_sql", ceiling="pyarrow read_csv + write_table",
                   repeats=3)
    store_db = root / "net.db"
    _network(store_db, root)
    with Store.open(store_db, readonly=True) as store:
        values = store.db.execute("SELECT COUNT(*) FROM channel_values").fetchone()[0]

        def export_side():
            out = root / f"e{next(names)}"
            return lambda: archive.export(store, out, city="bench")
        report.compare(f"archive export ({NET_NODES} nodes x {NET_DAYS} days)", {"tynys archive export": export_side},
                       work=values, per="rows", repeats=3)


def _bench_network(report, root: Path) -> None:
    store_db = root / "net.db"
    out = root / "net-archive"
    with Store.open(store_db, readonly=True) as store:
        archive.export(store, out, city="bench")
    nodes = [f"net-{k:02d}" for k in range(NET_NODES)]
    start = time.perf_counter()
    with cluster.client("local:1"):
        pass
    report("dask LocalCluster start + stop (1 worker process)", time.perf_counter() - start, "s")
    # each variant on clusters of its own, so that a worker's peak memory is that variant's
    for label, source in (("database", ("db", str(store_db))), ("archive", ("archive", str(out)))):
        _network_fits(report, label, nodes, [source, "csv:ref-1:pm25", None, {"model": "mlr_rh"}])
    _node_reads(report, store_db, out)


def _network_fits(report, label: str, nodes: list[str], args: list) -> None:
    """Every node's fit (a part: node id and where to read, never data) on 2 and 1 workers and in this process."""
    with cluster.client("local:2") as c2, cluster.client("local:1") as c1:
        def on(c):  # the fits of every node on a running cluster (its start is above)
            return lambda: lambda: c.gather(c.map(network.fit_one, nodes, *[[a] * len(nodes) for a in args], pure=False))

        def here():
            return lambda: [network.fit_one(n, *args) for n in nodes]
        # the speed-up from 1 to 2 workers is the "dask local:2 / dask local:1" line
        report.compare(f"network calibration from the {label} ({NET_NODES} nodes x {NET_DAYS} days of 5-min windows, mlr_rh)",
                       {"dask local:2": on(c2), "dask local:1": on(c1), "one process": here},
                       work=NET_NODES, per="nodes", baseline="dask local:1", ceiling="one process", repeats=3,
                       warmup=True)
        for c, workers in ((c2, "local:2"), (c1, "local:1")):
            peaks = c.run(_worker_peak)
            report(f"dask worker peak memory [{label}, {workers}]", max(peaks.values()) / 2**20,
                   "MiB per worker (ru_maxrss, after the fits)")
        c2.gather(c2.map(_noop, range(1), pure=False))
        parts = 400
        t = time.perf_counter()
        c2.gather(c2.map(_noop, range(parts), pure=False))
        report(f"dask per-task overhead ({label} variant, local:2, {parts} empty parts)",
               (time.perf_counter() - t) / parts * 1e3, "ms/part")


def _node_reads(report, store_db: Path, out: Path) -> None:
    """What a part reads before its fit: one node-year's windows, from the archive (a scan
    filtered on the node: only its row groups) against the database's query."""
    from tynys.archive_view import ArchiveView

    channels = ["pm.pm25_cf1", "th.rh"]

    def from_archive():
        view = ArchiveView(out)
        return lambda: view.windows("net-03", channels), view.close

    def from_db():
        store = Store.open(store_db, readonly=True)
        return lambda: store.windows("net-03", channels), store.close

    def whole_archive():
        return lambda: archive.read_table(out, "readings", columns=["node", "boot", "seq", "t0", "t1", "channel", "n", "mean"])
    report.compare(f"one node-year's windows read by a part ({NET_DAYS} x 288 records)",
                   {"archive, filtered on the node": from_archive, "database query": from_db,
                    f"the whole archive ({NET_NODES} nodes)": whole_archive},
                   work=NET_DAYS * 288, per="records", baseline="database query", repeats=5)
