"""``make demo``: a virtual Oskemen through one winter day, from sensor bytes to the city's air-quality
indices, on a laptop, in a few minutes.

1. **Collect**: six virtual nodes (the real firmware as ``.mpy`` on the MicroPython unix port, 96 KB
   heap each; PMS5003, SHT3x and an Alphasense SO2-B4 on an ISB/ADS1115, answered byte for byte by
   the sensor simulators) stand on school roofs and parks of Oskemen and measure a winter smog day
   (``tynys sim``'s ``smog`` scenario: stove smoke under an inversion, the smelter's SO2 plume).
   They post signed records over HTTP to the host, which verifies and stores them in SQLite. From 13:00 to 15:00 UTC the host is unreachable: those
   windows wait on the nodes' flash and arrive late, each exactly once.
2. **Calibrate**: the EPA's PurpleAir correction (Barkjohn et al. 2021) on each node's PM2.5 CF=1
   with its own humidity, and Alphasense AAN 803 algorithm 4 with each SO2 cell's calibration
   sheet: corrected series beside the raw ones, as versioned profiles.
3. **Indices**: per node and for the city (median of at least 3 nodes per hour, per district too):
   the US AQI with PM2.5 NowCast and the SO2 rules, and Kazakhstan's СИ, НП and grade (unofficial:
   sensor data).
4. **Publish**: the city's map site with open data (``site/index.html``, docs/publish.md) and the
   day's bulletin in Kazakh, Russian and English (PDF and PNG, ``site/bulletin/``).

    python -m tynys.demo [--out demo-out] [--nodes 6] [--hours 24]

What it leaves in ``--out``: ``city.db`` (explore it with ``tynys db stats``, ``tynys aqi city``,
``tynys calibrate profiles``), ``city.keys`` (the nodes' signing keys), ``nodes.csv`` and
``city-hours.csv`` (the two tables), ``site/`` (the map site, its open data and the bulletins) and
each node's directory (flash image, console log).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import time
from pathlib import Path

from . import pipeline, rows, sim
from .calibrate import stored
from .errors import TynysError
from .publish import watch
from .store import Store
from .timeutil import iso

HOUR = 3600
SCENARIO = "smog"  # winter: stove smoke under an inversion, and the smelter's SO2 plume (docs/sim.md)
OUTAGE = (13 * HOUR, 15 * HOUR)  # the host is unreachable (seconds after the day's start, UTC)
# The SO2 cells' calibration sheet: what the ISB simulator was built with (firmware/ports/unix/sim/isb.py:
# WEe 275, WEo 87, AEe 280, AEo 61 mV, 0.300 mV/ppb). A real node brings its own sheet.
SHEET = {"sensor_model": "so2-b4", "we_e_mv": 275, "we_0_mv": 87, "ae_e_mv": 280, "ae_0_mv": 61,
         "sensitivity_mv_ppb": 0.300}
NODE_COLUMNS = {"node": "node", "district": "district", "hours": "hours", "pm25_raw": "PM2.5 raw",
                "pm25_corrected": "PM2.5 corr", "so2_ppb": "SO2 ppb", "aqi_max": "AQI max",
                "aqi": "AQI last", "aqi_category": "category", "kz_si": "KZ СИ", "kz_si_by": "by", "kz_np": "НП %", "kz_grade": "KZ grade"}
CITY_COLUMNS = {"hour": "hour UTC", "nodes": "nodes", "pm25": "PM2.5", "nowcast_pm25": "NowCast", "so2_ppb": "SO2 ppb",
                "aqi": "AQI", "aqi_main": "main", "aqi_category": "category", "kz_si": "KZ СИ", "kz_grade": "KZ grade"}


class _Progress:
    """One line per simulated hour, printed once every node's windows of that hour are stored:
    records stored so far, the hour's PM2.5 CF=1 (median of the nodes' hourly means), the highest
    SO2 cell signal and how many windows a node held on its flash at most (``health.spool``)."""

    def __init__(self, start: int, nodes: int, stream):
        self.start, self.nodes, self.stream = start, nodes, stream
        self.done = start  # every node's windows before this are stored
        self.last: dict[str, int] = {}  # node -> end of its latest stored window
        self.hours: dict[int, dict] = {}
        self.stored = 0

    def __call__(self, row: dict) -> None:
        self.stored += 1
        self.last[row["node"]] = max(self.last.get(row["node"], 0), row["t1"])
        r = row["record"]
        h = self.hours.setdefault((row["t0"] - self.start) // HOUR, {"pm": {}, "so2": None, "spool": 0})
        pm, so2 = r["sensors"]["pm"]["ch"]["pm25_cf1"]["mean"], r["sensors"]["so2"]["ch"]
        if pm is not None:
            h["pm"].setdefault(row["node"], []).append(pm)
        if so2["we_mv"]["mean"] is not None:
            mv = so2["we_mv"]["mean"] - so2["ae_mv"]["mean"]
            h["so2"] = mv if h["so2"] is None else max(h["so2"], mv)
        h["spool"] = max(h["spool"], r["health"]["spool"])
        if len(self.last) == self.nodes:
            while min(self.last.values()) >= self.done + HOUR:
                self._line((self.done - self.start) // HOUR)
                self.done += HOUR

    def _line(self, i: int) -> None:
        h = self.hours.pop(i, {"pm": {}, "so2": None, "spool": 0})
        pm = statistics.median(statistics.fmean(v) for v in h["pm"].values()) if h["pm"] else None
        num = lambda x: "-" if x is None else f"{x:.1f}"  # noqa: E731
        held = "  held on flash while the host was unreachable" if h["spool"] > 2 else ""
        print(f"{time.strftime('%H:%M', time.gmtime(self.done))}  {self.stored:6d}  {num(pm):>6}  {num(h['so2']):>6}  "
              f"{h['spool']:5d}{held}",
              file=self.stream, flush=True)


# What a run leaves in --out: only a directory holding nothing else is removed for a new run.
OUTPUTS = {"city.db", "city.db-wal", "city.db-shm", "city.keys", "city.keys.lock", "nodes.csv", "city-hours.csv", "nodes",
           "site"}


class DemoError(TynysError):
    """The demo cannot run as asked."""


def run(out: Path, nodes: int = 6, hours: int = 24, stream=sys.stdout) -> dict:
    """Run the demo in *out* (made afresh); returns a summary dict."""
    if out.exists():
        foreign = sorted(p.name for p in out.iterdir() if p.name not in OUTPUTS) if out.is_dir() else [out.name]
        if foreign:
            raise DemoError(f"{out} holds files the demo did not make ({', '.join(foreign[:5])}); "
                            "choose a new or empty --out: the demo clears its directory")
        shutil.rmtree(out)
    out.mkdir(parents=True)
    say = lambda *a: print(*a, file=stream, flush=True)  # noqa: E731
    start = sim.default_start()
    say(f"Tynys demo: {nodes} virtual nodes in Oskemen through {hours} h of a winter smog day "
        f"({iso(start)[:10]}, simulated).\nEach runs the real firmware (.mpy) on the MicroPython unix port in a 96 KB heap and "
        f"posts signed records over HTTP;\nthe host is unreachable {OUTAGE[0] // HOUR}:00-{OUTAGE[1] // HOUR}:00 UTC.\n")
    say("1. Collecting: a line when every node's windows of an hour are stored (simulated time, UTC)")
    say("hour    stored   PM2.5  SO2 mV  spool")
    say("                 ug/m3  WE-AE   max")
    outage = {"from": start + OUTAGE[0], "to": start + OUTAGE[1], "what": "host"}
    s = sim.run(city="oskemen", nodes=nodes, hours=hours, scenario=SCENARIO, transport="http", db=out / "city.db",
                start=start, workdir=out / "nodes", on_record=_Progress(start, nodes, stream), network={"outages": [outage]})
    resent = s["rejected_by_reason"].get("replay", 0)
    refused = sum(s["rejected_by_reason"].values()) - resent
    say(f"\n{s['records']} of {s['expected_records']} windows verified (HMAC-SHA256) and stored once each; "
        f"{resent} resent copies recognised; {refused} refused; {s['wall_seconds']} s of wall time.\n")

    store = Store.open(out / "city.db")
    try:
        say("2. Calibrating: PM2.5 CF=1 -> Barkjohn et al. 2021 (EPA, with the node's RH); "
            "SO2 WE/AE mV -> Alphasense AAN 803 alg. 4 (the cell's sheet)")
        names = [n["node"] for n in s["per_node"]]
        for node in names:
            stored.use_correction(store, node, "pm.pm25_cf1", "barkjohn2021")
            stored.use_correction(store, node, "so2.we_mv", "aan803_alg4", params=SHEET)
        done = stored.apply(store)
        say(f"   {sum(r['corrected'] for r in done)} corrected values written beside the raw ones "
            f"({len(done)} node channels, profile v1 each)\n")

        h = pipeline.hourly(store, start, start + hours * HOUR)
        per_node = pipeline.node_summary(h)
        say("3. Per node over the day (µg/m³, ppb; AQI: US EPA 2024 with NowCast; KZ: Kazakhstan, unofficial)")
        say(rows.table([{v: r[k] for k, v in NODE_COLUMNS.items()} for r in per_node]))
        areas = pipeline.city_rows(h)
        city_hours = [r for r in areas if r["area"] == "city"]
        say("4. The city by hour (median of the nodes' calibrated values; needs 3 nodes)")
        say(rows.table([{v: r.get(k) for k, v in CITY_COLUMNS.items()} for r in city_hours]))
    finally:
        store.close()
    with open(out / "nodes.csv", "w", newline="") as f:
        rows.write_csv(per_node, f)
    with open(out / "city-hours.csv", "w", newline="") as f:
        rows.write_csv(areas, f)
    site = _publish(out, start, say)
    say(f"Files in {out}/: city.db, nodes.csv, city-hours.csv, site/, nodes/<id>/console.log.\n"
        f"Next: tynys aqi city --db {out}/city.db    tynys db stats --db {out}/city.db    tynys calibrate profiles --db {out}/city.db")
    return {**s, "refused": refused, "resent": resent, "nodes_table": per_node, "city_hours": city_hours, "site": site}


def _publish(out: Path, start: int, say) -> dict:
    """5. The city's site with open data, and the bulletin of the simulated day (Oskemen's date)."""
    city = sim.city.load("oskemen")
    day = iso(start + city.utc_offset_s)[:10]
    r = watch.rebuild(out / "city.db", out / "site", city=city.name, langs=("kk", "ru", "en"), day=day)
    bulletins = [str(r.folder / b["path"]) for b in r.open_data["bulletin"]]
    say(f"5. Publishing: the map site, open data and the bulletin of {day} (Oskemen's date)\n"
        f"   open in a browser: {r.index}\n   open data: {r.folder / 'open-data'}/README.md\n"
        + "".join(f"   bulletin: {b}\n" for b in bulletins))
    return {"index": r.index, "bulletin": bulletins}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tynys.demo", description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default="demo-out",
                    help="working directory, made afresh; one holding files the demo did not make is refused (default demo-out)")
    ap.add_argument("--nodes", type=int, default=6, help="virtual nodes (default 6)")
    ap.add_argument("--hours", type=int, default=24, help="simulated hours (default 24)")
    a = ap.parse_args(argv)
    try:
        s = run(Path(a.out), a.nodes, a.hours)
    except TynysError as e:
        print(f"tynys demo: error: {e}", file=sys.stderr)
        return 2
    return 0 if s["records"] == s["expected_records"] and not s["refused"] else 1


if __name__ == "__main__":
    sys.exit(main())
