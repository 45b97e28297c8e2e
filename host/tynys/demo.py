"""``make demo``: a virtual Oskemen through one winter day, from sensor bytes to the city's air-quality
indices, on a laptop, in a few minutes.

1. **Collect**: six virtual nodes (the real firmware as ``.mpy`` on the MicroPython unix port, 96 KB
   heap each; PMS5003, SHT3x and an Alphasense SO2-B4 on an ISB/ADS1115, answered byte for byte by
   the sensor simulators) stand on school roofs and parks of Oskemen and measure a winter smog day
   (``tynys sim``'s ``smog`` scenario: stove smoke under an inversion, the smelter's SO2 plume).
   They post signed records over HTTP to the host, which verifies and stores them in SQLite. From
   13:00 to 15:00 UTC the host is unreachable: those windows wait on the nodes' flash and arrive
   late, each exactly once.
2. **Calibrate**: the EPA's PurpleAir correction (Barkjohn et al. 2021) on each node's PM2.5 CF=1
   with its own humidity: corrected series beside the raw ones, as versioned profiles. SO2 stays in
   mV: NO2 pulls the cells' electrode down by more than the city's SO2 and the nodes measure no NO2
   (part 4 shows what AAN 803 with each cell's sheet would publish).
3. **Indices**: per node, for the city (median of at least 3 nodes per hour) and per district:
   the US AQI with PM2.5 NowCast and the SO2 rules, and Kazakhstan's СИ, НП and grade (unofficial:
   sensor data).
4. **Against the truth**: the simulation kept the air it put at each node (``truth.csv``); the
   published hourly values are compared with it, beside the error each node's sensor models imply
   (their units' gain, offset, hygroscopic growth, the SO2 cell's temperature and NO2 response).
5. **Publish**: the city's map site with open data (``site/index.html``, docs/publish.md) and the
   day's bulletin in Kazakh, Russian and English (PDF and PNG, ``site/bulletin/``).

    python -m tynys.demo [--out demo-out] [--nodes 6] [--hours 24]

The run is one function per section (:data:`SECTIONS`), each taking the :class:`Demo` and adding
what it found to ``demo.summary``; a new section is a function added to the list. What is printed
is a function of the seeded world only (windows counted by when they were measured, not when
they arrived), so two runs print the same tables; the README shows them.

What it leaves in ``--out``: ``city.db`` (explore it with ``tynys db stats``, ``tynys aqi city``,
``tynys calibrate profiles``), ``city.keys`` (the nodes' signing keys), ``nodes.csv`` and
``city-hours.csv`` (the tables), ``truth.csv`` with ``truth.sensors.json`` (the true air and each
node's sensor units), ``truth-check.csv`` (every series against the truth), ``site/`` (the map
site, its open data and the bulletins) and each node's directory (flash image, console log).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, TextIO

from . import firmware, pipeline, rows, sim
from .calibrate import stored
from .errors import TynysError
from .publish import watch
from .store import Store
from .timeutil import iso

HOUR = 3600
WINDOW = 300
SCENARIO = "smog"  # winter: stove smoke under an inversion, and the smelter's SO2 plume (docs/sim.md)
START = 1_768_435_200  # 2026-01-15T00:00Z: a fixed winter day, so that every run prints the same tables
OUTAGE = (13 * HOUR, 15 * HOUR)  # the host is unreachable (seconds after the day's start, UTC)
# Each node's SO2 cell comes with its own calibration sheet (tynys sim draws the cells from the
# SO2-B4 datasheet's spread: tynys.sim.models); the demo applies each node's sheet, as an owner would.
NODE_COLUMNS = {"node": "node", "district": "district", "hours": "hours", "pm25_raw": "PM2.5 raw",
                "pm25_corrected": "PM2.5 corr", "so2_ppb": "SO2 ppb", "aqi_max": "AQI max",
                "aqi": "AQI last", "aqi_category": "category", "kz_si": "KZ СИ", "kz_si_by": "by", "kz_np": "НП %",
                "kz_grade": "KZ grade"}
CITY_COLUMNS = {"hour": "hour UTC", "nodes": "nodes", "pm25": "PM2.5", "nowcast_pm25": "NowCast", "so2_ppb": "SO2 ppb",
                "aqi": "AQI", "aqi_main": "main", "aqi_category": "category", "kz_si": "KZ СИ", "kz_grade": "KZ grade"}
# The ground-truth section: per node, how far what the host published is from the air the scenario
# put there, and how far the node's sensor models say it should be (tynys.sim.loop).
TRUTH_COLUMNS = {"node": "node", "true": "PM2.5 true", "raw": "ATM raw", "barkjohn": "EPA corr", "expected": "model says",
                 "kappa": "κ corr", "as_stated": "as stated", "in_band": "in band", "aqi_right": "AQI cat ok",
                 "so2_true": "SO2 true", "so2": "SO2 ppb"}


class DemoError(TynysError):
    """The demo cannot run as asked."""


@dataclass
class Demo:
    """One run: where it writes, what it simulates, and what each section found (``summary``)."""

    out: Path
    nodes: int
    hours: int
    stream: TextIO
    start: int = START
    summary: dict = field(default_factory=dict)
    store: Store | None = None
    hourly: pipeline.Hourly | None = None

    def say(self, *parts) -> None:
        print(*parts, file=self.stream, flush=True)

    @property
    def outage(self) -> tuple[int, int] | None:
        """When the host is unreachable, if the run lasts that long."""
        return (self.start + OUTAGE[0], self.start + OUTAGE[1]) if OUTAGE[0] < self.hours * HOUR else None


class _Progress:
    """One line per simulated hour, printed once every node has delivered all its windows of that
    hour (the lines of hours the host missed come when it is back). Each line describes the
    windows *measured* in that hour, from the records themselves, so it is the same every run:
    how many, the hour's PM2.5 CF=1 (median of the nodes' hourly means), the highest SO2 cell
    signal (WE - AE), and how many of them ended while the host was unreachable (held on flash)."""

    def __init__(self, d: Demo):
        self.d = d
        self.next = 0  # the first hour not printed yet
        self.hours: dict[int, dict] = {}

    def __call__(self, row: dict) -> None:
        r = row["record"]
        h = self.hours.setdefault((row["t0"] - self.d.start) // HOUR, {"windows": {}, "pm": {}, "so2": None, "held": 0})
        h["windows"][row["node"]] = h["windows"].get(row["node"], 0) + 1
        pm, so2 = r["sensors"]["pm"]["ch"]["pm25_cf1"]["mean"], r["sensors"]["so2"]["ch"]
        if pm is not None:
            h["pm"].setdefault(row["node"], []).append(pm)
        if so2["we_mv"]["mean"] is not None:
            mv = so2["we_mv"]["mean"] - so2["ae_mv"]["mean"]
            h["so2"] = mv if h["so2"] is None else max(h["so2"], mv)
        h["held"] += self.d.outage is not None and self.d.outage[0] <= row["t1"] < self.d.outage[1]
        while self._complete(self.next):
            self._line(self.next)

    def _complete(self, i: int) -> bool:
        w = self.hours.get(i, {}).get("windows", {})
        return len(w) == self.d.nodes and all(n >= HOUR // WINDOW for n in w.values())

    def finish(self) -> None:
        """Print the hours still waiting (a node that missed a window leaves its hour incomplete)."""
        while self.next < self.d.hours:
            self._line(self.next)

    def _line(self, i: int) -> None:
        h = self.hours.pop(i, {"windows": {}, "pm": {}, "so2": None, "held": 0})
        pm = statistics.median(statistics.fmean(v) for v in h["pm"].values()) if h["pm"] else None
        num = lambda x: "-" if x is None else f"{x:.1f}"  # noqa: E731
        why = "  ended while the host was unreachable: held on the nodes' flash" if h["held"] else ""
        self.d.say(f"{time.strftime('%H:%M', time.gmtime(self.d.start + i * HOUR))}  {sum(h['windows'].values()):7d}  "
                   f"{num(pm):>6}  {num(h['so2']):>6}  {h['held']:4d}{why}")
        self.next = i + 1


# --- the sections ------------------------------------------------------------------------------

def collect(d: Demo) -> None:
    """1. The virtual nodes measure the day and post it; the host verifies and stores each window once."""
    away = f"{OUTAGE[0] // HOUR}:00-{OUTAGE[1] // HOUR}:00"
    d.say(f"Tynys demo: {d.nodes} virtual nodes in Oskemen through {d.hours} h of a winter smog day "
          f"({iso(d.start)[:10]}, simulated).\nEach runs the real firmware (.mpy) on the MicroPython unix port in a "
          f"{firmware.UPLINK_HEAPS['http'][:-1]} KB heap and posts signed records over HTTP" + (f";\nthe host is unreachable {away} UTC.\n" if d.outage else ".\n"))
    d.say("1. Collecting: the windows measured in each hour (simulated time, UTC), a line once all of them are stored")
    d.say("hour   windows   PM2.5  SO2 mV  held")
    d.say("                 ug/m3  WE-AE")
    progress = _Progress(d)
    outages = [{"from": d.outage[0], "to": d.outage[1], "what": "host"}] if d.outage else []
    s = sim.run(city="oskemen", nodes=d.nodes, hours=d.hours, scenario=SCENARIO, transport="http", db=d.out / "city.db",
                start=d.start, workdir=d.out / "nodes", on_record=progress, network={"outages": outages},
                truth=d.out / "truth.csv")
    progress.finish()
    resent = s["rejected_by_reason"].get("replay", 0)
    refused = sum(s["rejected_by_reason"].values()) - resent
    d.store = Store.open(d.out / "city.db")
    d.say(f"\n{s['records']} of {s['expected_records']} windows verified (HMAC-SHA256) and stored once each.")
    held = late = 0
    if d.outage:  # held: by when each window ended; late: by when the host stored it (its world clock)
        held, late = d.store.conn.execute("SELECT COUNT(*), COALESCE(SUM(received >= ?), 0) FROM records "
                                          "WHERE t1 >= ? AND t1 < ?", (d.outage[1], *d.outage)).fetchone()
        d.say(f"{held} windows ended while the host was unreachable ({away}): "
              f"{'all' if late == held else f'{late} of them'} waited on the nodes' flash and were stored when it came "
              f"back,\nand the lines for those hours appeared then.")
    d.say(f"({resent} resent copies recognised, {refused} refused; {s['wall_seconds']} s of wall time)\n")
    d.summary.update(s, refused=refused, resent=resent, held=held, held_late=late)


def calibrate(d: Demo) -> None:
    """2. Published corrections as versioned profiles; corrected values beside the raw ones."""
    d.say("2. Calibrating: PM2.5 CF=1 -> Barkjohn et al. 2021 (EPA, with the node's RH). SO2 stays in mV: NO2 pulls an\n"
          "   SO2-B4's electrode down by more than the city's SO2 (the datasheet: < -160 %) and the nodes measure no NO2,\n"
          "   so no sheet can make ppb of it here (section 6 shows what AAN 803 with each cell's sheet would publish)")
    for r in d.summary["per_node"]:
        stored.use_correction(d.store, r["node"], "pm.pm25_cf1", "barkjohn2021")
    done = stored.apply(d.store)
    d.say(f"   {sum(r['corrected'] for r in done)} corrected values written beside the raw ones "
          f"({len(done)} node channels, profile v1 each)\n")
    d.hourly = pipeline.hourly(d.store, d.start, d.start + d.hours * HOUR)


def per_node(d: Demo) -> None:
    """3. Each node over the day: raw and corrected PM2.5, SO2, the highest and latest AQI, KZ grade."""
    summary = pipeline.node_summary(d.hourly)
    basis = sorted({f"{r['pm25_channel']} corrected by {r['pm25_profile']}" for r in summary})
    d.say("3. Per node over the day (µg/m³, ppb; AQI: US EPA 2024 with NowCast; KZ: Kazakhstan, unofficial)")
    d.say(f"   PM2.5: {'; '.join(basis)}")
    d.say(rows.table([{v: _cell(r, k) for k, v in NODE_COLUMNS.items()} for r in summary]))
    d.summary["nodes_table"] = summary


def city_by_hour(d: Demo) -> None:
    """4. The city's hourly value and index (the median of its nodes)."""
    areas = pipeline.city_rows(d.hourly)
    city = [r for r in areas if r["area"] == "city"]
    d.say("4. The city by hour (median of the nodes' calibrated values; needs 3 nodes; 'incomplete': "
          "a pollutant the nodes measure has no index yet, e.g. the PM NowCast's first hour)")
    d.say(rows.table([{v: _cell(r, k) for k, v in CITY_COLUMNS.items()} for r in city]))
    d.summary.update(city_hours=city, areas=areas)


def districts(d: Demo) -> None:
    """5. Each district over the day, and how many nodes its values rest on."""
    by: dict[str, list] = {}
    for r in d.summary["areas"]:
        if r["area"] != "city":
            by.setdefault(r["area"], []).append(r)
    table = []
    for name, rs in by.items():
        scored = [r for r in rs if r["aqi"] is not None]
        top = max(scored, key=lambda r: r["aqi"], default=None)
        pm = [r["pm25"] for r in rs if r["pm25"] is not None]
        table.append({"district": name, "nodes": max(r["nodes"] for r in rs),
                      "hours": len(scored), "PM2.5 mean": pipeline.report("pm25", statistics.fmean(pm)) if pm else None,
                      "AQI max": top and top["aqi"], "at": top and top["hour"][11:16], "main": top and top["aqi_main"]})
    d.say("5. Districts over the day (a district's value is the median of its nodes; nodes: how many it rests on)")
    d.say(rows.table([{k: pipeline.formatted(k.replace("PM2.5 mean", "pm25"), v) for k, v in r.items()} for r in table]))
    d.summary["districts"] = table


def against_the_truth(d: Demo) -> None:
    """6. The published values against the truth the simulation kept: per node and for the city, the
    bias of what the host published (raw ATM, the EPA correction it applied, Nilson's kappa
    correction), what the node's own sensor models say that bias should be, the share of hours
    within frame noise of that and within the models' stated spread, and how often the AQI
    category was right. Every series' summary goes to truth-check.csv."""
    from .sim import loop

    plans = sim.plan("oskemen", d.nodes, d.hours, SCENARIO, "http", start=d.start)
    r = loop.compare(d.store, plans, d.start, d.hours)
    get = lambda node, series: next(x for x in r.nodes + r.city if x["node"] == node and x["series"] == series)  # noqa: E731
    num = lambda x: None if x is None else round(x, 1)  # noqa: E731
    pct = lambda x: None if x is None else f"{x:.0%}"  # noqa: E731
    table = []
    for node in r.node_ids + ["city"]:
        pub, aqi = get(node, "published pm25" if node != "city" else "published"), get(node, "aqi")
        row = {"node": node, "true": num(pub.get("truth_mean")), "barkjohn": num(pub.get("bias")),
               "expected": num(pub.get("expected_bias")), "as_stated": pct(pub.get("within_noise")),
               "in_band": pct(pub.get("in_band")), "aqi_right": pct(aqi.get("category_agreement"))}
        if node != "city":
            so2 = get(node, "so2 aan803_alg4")
            row.update(raw=num(get(node, "raw atm")["bias"]), kappa=num(get(node, "nilson2022_kappa")["bias"]),
                       so2_true=num(so2.get("truth_mean")), so2=num(so2.get("bias")))
        table.append(row)
    d.say("6. Against the truth (the air the scenario put at each node, tynys sim --truth): bias of the hourly values, µg/m³\n"
          "   (EPA corr: what the host published; model says: the bias this node's sensor units imply, from their models'\n"
          "   parameters; as stated: hours within frame noise of that; in band: hours within the 95 % spread the models\n"
          "   state for any unit; AQI cat ok: hours in the true AQI category; SO2: bias in ppb of AAN 803 with the sheet)")
    d.say(rows.table([{v: x.get(k) for k, v in TRUTH_COLUMNS.items()} for x in table]))
    with open(d.out / "truth-check.csv", "w", newline="") as f:
        rows.write_csv(r.nodes + r.city, f)
    d.summary["truth_table"] = table


def publish(d: Demo) -> None:
    """7. The city's map site with open data, and the bulletin of the simulated day (Oskemen's date)."""
    city = sim.city.load("oskemen")
    day = iso(d.start + city.utc_offset_s)[:10]
    r = watch.rebuild(d.out / "city.db", d.out / "site", city=city.name, langs=("kk", "ru", "en"), day=day)
    bulletins = [str(r.folder / b["path"]) for b in r.open_data["bulletin"]]
    d.say(f"7. Publishing: the map site, open data and the bulletin of {day} (Oskemen's date)\n"
          f"   open in a browser: {r.index}\n   open data: {r.folder / 'open-data'}/README.md\n"
          + "".join(f"   bulletin: {b}\n" for b in bulletins))
    d.summary["site"] = {"index": r.index, "bulletin": bulletins}


def files(d: Demo) -> None:
    """The tables as CSV, and where to go next."""
    with open(d.out / "nodes.csv", "w", newline="") as f:
        rows.write_csv(d.summary["nodes_table"], f)
    with open(d.out / "city-hours.csv", "w", newline="") as f:
        rows.write_csv(d.summary["areas"], f)
    d.say(f"Files in {d.out}/: city.db, nodes.csv, city-hours.csv, truth.csv, truth-check.csv, site/, nodes/<id>/console.log.\n"
          f"Next: tynys aqi city --db {d.out}/city.db    tynys db stats --db {d.out}/city.db    "
          f"tynys calibrate profiles --db {d.out}/city.db")


SECTIONS: list[Callable[[Demo], None]] = [collect, calibrate, per_node, city_by_hour, districts, against_the_truth, publish,
                                          files]


def _cell(row: dict, key: str):
    """A row's value as the demo's tables show it: an incomplete index says so; floats keep their precision."""
    if key.endswith("_category"):
        return pipeline.category_cell(row, key[:-len("_category")])
    return pipeline.formatted(key, row.get(key))


# --- running it ---------------------------------------------------------------------------------

# What a run leaves in --out: only a directory holding nothing else is removed for a new run.
OUTPUTS = {"city.db", "city.db-wal", "city.db-shm", "city.keys", "city.keys.lock", "nodes.csv", "city-hours.csv", "nodes",
           "truth.csv", "truth.sensors.json", "truth-check.csv", "site"}


def run(out: Path, nodes: int = 6, hours: int = 24, stream=sys.stdout, sections=None) -> dict:
    """Run the demo in *out* (made afresh); returns a summary dict."""
    if out.exists():
        foreign = sorted(p.name for p in out.iterdir() if p.name not in OUTPUTS) if out.is_dir() else [out.name]
        if foreign:
            raise DemoError(f"{out} holds files the demo did not make ({', '.join(foreign[:5])}); "
                            "choose a new or empty --out: the demo clears its directory")
        shutil.rmtree(out)
    out.mkdir(parents=True)
    d = Demo(out, nodes, hours, stream)
    try:
        for section in SECTIONS if sections is None else sections:
            section(d)
    finally:
        if d.store is not None:
            d.store.close()
    return d.summary


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
