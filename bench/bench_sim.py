"""`tynys sim` speed: a simulated day of one node (the real firmware on the unix port, HTTP into the
host's ingest, start-up included) and ``make demo`` (six nodes through a day, then calibration and
indices), each on the fast sensor link and on the old one, a round trip per poll
(``TYNYS_SIMLINK=chatty``, firmware/ports/unix/simlink.py), measured in the same run.

Figures per path: wall seconds (node day: two runs each, alternated, min and median), CPU seconds
of the simulation's processes (node and simulators) per node-day, and the link's round trips per
simulated hour (what the simulators' process counted). The goal (issue 14): a node-day within 15 s
of wall time, the demo within a minute, on a 2-CPU machine; the CPU figure is the one that holds
when the machine is shared.
"""

from __future__ import annotations

import os
import re
import resource
import statistics
import tempfile
import time
from pathlib import Path

from tynys import demo, sim

HOURS = 24
REPEATS = 2
PATHS = ("fast", "chatty")


def _children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def _link(path: str) -> None:
    if path == "chatty":
        os.environ["TYNYS_SIMLINK"] = "chatty"
    else:
        os.environ.pop("TYNYS_SIMLINK", None)


def _answered(workdir: Path) -> int:
    """Round trips the simulators' process counted up to the last simulated hour noted."""
    lines = re.findall(rb"simhost: hour \d+: \d+ batches, \d+ requests, (\d+) answered", (workdir / "sim.log").read_bytes())
    return int(lines[-1]) if lines else 0


def _node_day(path: str) -> tuple[float, float, int]:
    _link(path)
    with tempfile.TemporaryDirectory() as d:
        cpu = _children_cpu()
        t = time.perf_counter()
        s = sim.run(city="oskemen", nodes=1, hours=HOURS, scenario="smog", transport="http", db=Path(d) / "sim.db",
                    start=1795737600, workdir=Path(d) / "nodes")
        wall = time.perf_counter() - t
        assert s["records"] == s["expected_records"], s
        return wall, _children_cpu() - cpu, _answered(Path(d) / "nodes" / "osk-01")


def run(report):
    walls: dict[str, list[float]] = {p: [] for p in PATHS}
    cpus: dict[str, list[float]] = {p: [] for p in PATHS}
    trips: dict[str, int] = {}
    try:
        for _ in range(REPEATS):
            for p in PATHS:  # alternated, so a busy spell of the machine hits both
                wall, cpu, n = _node_day(p)
                walls[p].append(wall)
                cpus[p].append(cpu)
                trips[p] = n
        for p in PATHS:
            report(f"sim node-day ({p} link): wall min", min(walls[p]), "s")
            report(f"sim node-day ({p} link): wall median", statistics.median(walls[p]), "s")
            report(f"sim node-day ({p} link): CPU of node + simulators, min", min(cpus[p]), "s")
            report(f"sim node-day ({p} link): link round trips per simulated hour", trips[p] / HOURS, "")
        report("sim node-day: wall, fast / chatty (min)", min(walls["fast"]) / min(walls["chatty"]), "x")
        report("sim node-day: CPU, fast / chatty (min)", min(cpus["fast"]) / min(cpus["chatty"]), "x")
        report("sim node-day: round trips, fast / chatty", trips["fast"] / trips["chatty"], "x")
        report("sim node-day: goal", 15, "s of wall time")
        demo_wall = {}
        for p in PATHS:
            _link(p)
            with tempfile.TemporaryDirectory() as d, open(os.devnull, "w") as quiet:
                t = time.perf_counter()
                s = demo.run(Path(d) / "demo", stream=quiet)
                demo_wall[p] = time.perf_counter() - t
                assert s["records"] == s["expected_records"] and not s["refused"], s
            report(f"make demo ({p} link): wall", demo_wall[p], "s")
        report("make demo: wall, fast / chatty", demo_wall["fast"] / demo_wall["chatty"], "x")
        report("make demo: goal", 60, f"s of wall time ({os.cpu_count()} CPUs)")
    finally:
        _link("fast")
