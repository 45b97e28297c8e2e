"""The typical node (PMS5003 + SHT3x + SO2-B4 on ISB/ADS1115, HTTP uplink) as deployed (.mpy) on
the MicroPython unix port, its sensors byte-exact simulators, virtual time:

- a simulated day in a 96 KB heap: wall time and the speed-up over real time, records delivered,
  least free heap at a window's end;
- peak heap: the smallest heap cap (2 KB steps) with which 6 simulated hours run without a
  MemoryError or a restart, against the 96 KB cap;
- heap allocated per window in steady state (closing the window; the rest of the loop) and by
  the sampling path alone per service() call, against a naive aggregation (a list of floats per
  channel) measured in the same MicroPython process;
- the .mpy size of what the typical node carries, against its source.
"""

from __future__ import annotations

import re
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "host"))
sys.path.insert(0, str(REPO))

from tests.e2e.conftest import KEY, T0  # noqa: E402
from tests.e2e.receiver import HTTPReceiver  # noqa: E402
from tests.e2e.test_typical import SCENARIO, typical  # noqa: E402
from tynys import firmware  # noqa: E402
from tynys.vnode import VirtualNode, VnodeError  # noqa: E402

KEYS = {"vn-01": bytes.fromhex(KEY)}
HOUR = 3600
# What the typical node loads (firmware/, as .mpy; main.py stays source on a board).
TYPICAL = ["node/__init__", "node/app", "node/clock", "node/config", "node/console", "node/net", "node/record", "node/sign",
           "node/sensors", "node/spool", "node/startup", "node/state", "node/stats", "node/wiring",
           "node/uplink/__init__", "node/uplink/http", "node/drivers/__init__", "node/drivers/bus",
           "node/drivers/base", "node/drivers/pms", "node/drivers/sht3x", "node/drivers/isb", "node/drivers/ads1115"]

NAIVE = """
import gc, json, math
from array import array
N = 300
v = array("i", range(1000, 13000, 1000))
def naive():
    # the obvious aggregation: keep every reading as a float, compute at the window's end
    chans = [[] for _ in range(12)]
    for k in range(N):
        for i in range(12):
            chans[i].append(v[i] / 1)
    return [(sum(c) / len(c), math.sqrt(sum(x * x for x in c) / len(c) - (sum(c) / len(c)) ** 2)) for c in chans]
from node.stats import Stats
st = Stats(12)
def ours():
    for k in range(N):
        st.add(v)
for f in (naive, ours):
    f(); gc.collect(); gc.disable(); a = gc.mem_alloc(); f(); b = gc.mem_alloc(); gc.enable()
    print(f.__name__, (b - a) / N)
"""


def _day(hours: int, heap: str, measure: int = 0, tmp: Path = Path("/tmp")) -> tuple[VirtualNode, HTTPReceiver, float]:
    with HTTPReceiver(KEYS) as rx:
        vn = VirtualNode.create(tmp / f"bench-node-{heap}", typical(rx.url), scenario=SCENARIO, start=T0,
                                end=T0 + hours * HOUR, heap=heap, env={"TYNYS_MEASURE": str(measure)} if measure else None)
        t = time.perf_counter()
        with vn.start():
            vn.wait_world(T0 + hours * HOUR, timeout=1800)
            wall = time.perf_counter() - t
            try:
                rx.wait(hours * 12 - 1, timeout=30)
            except AssertionError:
                pass
    return vn, rx, wall


def _runs(heap_k: int, tmp: Path) -> bool:
    try:
        vn, rx, _ = _day(6, f"{heap_k}K", tmp=tmp)
    except VnodeError:
        return False
    return vn.resets == ["soft"] and len(rx.order) >= 6 * 12 - 1 and not any(
        b"MemoryError" in line for line in vn.lines)


def run(report):
    build = firmware.build()
    tmp = Path("/tmp")
    vn, rx, wall = _day(24, "96K", tmp=tmp)
    report("node.day_96k.wall", wall, "s")
    report("node.day_96k.speedup_over_real_time", 86400 / wall, "x")
    report("node.day_96k.records_delivered", len(rx.order), "records")
    least = min(b["health"]["heap_free"] for b in rx.records.values())
    report("node.day_96k.least_free_heap_at_window_end", least, "B")
    lo, hi = 64, 96  # smallest cap that runs; 96K is known to
    while hi - lo > 2:
        mid = (lo + hi) // 2 // 2 * 2
        if _runs(mid, tmp):
            hi = mid
        else:
            lo = mid
    report("node.peak_heap_cap_needed", hi, "KB")
    report("node.peak_heap_ratio_to_96k_cap", hi / 96, "x")
    vn, rx, _ = _day(2, "16M", measure=12, tmp=tmp)
    line = next((ln.decode() for ln in vn.lines if ln.startswith(b"measure ")), None)
    if line is None:
        raise RuntimeError("the node printed no measurement")
    m = dict(zip(line.split()[1::2], map(int, line.split()[2::2])))
    report("node.alloc_per_window.closing", m["close"], "B")
    report("node.alloc_per_window.rest_of_loop", m["loop"], "B")
    report("node.alloc_per_window.sampling_path", m["sample"] / m["windows"], "B")
    report("node.alloc_per_service_call", m["sample"] / m["samples"], "B")
    out = firmware.run(code=NAIVE, heap="4M", do_build=False, check=True).stdout.decode()
    per = dict(re.findall(r"(\w+) ([\d.]+)", out))
    report("node.alloc_per_sample.naive_float_lists", float(per["naive"]), "B")
    report("node.alloc_per_sample.node_stats", float(per["ours"]), "B")
    mpy = sum((build / f"{m}.mpy").stat().st_size for m in TYPICAL)
    src = sum((firmware.SOURCE / f"{m}.py").stat().st_size for m in TYPICAL)
    report("node.typical_mpy_total", mpy, "B")
    report("node.typical_mpy_to_source_ratio", mpy / src, "x")
