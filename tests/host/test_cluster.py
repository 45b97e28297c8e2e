"""Network-scale calibration on a Dask LocalCluster of worker processes equals the single-process
run; a scheduler that cannot be reached, or that goes away mid-run, is one line naming the fix
and nothing is stored."""

from __future__ import annotations

import glob
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from factory import fill

from tynys import cluster
from tynys.broker import free_port
from tynys.calibrate import network, synthetic
from tynys.calibrate.inputs import Colocated
from tynys.calibrate.watch import watch
from tynys.cli import main
from tynys.imports import import_file
from tynys.keys import KeyFile
from tynys.store import Store

pytestmark = [pytest.mark.host, pytest.mark.backends]

T0 = 1_767_225_600
DAYS = 8
N = DAYS * 288
NODES = [f"osk-{i:02d}" for i in range(1, 6)]


@pytest.fixture
def network_db(new_db, tmp_path):
    """Five synthetic nodes, each with its own gain, offset and RH effect, beside one reference."""
    rng = np.random.default_rng(11)
    t = T0 + 300 * np.arange(N)
    hour = t % 86400 / 3600
    truth = 12 + 8 * np.sin(2 * np.pi * (hour - 8) / 24) + rng.gamma(2.0, 2.0, N)
    rh = 65 + 20 * np.sin(2 * np.pi * (hour - 4) / 24) + rng.normal(0, 3, N)
    store = Store.open(new_db())
    keys = KeyFile(tmp_path / "city.keys")
    for k, node in enumerate(NODES):
        gain, offset = 1.4 + 0.1 * k, 2.0 - 0.5 * k
        cf1 = gain * truth + offset + 0.05 * (k + 1) * rh + rng.normal(0, 0.5, N)
        fill(store, keys, node, T0, {"pm.pm25_cf1": cf1, "th.rh": rh})
    hours = t.reshape(-1, 12)[:, 0]
    csv = tmp_path / "ref.csv"
    csv.write_text("time,pm25\n" + "".join(f"{a},{b:.3f}\n" for a, b in zip(hours, truth.reshape(-1, 12).mean(1))))
    import_file(store, csv, "csv", site="kazhydromet-1", units={"pm25": "ug/m3"})
    yield store
    store.close()


def test_fit_on_a_local_cluster_equals_the_single_process_fit(network_db):
    here = network.fit_nodes(network_db, NODES, "csv:kazhydromet-1:pm25", model="mlr_rh")
    there = network.fit_nodes(network_db, NODES, "csv:kazhydromet-1:pm25", model="mlr_rh", cluster="local:2")
    assert [r["node"] for r in here] == [r["node"] for r in there] == NODES
    for a, b in zip(here, there):
        assert (a["profile"].version, b["profile"].version) == (1, 2)  # both stored, in turn
        assert a["profile"].coefficients.keys() == b["profile"].coefficients.keys()
        for k, v in a["profile"].coefficients.items():
            assert b["profile"].coefficients[k] == pytest.approx(v, rel=1e-9, abs=1e-12)
        assert a["summary"]["pairs"] == b["summary"]["pairs"] == DAYS * 24
        assert b["summary"]["validated"]["rmse"] == pytest.approx(a["summary"]["validated"]["rmse"], rel=1e-9)
    slopes = [r["profile"].coefficients["slope"] for r in here]
    assert slopes == sorted(slopes, reverse=True)  # each node's own gain found (1.4, 1.5, ... -> 1/gain)


def test_fit_every_node_from_the_command_line(network_db, capsys):
    db = str(network_db.location)
    code = main(["calibrate", "fit", "--db", db, "--node", "osk-01", "--node", "osk-02", "--node", "nope",
                 "--reference", "csv:kazhydromet-1:pm25", "--model", "ols", "--cluster", "local:2"])
    out, err = capsys.readouterr()
    assert code == 2
    assert [line.split()[:3] for line in out.splitlines() if line.startswith("osk-")][:2] == [
        ["osk-01", "pm.pm25_cf1", "v1:"], ["osk-02", "pm.pm25_cf1", "v1:"]]
    assert "tynys: error: nope: " in err and err.count("\n") == 1
    assert [p["node"] for p in network_db.profiles()] == ["osk-01", "osk-02"]


def test_a_cluster_that_cannot_be_reached_or_is_misnamed_is_one_line(network_db, capsys, monkeypatch):
    monkeypatch.setattr(cluster, "CONNECT_TIMEOUT", 2.0)
    db = str(network_db.location)
    args = ["calibrate", "fit", "--db", db, "--node", "osk-01", "--reference", "csv:kazhydromet-1:pm25"]
    port = free_port("127.0.0.1")
    assert main([*args, "--cluster", f"tcp://127.0.0.1:{port}"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"tynys: error: cannot reach the Dask scheduler at tcp://127.0.0.1:{port} (")
    assert err.endswith("start it (dask scheduler; dask worker ADDRESS on each machine) or fix --cluster\n")
    assert main([*args, "--cluster", "local"]) == 2
    assert "--cluster 'local': write local:N" in capsys.readouterr().err
    assert network_db.profiles() == []


def test_a_scheduler_that_goes_away_mid_run(tmp_path):
    host = Path(__file__).parent
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(host), str(host.parents[1] / "host")])}
    port = free_port("127.0.0.1")
    address = f"tcp://127.0.0.1:{port}"
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, "env": env}
    scheduler = subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1",
                                  "--port", str(port), "--no-dashboard"], **quiet)
    worker = subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_worker", address, "--nthreads", "1",
                               "--no-dashboard"], **quiet)
    from cluster_parts import wait_for_release

    started = str(tmp_path / "started")

    def kill_when_started():
        deadline = time.monotonic() + 120
        while not glob.glob(started + ".*") and time.monotonic() < deadline:
            time.sleep(0.05)
        scheduler.kill()

    killer = threading.Thread(target=kill_when_started, daemon=True)
    killer.start()
    try:
        with pytest.raises(cluster.ClusterError, match=rf"the Dask cluster {address} went away during the run \(.*\): "
                                                       "nothing was stored; run the command again"):
            cluster.map_parts(wait_for_release, [1, 2], started, str(tmp_path / "never"), cluster=address)
    finally:
        killer.join()
        for p in (worker, scheduler):
            p.kill()
            p.wait()


def test_every_way_dask_says_the_cluster_went_away_is_recognised():
    # under load gather() raised FuturesCancelledError, a subclass whose own name was not listed
    from distributed import client as dc
    from distributed.comm.core import CommClosedError

    for cls in (dc.CancelledError, dc.FutureCancelledError, dc.FuturesCancelledError, dc.ClosedClientError, CommClosedError,
                ConnectionResetError, TimeoutError):
        assert cluster.gone(cls.__new__(cls)), cls
    assert not cluster.gone(ValueError("a task's own error"))


def same(a, b, where="") -> None:
    """*a* equals *b*, floats to 1e-9 relative (NaN equal to NaN)."""
    if isinstance(a, dict):
        assert a.keys() == b.keys(), where
        for k in a:
            same(a[k], b[k], f"{where}.{k}")
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            same(x, y, f"{where}[{i}]")
    elif isinstance(a, float):
        assert (a != a and b != b) or b == pytest.approx(a, rel=1e-9, abs=1e-12), where
    else:
        assert a == b, where


def test_drift_on_a_local_cluster_equals_the_pooled_watch():
    """Four co-located sensors, one whose gain falls by a quarter and one too short to watch:
    each watched as a part on two worker processes gives what one pooled call gives."""
    sim = synthetic.pm_colocation(4, days=170, drift="gain", drift_size=-0.25, drift_day=100, rise=3.0, seed=6)
    n = len(sim["time"])
    keep = np.ones((4, n), bool)
    keep[3, 20 * 24:] = False  # sensor s3: 20 days, short of the 30-day baseline
    labels = np.repeat([f"s{i}" for i in range(4)], n).reshape(4, n)
    data = Colocated("pm25", "µg/m³", "1h", "+06:00", sim["sensor"][keep], sim["reference"][keep], None, None,
                     np.tile(sim["time"], (4, 1))[keep], labels[keep], sensors=[f"s{i}" for i in range(4)])
    pooled = [w.as_dict() for w in watch(data)]
    assert [w["sensor"] for w in pooled] == ["s0", "s1", "s2", "s3"] and not pooled[3]["watched"]["enough"]
    assert any(a["rule"] == "gain" for w in pooled for a in w["alarms"])
    same([w.as_dict() for w in network.watch_sensors(data)], pooled)
    same([w.as_dict() for w in network.watch_sensors(data, cluster="local:2")], pooled)


def test_compare_on_a_local_cluster_equals_the_single_process_run(capsys):
    """Each candidate model's leave-site-out cross-validation a part on two worker processes: the
    same table, the same recommendation."""
    f = (Path(__file__).resolve().parents[2] / "calibration" / "examples" / "purpleair-se-us-daily"
         / "DAILY90_r0_5km_processeddata_PA_AQS_Jan2021_Aug2023_Final.csv.gz")
    args = ["calibrate", "compare", "--sensor", f"{f}:A_B_Avg", "--reference", f"{f}:conc", "--rh", f"{f}:humidity_a",
            "--t", f"{f}:temp_Celsius", "--time-column", "DAILY", "--site-column", "sensor_index", "--tz",
            "America/New_York", "--basis", "cf1", "--pollutant", "pm25", "--validation", "site", "--bootstrap", "200",
            "--json"]
    assert main(args) == 0
    here = json.loads(capsys.readouterr().out)
    assert main([*args, "--cluster", "local:2"]) == 0
    same(json.loads(capsys.readouterr().out), here)
    assert sum(r["recommended"] for r in here) == 1 and {r["kind"] for r in here} == {"raw", "published", "fitted"}
