"""``make demo`` (first form): a virtual node measures a simulated winter day in Oskemen and sends
its signed records over HTTP to the host, which verifies and stores them; a table shows them as
they arrive.

The node is the real firmware (``.mpy``) on the MicroPython unix port in a 96 KB heap: PMS5003,
SHT3x and an Alphasense SO2-B4 on an ISB/ADS1115, answered byte for byte by the sensor
simulators, on a virtual clock (a day takes seconds). The host is ``tynys.ingest`` behind
``tynys.transport.httpserver`` with a SQLite store. From 13:00 to 15:00 the host is unreachable:
those windows wait on the node's flash and arrive late, each exactly once.

    python -m tynys.demo [--out demo-out] [--hours 24] [--every 6]
"""

from __future__ import annotations

import argparse
import json
import shutil
import sqlite3
import sys
import time
from pathlib import Path

from .ingest import Collector, Ingestor
from .keys import KeyFile
from .registry import add_node, parse_sensor
from .store import Store
from .transport.httpserver import RECORDS_PATH, RecordServer
from .vnode import VirtualNode

HOUR = 3600
# A smoky winter day: PM2.5 [ug/m3] peaks with the morning stoves and the evening, an SO2 plume
# [ppb] from the smelters around noon, frost all day [degC], humid nights [%].
WORLD = {"seed": 11, "noise": 0.03, "loop": True,
         "t": [0, 6 * HOUR, 9 * HOUR, 12 * HOUR, 15 * HOUR, 19 * HOUR, 24 * HOUR],
         "pm25": [18, 35, 70, 30, 24, 55, 18], "so2_ppb": [4, 6, 40, 160, 60, 10, 4],
         "t_c": [-24, -25, -20, -12, -11, -18, -24], "rh": [84, 86, 78, 62, 60, 76, 84]}
OUTAGE = (13 * HOUR, 15 * HOUR)  # the host is unreachable (seconds after midnight)
ROW = "{:>11}  {:>4}  {:>6}  {:>6}  {:>6}  {:>5}  {:>8}  {:>6}  {:>5}  {}"


def _hhmm(t: int) -> str:
    return time.strftime("%H:%M", time.gmtime(t))


def _row(raw: str, received: int) -> str:
    r = json.loads(raw)
    pm, th, so2 = (r["sensors"][k]["ch"] for k in ("pm", "th", "so2"))
    lag = received - r["t1"]
    late = f"late {lag // HOUR}h{lag % HOUR // 60:02d}m" if lag > 600 else ""
    num = lambda x, d=1: "-" if x is None else f"{x:.{d}f}"  # noqa: E731
    so2_mv = None if so2["we_mv"]["mean"] is None else so2["we_mv"]["mean"] - so2["ae_mv"]["mean"]
    return ROW.format(f"{_hhmm(r['t0'])}-{_hhmm(r['t1'])}", r["seq"], num(pm["pm25_cf1"]["mean"]),
                      num(pm["pm10_cf1"]["mean"]), num(th["t_c"]["mean"]), num(th["rh"]["mean"], 0), num(so2_mv),
                      r["health"]["heap_free"], r["health"]["spool"], late)


def run(out: Path, hours: int = 24, every: int = 6, heap: str = "96K", stream=sys.stdout) -> dict:
    """Run the demo in *out* (made afresh); returns a summary dict."""
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    day = int(time.time()) // 86400 * 86400 - 86400  # yesterday, 00:00 UTC
    t0, end = day + 37, day + hours * HOUR
    store = Store.open(out / "city.db", synchronous="NORMAL")  # a demo: no fsync per commit
    keys = KeyFile(out / "city.keys")
    _, key = add_node(store, keys, "osk-01", name="School 12 roof", lat=49.948, lon=82.628, district="Ulba",
                      sensors=[parse_sensor("pm=pms5003"), parse_sensor("th=sht3x"), parse_sensor("so2=isb:so2-b4")])
    world_now = [t0]
    ingestor = Ingestor(store, keys, now=lambda: world_now[0])  # the host lives in the node's world
    wall = time.monotonic()
    with Collector(ingestor) as col:
        server = RecordServer(("127.0.0.1", 0), col).start()
        config = {"node": "osk-01", "key": key.hex(), "wifi": {"ssid": "school-12", "password": "demo"},
                  "sensors": {"pm": {"type": "pms5003", "uart": 1},
                              "th": {"type": "sht3x", "i2c": 0},
                              "so2": {"type": "isb", "model": "so2-b4", "i2c": 0, "addr": "0x48", "serial": "162031256"}},
                  "uplinks": {"http": {"url": server.url + RECORDS_PATH, "retry_s": 60, "retry_max_s": 600}}}
        scenario = {"world": dict(WORLD, start=day),
                    "network": {"outages": [{"from": day + OUTAGE[0], "to": day + OUTAGE[1], "what": "host"}]}}
        vn = VirtualNode.create(out / "osk-01", config, scenario=scenario, start=t0, end=end, heap=heap)
        print(f"A virtual node (firmware as .mpy, {heap} heap) measures {hours} h of a winter day in Oskemen;\n"
              f"the host is unreachable {OUTAGE[0] // HOUR}:00-{OUTAGE[1] // HOUR}:00 UTC. "
              f"Records as the host stores them (every {every}th; all are stored):\n", file=stream)
        print(ROW.format("window UTC", "seq", "PM2.5", "PM10", "T C", "RH %", "SO2 mV", "heap", "spool", ""), file=stream)
        print(ROW.format("", "", "ug/m3", "ug/m3", "", "", "WE-AE", "free", "", ""), file=stream)
        db = sqlite3.connect(out / "city.db")
        shown = last_t1 = 0
        vn.start()
        try:
            while last_t1 < end:  # until the day's last window is stored
                world_now[0] = vn.world_time()
                for rid, seq, t1, raw, received in db.execute(
                        "SELECT id, seq, t1, raw, received FROM records WHERE id > ? ORDER BY id", (shown,)).fetchall():
                    shown, last_t1 = rid, max(last_t1, t1)
                    late = received - t1 > 600
                    if seq % every == 0 or (late and seq % 2 == 0):
                        print(_row(raw, received), file=stream, flush=True)
                if not vn.running or time.monotonic() - wall > 600 or vn.at_repl():
                    print("the node stopped; see", out / "osk-01" / "console.log", file=stream)
                    break
                time.sleep(0.1)
        finally:
            vn.stop()
            server.stop()
    stats = store.stats()
    rows = db.execute("SELECT COUNT(*), MIN(heap_free), SUM(received - t1 > 600), MAX(seq) FROM records").fetchone()
    db.close()
    store.close()
    summary = {"records": rows[0], "late": rows[2] or 0, "resent_duplicates": stats["rejected_by_reason"].get("replay", 0),
               "refused": stats["rejected"] - stats["rejected_by_reason"].get("replay", 0), "min_heap_free": rows[1],
               "seconds": round(time.monotonic() - wall, 1), "database": str(out / "city.db")}
    print(f"\n{summary['records']} records verified (HMAC-SHA256) and stored once each in {summary['database']};\n"
          f"{summary['late']} waited on the node's flash through the outage; {summary['resent_duplicates']} resent copies "
          f"were recognised; {summary['refused']} refused; least free heap on the node {summary['min_heap_free']} bytes; "
          f"{summary['seconds']} s of wall time.", file=stream)
    return summary


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tynys.demo", description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default="demo-out", help="working directory, made afresh (default demo-out)")
    ap.add_argument("--hours", type=int, default=24, help="simulated hours (default 24)")
    ap.add_argument("--every", type=int, default=6, help="show every Nth record (default 6: half-hourly)")
    ap.add_argument("--heap", default="96K", help="MicroPython heap of the node (default 96K)")
    a = ap.parse_args(argv)
    s = run(Path(a.out), a.hours, a.every, a.heap)
    return 0 if s["records"] >= (a.hours * HOUR - 37) // 300 and not s["refused"] else 1


if __name__ == "__main__":
    sys.exit(main())
