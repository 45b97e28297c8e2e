"""The typical node (PMS5003 + SHT3x + SO2-B4 on ISB/ADS1115, HTTP uplink) as deployed (.mpy) on
the MicroPython unix port, its sensors byte-exact simulators, virtual time, posting to the host's
HTTP collector (tynys.sim builds it as `tynys sim` does; the library, not the tests):

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

import json
import re
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "host"))

from tynys import firmware  # noqa: E402
from tynys.ingest import Collector, Ingestor  # noqa: E402
from tynys.keys import KeyFile  # noqa: E402
from tynys.sim import Endpoints, create_node, node_config, plan, register  # noqa: E402
from tynys.store import Store  # noqa: E402
from tynys.transport.httpserver import RecordServer  # noqa: E402
from tynys.vnode import VirtualNode, VnodeError  # noqa: E402

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


def _day(hours: int, heap: str, measure: int = 0) -> tuple[VirtualNode, list[dict], float]:
    """One typical node for *hours* into a fresh host; returns it, its stored records, wall time."""
    start = (int(time.time()) // 86400 - 3) * 86400  # midnight three days ago: the host's past
    with tempfile.TemporaryDirectory(prefix="tynys-bench-node-") as d:
        d = Path(d)
        p = plan("oskemen", 1, hours, "inversion", "http", start=start)[0]
        store = Store.open(d / "city.db")
        keys = KeyFile(d / "city.keys")
        key = register(store, keys, [p], installed=start)[p.node]
        holder = []
        with Collector(Ingestor(store, keys, now=lambda: holder[0].world_time() if holder else start)) as col:
            srv = RecordServer(("127.0.0.1", 0), col).start()
            try:
                vn = create_node(p, node_config(p, key, Endpoints(srv.url + "/api/v1/records")), d / "node", start,
                                 hours, heap=heap, env={"TYNYS_MEASURE": str(measure)} if measure else None)
                holder.append(vn)
                t = time.perf_counter()
                with vn.start():
                    vn.wait_world(start + hours * HOUR, timeout=1800)
                    wall = time.perf_counter() - t
                    deadline = time.monotonic() + 30
                    while store.stats()["records"] < hours * 12 - 1 and time.monotonic() < deadline:
                        time.sleep(0.2)
            finally:
                srv.stop()
        records = [json.loads(raw) for (raw,) in store.conn.execute("SELECT raw FROM records ORDER BY seq")]
        store.close()
    return vn, records, wall


def _runs(heap_k: int) -> bool:
    try:
        vn, records, _ = _day(6, f"{heap_k}K")
    except VnodeError:
        return False
    return vn.resets == ["soft"] and len(records) >= 6 * 12 - 1 and not any(
        b"MemoryError" in line for line in vn.lines)


def run(report):
    build = firmware.build()
    vn, records, wall = _day(24, "96K")
    report("node.day_96k.wall", wall, "s")
    report("node.day_96k.speedup_over_real_time", 86400 / wall, "x")
    report("node.day_96k.records_delivered", len(records), "records")
    least = min(b["health"]["heap_free"] for b in records)
    report("node.day_96k.least_free_heap_at_window_end", least, "B")
    lo, hi = 64, 96  # smallest cap that runs; 96K is known to
    while hi - lo > 2:
        mid = (lo + hi) // 2 // 2 * 2
        if _runs(mid):
            hi = mid
        else:
            lo = mid
    report("node.peak_heap_cap_needed", hi, "KB")
    report("node.peak_heap_ratio_to_96k_cap", hi / 96, "x")
    vn, _, _ = _day(2, "16M", measure=12)
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
