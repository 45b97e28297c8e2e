"""Network calibration and drift read from the Parquet archive: each part reads only its node's
rows, on Dask workers (a LocalCluster of processes) or here, and gives what the single-process
run over the database gives; an archive that is not one, or lacks a node, is one clear line."""

from __future__ import annotations

import json

import numpy as np
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest
from factory import fill
from test_cluster import same

from tynys import archive, cluster
from tynys.archive_view import ArchiveView
from tynys.calibrate import network, synthetic
from tynys.cli import main
from tynys.imports import import_file
from tynys.keys import KeyFile
from tynys.store import Store

pytestmark = pytest.mark.host

DAYS = 50
NODES = ["osk-01", "osk-02", "osk-03"]
REF = "csv:kazhydromet-1:pm25"
START = 1_780_272_000  # 2026-06-01 UTC, the synthetic module's default


@pytest.fixture(scope="module")
def network_archive(tmp_path_factory):
    """Three synthetic nodes beside one reference (the same air: one seed), each with its own gain
    and offset, osk-02's gain falling by 40 % from day 32; stored through the signed ingest, then
    exported with ``tynys archive export`` in small row groups."""
    root = tmp_path_factory.mktemp("net")
    db = root / "city.db"
    store = Store.open(db)
    keys = KeyFile(root / "city.keys")
    rng = np.random.default_rng(3)
    for k, node in enumerate(NODES):
        sim = synthetic.pm_colocation(1, days=DAYS, gain=0.8 + 0.2 * k, offset=2.0 - k, seed=7, start=START,
                                      drift="gain" if k == 1 else None, drift_size=-0.4, drift_day=32)
        hourly = sim["sensor"][0]
        rh = 60 + 20 * np.sin(2 * np.pi * (np.arange(len(hourly)) % 24) / 24) + rng.normal(0, 3, len(hourly))
        # the hour's value in each of its twelve 5-min windows: the hourly means are the simulated ones
        fill(store, keys, node, START, {"pm.pm25_cf1": np.repeat(hourly + 0.02 * rh, 12), "th.rh": np.repeat(rh, 12)})
    csv = root / "ref.csv"
    csv.write_text("time,pm25\n" + "".join(f"{t},{v:.3f}\n" for t, v in zip(sim["time"], sim["reference"][0])))
    import_file(store, csv, "csv", site="kazhydromet-1", units={"pm25": "ug/m3"})
    store.close()
    out = root / "archive"
    mp = pytest.MonkeyPatch()
    mp.setattr(archive, "ROW_GROUP", 288 * 9)  # a node-day: 288 windows of 9 channels (the factory's sensors)
    try:
        assert main(["archive", "export", "--db", str(db), "--out", str(out), "--city", "oskemen"]) == 0
    finally:
        mp.undo()
    return db, out


@pytest.fixture(scope="module")
def scheduler():
    """One LocalCluster of two worker processes for the module (its address, as --cluster takes it)."""
    with cluster.client("local:2") as c:
        yield c.scheduler.address


def run(capsys, args) -> list:
    assert main(args) == 0, capsys.readouterr().err
    return json.loads(capsys.readouterr().out)


def test_a_node_is_read_from_its_own_row_groups_only(network_archive):
    _, out = network_archive
    data = archive.dataset(out, "readings")
    groups = [g for f in data.get_fragments() for g in f.split_by_row_group()]
    mine = [g for f in data.get_fragments() for g in f.split_by_row_group(ds.field("node") == "osk-01")]
    assert len(groups) == 3 * DAYS and len(mine) == DAYS  # a day's rows sorted by node: one group each
    assert {pq.ParquetFile(f.path).metadata.num_row_groups for f in data.get_fragments()} == {3}
    with Store.open(network_archive[0], readonly=True) as db, ArchiveView(out) as arc:
        a, b = db.windows("osk-02", ["pm.pm25_cf1", "th.rh"]), arc.windows("osk-02", ["pm.pm25_cf1", "th.rh"])
        assert np.array_equal(a.t0, b.t0) and np.array_equal(a.t1, b.t1) and len(a) == DAYS * 288
        for ch in a.mean:
            assert np.array_equal(a.mean[ch], b.mean[ch]) and np.array_equal(a.n[ch], b.n[ch])
        r1, r2 = db.observations("csv:kazhydromet-1", "pm25"), arc.observations("csv:kazhydromet-1", "pm25")
        assert np.array_equal(r1.t0, r2.t0) and np.array_equal(r1.value, r2.value) and r1.unit == r2.unit


def _fits(docs) -> list:
    """The fitted profiles without what says where and when each was kept."""
    return [{k: v for k, v in d.items() if k not in ("id", "path", "version", "created")} for d in docs]


def test_fit_from_the_archive_on_a_local_cluster_equals_the_single_process_fit(network_archive, scheduler, capsys, tmp_path):
    db, out = network_archive
    args = ["calibrate", "fit", *[a for n in NODES for a in ("--node", n)], "--reference", REF, "--model", "mlr_rh", "--json"]
    here = run(capsys, [*args, "--db", str(db)])  # from the database, in this process, stored into it
    files = run(capsys, [*args, "--archive", str(out), "--profiles", str(tmp_path / "p")])  # the archive, here, to files
    there = run(capsys, [*args, "--archive", str(out), "--db", str(db), "--cluster", scheduler])  # on the workers
    assert [d["node"] for d in here] == [d["node"] for d in files] == [d["node"] for d in there] == NODES
    same(_fits(files), _fits(here))
    same(_fits(there), _fits(here))
    assert [d["summary"]["pairs"] for d in here] == [DAYS * 24] * 3
    assert [d["path"] for d in files] == [str(tmp_path / "p" / n / "pm.pm25_cf1" / "v1.json") for n in NODES]
    with Store.open(db, readonly=True) as s:  # the cluster's fits stored as each node's next version
        assert sorted((p["node"], p["version"]) for p in s.profiles()) == sorted((n, v) for n in NODES for v in (1, 2))
    slopes = [d["coefficients"]["slope"] for d in here]
    assert slopes == sorted(slopes, reverse=True)  # each node's own gain found (0.8, 1.0, 1.2 -> 1/gain)


def test_drift_from_the_archive_on_a_local_cluster_equals_the_single_process_watch(network_archive, scheduler, capsys):
    db, out = network_archive
    args = ["calibrate", "drift", *[a for n in NODES for a in ("--node", n)], "--reference", REF, "--json"]
    here = run(capsys, [*args, "--db", str(db)])
    same(run(capsys, [*args, "--archive", str(out)]), here)
    same(run(capsys, [*args, "--archive", str(out), "--cluster", scheduler]), here)
    assert [w["sensor"] for w in here] == NODES and all(w["watched"]["enough"] for w in here)
    assert here[1]["alarms"] and here[1]["alarms"][0]["time"] >= "2026-07-03"  # osk-02's fall (day 32), seen after it


def test_compare_of_the_archives_nodes_on_a_local_cluster_equals_the_single_process_run(network_archive, scheduler, capsys):
    """The nodes pooled (each read as a part), each candidate cross-validated on blocks of time (one
    reference site: leave-site-out is refused, as for files)."""
    db, out = network_archive
    args = ["calibrate", "compare", *[a for n in NODES for a in ("--node", n)], "--reference", REF, "--rh", "th.rh",
            "--bootstrap", "200", "--json"]
    here = run(capsys, [*args, "--db", str(db)])
    same(run(capsys, [*args, "--archive", str(out), "--cluster", scheduler]), here)
    assert {r["candidate"] for r in here} >= {"raw", "ols", "mlr_rh"} and sum(r["recommended"] for r in here) == 1
    assert {r["n"] for r in here if r["kind"] == "fitted"} == {3 * DAYS * 24}


def test_bad_archives_and_missing_nodes_are_one_line(network_archive, capsys, tmp_path):
    db, out = network_archive
    fit = ["calibrate", "fit", "--node", "osk-01", "--reference", REF, "--profiles", str(tmp_path / "p")]
    other = tmp_path / "other"
    (other / "year=2026").mkdir(parents=True)
    pq.write_table(pq.read_table(next((out / "readings").rglob("export.parquet"))).drop_columns(["node"]), other / "year=2026" / "a.parquet")
    assert main([*fit, "--archive", str(other)]) == 2
    err = capsys.readouterr().err
    assert err == (f"tynys: error: {other} holds Parquet files of another tool but no _tynys_archive.json: it is not a "
                   "Tynys archive; name a folder written by tynys archive export\n")
    assert main([*fit, "--archive", str(tmp_path / "none")]) == 2
    assert "no Tynys archive there: write one with tynys archive export" in capsys.readouterr().err

    assert main(["calibrate", "drift", "--node", "osk-09", "--reference", REF, "--archive", str(out)]) == 2
    err = capsys.readouterr().err
    assert err == (f"tynys: error: no readings of node 'osk-09' in the archive {out}: check the node id, or export its days "
                   "(tynys archive export)\n")
    assert main(["calibrate", "drift", "--node", "osk-01", "--reference", "csv:nowhere:pm25", "--archive", str(out)]) == 2
    assert "no imported site 'csv:nowhere' in the archive" in capsys.readouterr().err
    assert main([*fit, "--archive", str(out), "--interval", "24h"]) == 2
    assert "name it with --day-tz ZONE" in capsys.readouterr().err
    assert not (tmp_path / "p").exists()


def test_a_foreign_file_inside_the_archive_is_named(network_archive, tmp_path, capsys):
    """A file of another tool dropped into a day's partition: the read names the folder, nothing is kept."""
    import shutil

    _, out = network_archive
    copy = tmp_path / "archive"
    shutil.copytree(out, copy)
    day = next((copy / "readings" / "city=oskemen").iterdir())
    (day / "notes.parquet").write_bytes(b"not parquet at all")
    assert main(["calibrate", "fit", "--node", "osk-01", "--reference", REF, "--archive", str(copy), "--profiles",
                 str(tmp_path / "p")]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"tynys: error: osk-01: {copy / 'readings'}: a file there is not readable as this archive's "
                          f"Parquet (Could not open Parquet input source '{day / 'notes.parquet'}'")
    assert err.endswith("move it out of the archive, or re-export its day with tynys archive export\n")
    assert err.count("\n") == 1
    assert not (tmp_path / "p").exists()
