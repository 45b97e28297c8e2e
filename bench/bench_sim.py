"""`tynys sim` speed: a simulated day of one node (the real firmware on the unix port, HTTP into the
host's ingest, start-up included) and ``make demo`` (six nodes through a day, calibration,
indices, the truth), each on the fast sensor link and on the old one, a round trip per poll
(``TYNYS_SIMLINK=chatty``, firmware/ports/unix/simlink.py), timed in alternation in the same run
(bench/run.py ``report.compare``).

Besides wall time: CPU seconds of the simulation's processes (node and simulators, which a shared
machine disturbs less than wall time) and the link's round trips per simulated hour (what the
simulators' process counted). The goal (issue 14): a node-day within 15 s, the demo within a
minute, on a 2-CPU machine.
"""

from __future__ import annotations

import os
import re
import resource
import shutil
import statistics
import tempfile
from pathlib import Path

HOURS = 24
PATHS = {"fast link": None, "old path (chatty)": "chatty"}


def _children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def _link(mode: str | None) -> None:
    if mode:
        os.environ["TYNYS_SIMLINK"] = mode
    else:
        os.environ.pop("TYNYS_SIMLINK", None)


def _answered(workdir: Path) -> int:
    """Round trips the simulators' process counted up to the last simulated hour it noted."""
    found = re.findall(rb"simhost: hour \d+: \d+ batches, \d+ requests, (\d+) answered", (workdir / "sim.log").read_bytes())
    return int(found[-1]) if found else 0


def run(report):
    from tynys import demo, sim

    cpu: dict[str, list[float]] = {k: [] for k in PATHS}
    trips: dict[str, int] = {}

    def node_day(label):
        def prepare():
            _link(PATHS[label])
            d = Path(tempfile.mkdtemp(prefix="bench-sim-"))

            def go():
                c = _children_cpu()
                s = sim.run(city="oskemen", nodes=1, hours=HOURS, scenario="smog", transport="http", db=d / "sim.db",
                            start=1795737600, workdir=d / "nodes", timeout=1800)
                assert s["records"] == s["expected_records"], s
                cpu[label].append(_children_cpu() - c)
                trips[label] = _answered(d / "nodes" / "osk-01")

            return go, lambda: shutil.rmtree(d, ignore_errors=True)
        return prepare

    try:
        report.compare("sim node-day (1 node, 24 h, smog, http)", {k: node_day(k) for k in PATHS}, repeats=2,
                       baseline="old path (chatty)")
        for k in PATHS:
            report(f"sim node-day [{k}]: CPU of node + simulators", min(cpu[k]), "s (best)")
            report(f"sim node-day [{k}]: link round trips", trips[k] / HOURS, "per simulated hour")
        report("sim node-day: CPU, fast / old (best)", min(cpu["fast link"]) / min(cpu["old path (chatty)"]), "x")
        report("sim node-day: round trips, fast / old", trips["fast link"] / trips["old path (chatty)"], "x")
        report("sim node-day: goal", 15, "s of wall time")

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

        t = report.compare("make demo (6 nodes, 24 h)", {k: demo_run(k) for k in PATHS}, repeats=1,
                           baseline="old path (chatty)")
        report("make demo: goal", 60, f"s of wall time ({os.cpu_count()} CPUs); this run: "
               f"{statistics.median(t['fast link']):.0f} s")
    finally:
        _link(None)
