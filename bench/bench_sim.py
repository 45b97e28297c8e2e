"""`tynys sim` speed. First a simulated day of one node (the real firmware on the unix port in its
96 KB heap, HTTP into the host's ingest, start-up included) and ``make demo`` (six nodes through a
day, calibration, indices, the truth), each on the fast sensor link and on the plain one, a round
trip per poll (``TYNYS_SIMLINK=chatty`` in the simulators' process, firmware/ports/unix/simhost.py),
timed in alternation in the same run; and the node-day with the node and its simulators on one
CPU (as ``tynys.vnode`` places them) against leaving them to the scheduler. Besides wall time:
CPU seconds of the simulation's processes (node, simulators, host; a shared machine disturbs them
less than wall time), the link's round trips per simulated hour (what the simulators' process
counted) and the node's least free heap at a window's close. The goal (issue 14): a node-day within 15 s, the demo within a minute.

Then wall seconds per simulated node-hour for one node and for several at once; their ratio shows
how well nodes share the machine's cores (below 1: in parallel)."""

from __future__ import annotations

import os
import re
import resource
import shutil
import sqlite3
import statistics
import tempfile
from pathlib import Path

from tynys import sim
from tynys.vnode import board

HOURS = 6
MANY = 4
PATHS = {"fast link": None, "plain (round trip per poll)": "chatty"}
PLAIN = "plain (round trip per poll)"
FREE = "node and simulators on any CPU"
PINNING = {"node and simulators on one CPU": True, FREE: False}


def _cpu() -> float:
    """CPU seconds of this process and its children so far."""
    s, c = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return s.ru_utime + s.ru_stime + c.ru_utime + c.ru_stime


def _link(mode: str | None) -> None:
    if mode:
        os.environ["TYNYS_SIMLINK"] = mode
    else:
        os.environ.pop("TYNYS_SIMLINK", None)


def _answered(log: Path) -> tuple[int, int]:
    """(world seconds, round trips) at the first count the simulators' process noted, and at its last."""
    found = [(int(t), int(k)) for t, k in re.findall(r"simhost: (\d+): \d+ requests, (\d+) answered", log.read_text())]
    return found[0], found[-1]


def _node_days(report) -> None:
    cpu: dict[str, list[float]] = {k: [] for k in [*PATHS, *PINNING]}
    trips: dict[str, float] = {}
    heap: dict[str, int] = {}
    cpus = board._CPUS

    def node_day(label):
        def prepare():
            _link(PATHS.get(label))
            board._CPUS = cpus if PINNING.get(label, True) else []  # [] leaves them to the scheduler
            d = Path(tempfile.mkdtemp(prefix="bench-sim-"))

            def go():
                c = _cpu()
                s = sim.run(city="oskemen", nodes=1, hours=24, scenario="smog", transport="http", db=d / "sim.db",
                            start=1795737600, workdir=d / "nodes", timeout=1800, heap="96K")  # the budget, not the sim's 112K
                cpu[label].append(_cpu() - c)
                assert s["records"] == s["expected_records"], s
                (t0, k0), (t1, k1) = _answered(d / "nodes" / "osk-01" / "sim.log")
                trips[label] = (k1 - k0) / ((t1 - t0) / 3600)
                with sqlite3.connect(d / "sim.db") as con:
                    heap[label] = con.execute("SELECT MIN(heap_free) FROM records").fetchone()[0]

            def done():
                board._CPUS = cpus
                shutil.rmtree(d, ignore_errors=True)
            return go, done
        return prepare

    report.compare("sim node-day (1 node, 24 h, smog, http)", {k: node_day(k) for k in PATHS}, repeats=2,
                   baseline=PLAIN)
    report.compare("sim node-day, fast link", {k: node_day(k) for k in PINNING}, repeats=2, baseline=FREE)
    for k in PATHS:
        report(f"sim node-day [{k}]: CPU of node, simulators and host", min(cpu[k]), "s (best)")
        report(f"sim node-day [{k}]: link round trips", trips[k], "per simulated hour")
        report(f"sim node-day [{k}]: node's least free heap at a window's close", heap[k], "bytes (96 KB heap)")
    report("sim node-day: CPU, fast / plain (best)", min(cpu["fast link"]) / min(cpu[PLAIN]), "x")
    report("sim node-day: round trips, fast / plain", trips["fast link"] / trips[PLAIN], "x")
    for k in PINNING:
        report(f"sim node-day [{k}]: CPU of node, simulators and host", min(cpu[k]), "s (best)")
    report("sim node-day: goal", 15, "s of wall time")


def _demo(report) -> None:
    from tynys import demo

    def demo_run(label):
        def prepare():
            _link(PATHS[label])
            d = Path(tempfile.mkdtemp(prefix="bench-demo-"))

            def go():
                with open(os.devnull, "w") as quiet:
                    s = demo.run(d / "demo", stream=quiet)
                assert s["records"] == s["expected_records"] and not s["refused"], s
            return go, lambda: shutil.rmtree(d, ignore_errors=True)
        return prepare

    t = report.compare("make demo (6 nodes, 24 h)", {k: demo_run(k) for k in PATHS}, repeats=1, baseline=PLAIN)
    report("make demo: goal", 60, f"s of wall time ({os.cpu_count()} CPUs); this run: "
           f"{statistics.median(t['fast link']):.0f} s")


def run(report):
    try:
        _node_days(report)
        _demo(report)
    finally:
        _link(None)
    per = {}
    for n in (1, MANY):
        with tempfile.TemporaryDirectory() as d:
            s = sim.run(city="oskemen", nodes=n, hours=HOURS, scenario="inversion", transport="http",
                        db=Path(d) / "sim.db", start=1795737600)
        assert s["records"] == s["expected_records"], s
        per[n] = s["wall_seconds"] / (n * HOURS)
        report(f"sim {n} node(s) x {HOURS} h, http", per[n], "s per node-hour")
    report(f"sim {MANY} nodes vs 1, per node-hour", per[MANY] / per[1], f"x ({os.cpu_count()} CPUs)")
    report("sim simulated time per wall second, 1 node", 3600 / per[1], "x real time")
