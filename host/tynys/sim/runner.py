"""Run a virtual city: N virtual nodes (the real firmware, .mpy on the MicroPython unix port) on a
city's sites, each breathing its scenario's air and sending over serial, HTTP or MQTT into one
host ingest (one Collector, one SQLite store). See the package docstring for the API.

The pieces are public so tests can wire them to other hosts (``tynys serve`` in a subprocess):
:func:`plan` (who stands where, on which transport, breathing what), :func:`register` (the
registry and keys), :func:`node_config` (a node's config.json) and :func:`create_node`.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from ..errors import TynysError
from ..ingest import Collector, Ingestor
from ..keys import KeyFile, default_path
from ..registry import add_node, parse_sensor
from ..store import Store
from ..timeutil import iso
from ..vnode import VirtualNode
from . import models, reference
from . import truth as _truth
from .city import Place, load, place
from .scenarios import scenario as _scenario
from .scenarios import worlds

WINDOW_S = 300  # the nodes' window (config default): 12 records an hour
POWER_ON_S = 37  # nodes are switched on this far into the first window, as a board plugged in mid-window
TRANSPORTS = ("serial", "http", "mqtt")
CHOICES = TRANSPORTS + ("mixed",)  # mixed: round-robin in TRANSPORTS order
MAX_NODES = 64  # each node is two MicroPython processes and a relay thread
MAX_HOURS = 24 * 31
# The typical node (docs/node.md): PMS5003, SHT3x, Alphasense SO2-B4 on an ISB/ADS1115.
SENSORS = {"pm": {"type": "pms5003", "uart": 1},
           "th": {"type": "sht3x", "i2c": 0},
           "so2": {"type": "isb", "model": "so2-b4", "i2c": 0, "addr": "0x48"}}
REGISTRY_SENSORS = ("pm=pms5003", "th=sht3x", "so2=isb:so2-b4")
WIFI = {"ssid": "tynys-sim", "password": "virtual"}  # the virtual network: NTP answers with world time


class SimError(TynysError):
    """A simulation that cannot start as asked, or nodes that did not deliver in time."""


@dataclass(frozen=True)
class NodePlan:
    place: Place
    transport: str
    world: dict  # the sensor simulators' world table (tynys.sim.scenarios)
    units: dict = field(default_factory=dict)  # slot -> {"model", "params"}: this node's sensors (tynys.sim.models)

    @property
    def node(self) -> str:
        return self.place.node


@dataclass(frozen=True)
class Endpoints:
    """Where the host listens: HTTP records URL, MQTT broker (host, port)."""

    http_url: str | None = None
    mqtt: tuple[str, int] | None = None


def default_start(now: float | None = None) -> int:
    """Yesterday 00:00 UTC: a whole simulated day lies in the past."""
    return int(time.time() if now is None else now) // 86400 * 86400 - 86400


def units(n: int, seed: int = 1, age_days: float = 0.0) -> list[dict]:
    """The sensors of *n* nodes as units drawn from their models (the same for the same seed):
    [{slot: {"model": name, "params": {...}}}, ...]. *age_days*: how long every unit has run
    (drift and dust; 0: new units, their sheets fresh)."""
    rng = np.random.default_rng([seed, 11])
    out = []
    for _ in range(n):
        node = {}
        for slot, cfg in SENSORS.items():
            name = models.FOR_TYPE[cfg["type"] + (":" + cfg["model"] if "model" in cfg else "")]
            params = models.typical(name)
            fixed = {"age_days": age_days} if "age_days" in params else {}
            node[slot] = {"model": name, "params": models.draw(name, rng, **fixed)}
        out.append(node)
    return out


def plan(city: str = "oskemen", nodes: int = 5, hours: int = 24, scenario: str = "inversion",
         transport: str = "http", start: int | None = None, seed: int = 1, age_days: float = 0.0,
         colocate: bool = False) -> list[NodePlan]:
    """Who stands where, on which transport, breathing which air, with which sensor units (no side
    effects). *colocate*: the first node stands at the city's reference station (tynys.sim.reference)."""
    c = load(city)
    _scenario(scenario)
    if transport not in CHOICES:
        raise SimError(f"unknown transport {transport!r}: use one of {', '.join(CHOICES)}")
    if not 1 <= nodes <= MAX_NODES:
        raise SimError(f"{nodes} nodes: simulate 1 to {MAX_NODES} (each virtual node is two MicroPython processes)")
    if not 1 <= hours <= MAX_HOURS:
        raise SimError(f"{hours} hours: simulate 1 to {MAX_HOURS} hours")
    if not 0 <= age_days <= 3650:
        raise SimError(f"--age-days {age_days}: give the sensors' age as 0 to 3650 days")
    start = default_start() if start is None else int(start)
    if start % WINDOW_S:
        raise SimError(f"start {iso(start)} is not on a {WINDOW_S // 60}-minute boundary (windows are aligned to the UTC clock): "
                       f"use e.g. {iso(start - start % WINDOW_S)}")
    places = place(c, nodes)
    if colocate:
        places[0] = reference.colocated(c, places[0])
    tables = worlds(scenario, c, places, start, hours, seed)
    return [NodePlan(p, TRANSPORTS[i % 3] if transport == "mixed" else transport, w, u)
            for i, (p, w, u) in enumerate(zip(places, tables, units(nodes, seed, age_days)))]


def register(store: Store, keys: KeyFile, plans: list[NodePlan], installed: int | None = None, notes: str = "") -> dict[str, bytes]:
    """Register each planned node with its location and district; returns {node: key}."""
    taken = {n.id for n in store.nodes()} & {p.node for p in plans}
    if taken:
        raise SimError(f"{store.path} already has node(s) {', '.join(sorted(taken))}: a new virtual node starts at boot 0, "
                       "seq 0 and would conflict with their records; simulate into a new --db")
    sensors = [parse_sensor(s) for s in REGISTRY_SENSORS]
    out = {}
    for p in plans:
        pl = p.place
        _, out[p.node] = add_node(store, keys, p.node, name=pl.name, lat=pl.lat, lon=pl.lon, district=pl.district,
                                  sensors=sensors, installed=installed, notes=notes)
    return out


def node_config(p: NodePlan, key: bytes, endpoints: Endpoints) -> dict:
    """config.json of a planned node: the typical sensors, WiFi (for NTP), its transport's uplink.
    Resends wait a window (serial, MQTT) for the host's ack: on a virtual clock a
    few milliseconds of the host's work are minutes of world time, and sooner resends would
    only be recognised as replays."""
    if p.transport == "http":
        if not endpoints.http_url:
            raise SimError(f"{p.node}: transport http needs the host's records URL")
        uplink = {"http": {"url": endpoints.http_url, "retry_s": 30, "retry_max_s": 300}}
    elif p.transport == "mqtt":
        if not endpoints.mqtt:
            raise SimError(f"{p.node}: transport mqtt needs a broker")
        uplink = {"mqtt": {"host": endpoints.mqtt[0], "port": endpoints.mqtt[1], "retry_s": 300, "retry_max_s": 300}}
    else:
        uplink = {"serial": {"retry_s": 300}}
    sensors = json.loads(json.dumps(SENSORS))
    sensors["so2"]["serial"] = f"16203{sum(map(ord, p.node)) % 10000:04d}"  # the ISB's certificate number
    return {"node": p.node, "key": key.hex(), "wifi": dict(WIFI), "sensors": sensors, "uplinks": uplink}


def create_node(p: NodePlan, config: dict, home: Path, start: int, hours: int, heap: str | None = None,
                network: dict | None = None, **kw) -> VirtualNode:
    """A virtual node in *home*, switched on POWER_ON_S after *start*; its virtual clock races to
    start + hours, then runs in real time (a finished node idles and still answers its host).
    *heap*: MicroPython heap (default what its uplink needs, firmware.heap_for); *network*: the virtual network's plan
    (``{"outages": [{"from": t, "to": t, "what": "wifi" | "host"}]}``, docs/node.md)."""
    scenario = {"world": p.world, "network": network or {},
                "sensors": {slot: {"options": {"unit": u["params"]}} for slot, u in p.units.items()}}
    kw.setdefault("force", True)  # a simulation's node directories are its own: made anew each run
    return VirtualNode.create(home, config, scenario=scenario, start=start + POWER_ON_S, end=start + hours * 3600,
                              heap=heap, **kw)


@dataclass
class _Progress:
    records: int = 0
    last_t1: int = 0
    boots: dict = field(default_factory=dict)  # boot -> [least seq, greatest seq, records]

    def add(self, boot: int, seq: int, t1: int) -> None:
        self.records += 1
        self.last_t1 = max(self.last_t1, t1)
        b = self.boots.setdefault(boot, [seq, seq, 0])
        b[0], b[1], b[2] = min(b[0], seq), max(b[1], seq), b[2] + 1

    def done(self, end: int) -> bool:
        """The window ending at *end* is stored, and no record before it is missing (per boot:
        a node's seq counts on across boots unless its spool was empty when it restarted)."""
        return self.last_t1 >= end and all(n == hi - lo + 1 for lo, hi, n in self.boots.values())


def run(city: str = "oskemen", nodes: int = 5, hours: int = 24, scenario: str = "inversion", transport: str = "http",
        db: str | os.PathLike = "sim.db", *, keys: str | os.PathLike | None = None, start: int | None = None,
        seed: int = 1, heap: str | None = None, workdir: str | os.PathLike | None = None,
        on_record: Callable[[dict], None] | None = None, timeout: float | None = None, network: dict | None = None,
        truth: str | os.PathLike | None = None, reference_csv: str | os.PathLike | None = None,
        age_days: float = 0.0) -> dict:
    """Simulate *nodes* nodes of *city* for *hours* and ingest their records into *db*.
    Returns the summary (see the package docstring). Raises SimError naming late or stuck nodes."""
    plans = plan(city, nodes, hours, scenario, transport, start, seed, age_days, colocate=reference_csv is not None)
    start = plans[0].world["start"]
    end = start + hours * 3600
    used = {p.transport for p in plans}
    if "mqtt" in used:
        from ..broker import mosquitto_binary

        if mosquitto_binary() is None:
            raise SimError("transport mqtt needs the mosquitto broker: apt-get install mosquitto (or scripts/system-deps.sh)")
    if timeout is None:  # about 20 s per simulated node-day on one core, and the machine may be busy
        timeout = 120 + 60 * nodes * hours / 24
    wall = time.monotonic()
    store = Store.open(db, synchronous="NORMAL")  # a simulation: no fsync per commit
    try:
        keyfile = KeyFile(keys or default_path(db))
        keymap = register(store, keyfile, plans, installed=start, notes=f"tynys sim {city} {scenario} seed {seed}")
        first_id = store.last_arrival()
        temp = workdir is None
        home = Path(tempfile.mkdtemp(prefix="tynys-sim-") if temp else workdir).resolve()
        home.mkdir(parents=True, exist_ok=True)
        vns: list[VirtualNode] = []
        # The host lives in the nodes' world: its clock is the furthest node's world clock.
        ingestor = Ingestor(store, keyfile, now=lambda: max((vn.world_time() for vn in vns), default=start + POWER_ON_S))
        with contextlib.ExitStack() as stack:
            col = stack.enter_context(Collector(ingestor))
            endpoints = Endpoints(_http(stack, col) if "http" in used else None, _mqtt(stack, col) if "mqtt" in used else None)
            for p in plans:
                vns.append(create_node(p, node_config(p, keymap[p.node], endpoints), home / p.node, start, hours, heap,
                                       network))
            for vn in vns:
                stack.callback(vn.stop)
                vn.start()
            serial = [vn.port for vn, p in zip(vns, plans) if p.transport == "serial"]
            if serial:
                from ..transport.serialport import SerialIngest

                # No TIME lines: the nodes keep NTP (world) time; the host's own clock is not the world's.
                stack.callback(SerialIngest(col, serial, set_time=False).start().stop)
            _wait(db, plans, vns, first_id, end, timeout, on_record, home)
        if temp:
            shutil.rmtree(home, ignore_errors=True)  # kept when something failed: the consoles tell why
        summary = _summary(store, plans, ingestor.counts, {p.node: vn.resets for p, vn in zip(plans, vns)})
        if truth is not None:
            summary["truth"] = [str(p) for p in _truth.write(plans, start, hours, truth)]
        if reference_csv is not None:
            summary["reference"] = reference.record(store, load(city), plans[0], start, hours, reference_csv, seed)
    finally:
        store.close()
    summary.update(city=city, scenario=scenario, transport=transport, hours=hours, start=iso(start), end=iso(end),
                   seed=seed, expected_records=nodes * hours * 3600 // WINDOW_S, db=str(db),
                   workdir=None if temp else str(home), wall_seconds=round(time.monotonic() - wall, 1))
    return summary


def _http(stack, col) -> str:
    from ..transport.httpserver import RECORDS_PATH, RecordServer

    server = RecordServer(("127.0.0.1", 0), col).start()
    stack.callback(server.stop)
    return server.url + RECORDS_PATH


def _mqtt(stack, col) -> tuple[str, int]:
    from ..broker import Mosquitto
    from ..transport.mqtt import MqttIngest

    broker = stack.enter_context(Mosquitto())
    sub = MqttIngest(col, broker.host, broker.port, client_id=f"tynys-sim-{os.getpid()}").start()
    stack.callback(sub.stop)
    if not sub.connected.wait(10):
        raise SimError(f"the host's MQTT subscriber did not connect to the private broker on {broker.host}:{broker.port}")
    return broker.host, broker.port


def _wait(db, plans, vns, first_id, end, timeout, on_record, home) -> None:
    """Until every node's records up to *end* are stored, without a gap."""
    deadline = time.monotonic() + timeout
    prog = {p.node: _Progress() for p in plans}
    last = first_id
    stuck: dict[str, float] = {}
    reader = Store.open(db, readonly=True)  # its own connection: the collector writes on the other
    try:
        while True:
            for r in reader.arrived_after(last, prog):
                last = r.pop("id")
                prog[r["node"]].add(r["boot"], r["seq"], r["t1"])
                if on_record:
                    raw = r.pop("raw")
                    on_record({**r, "record": json.loads(raw)})
            late = [n for n, g in prog.items() if not g.done(end)]
            if not late:
                return
            now = time.monotonic()
            for vn, p in zip(vns, plans):
                if not vn.running or vn.at_repl():
                    stuck.setdefault(p.node, now)
                    if now - stuck[p.node] > 3:
                        tail = b"\n".join(list(vn.lines)[-6:]).decode(errors="replace")
                        raise SimError(f"{p.node} stopped measuring (its console: {vn.home / 'console.log'}); last lines:\n{tail}")
                else:
                    stuck.pop(p.node, None)
            if now > deadline:
                said = [f"{n} (last window to {iso(prog[n].last_t1) if prog[n].last_t1 else '-'}, {prog[n].records} records)"
                        for n in late]
                raise SimError(f"after {timeout:.0f} s, {len(late)} node(s) had not delivered every window to {iso(end)}: "
                               f"{'; '.join(said)}; their consoles are in {home} (on a busy machine, allow more time: --timeout)")
            time.sleep(0.2)
    finally:
        reader.close()


def _summary(store: Store, plans: list[NodePlan], counts, resets: dict[str, list[str]] | None = None) -> dict:
    per_node = []
    for p in plans:
        # first/last by the windows the host uses: an unsynced record's own t0 is the node's guess (2000-01-01 on)
        tot = store.node_totals(p.node)
        w = store.windows(p.node, ["pm.pm25_cf1", "so2.we_mv", "so2.ae_mv"])
        pm = w.mean["pm.pm25_cf1"]
        so2 = w.mean["so2.we_mv"] - w.mean["so2.ae_mv"]
        per_node.append({
            "node": p.node, "name": p.place.name, "district": p.place.district, "transport": p.transport,
            "records": tot["records"], "first": iso(tot["first"]), "last": iso(tot["last"]),
            "pm25_cf1_mean": _round(np.nanmean(pm) if np.isfinite(pm).any() else math.nan),
            "so2_mv_max": _round(np.nanmax(so2) if np.isfinite(so2).any() else math.nan),
            "heap_free_min": tot["heap_free_min"],
            # what restarted it, each time: a node restarts once ("soft") to run its checked config
            "resets": list((resets or {}).get(p.node, ())),
            "sensors": {slot: dict(u, **({"sheet": models.sheet(u["params"])} if u["model"].startswith("isb") else {}))
                        for slot, u in p.units.items()},
        })
    rejected = {k: v for k, v in sorted(counts.items()) if k != "stored"}
    return {"nodes": len(plans), "records": sum(r["records"] for r in per_node),
            "rejected": sum(rejected.values()), "rejected_by_reason": rejected, "per_node": per_node}


def _round(x: float) -> float | None:
    return None if not math.isfinite(x) else round(float(x), 1)
