"""`tynys sim` speed: wall seconds per simulated node-hour (the real firmware on the unix port, HTTP
into the host's ingest), start-up included (flash images, boots), for one node and for several
at once, in the same run; their ratio shows how well nodes share the machine's cores and the
start-up's cost (below 1: in parallel)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from tynys import sim

HOURS = 6
MANY = 4


def run(report):
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
