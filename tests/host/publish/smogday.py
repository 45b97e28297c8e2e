"""A day of the virtual Oskemen (``tynys sim``'s smog scenario) stored through the real ingest path,
in seconds rather than the demo's minute and a half: the scenario's air at each node is turned
into what its sensors would send (a PMS5003 reading high like Barkjohn et al. 2021 describe, an
SO2-B4 cell on an ISB by its sheet) and signed, verified and stored; then the demo's calibration.

Six nodes stand on the layout's sites with their district; besides them, for the site's notes:

- ``osk-07``: registered without a location (on no map), records and profiles like the others;
- ``osk-06``: no calibration profile (uncalibrated);
- ``osk-05``: silent for the last four hours (stale);
- ``osk-04``: its PMS rejects 30 of 300 frames in every window (flagged).

    info = build(Path("smog"))    # -> {"db", "start", "end", "nodes", ...}
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from factory import KEY, make_body, sign_body

from tynys import sim
from tynys.calibrate import stored
from tynys.calibrate.corrections import temperature_factor
from tynys.calibrate.data import load
from tynys.ingest import Ingestor
from tynys.keys import KeyFile
from tynys.registry import add_node, parse_sensor
from tynys.store import Store

START = 1_795_737_600  # 2026-11-27T00:00Z (05:00 in Oskemen)
HOURS = 24
WINDOW = 300
SHEET = {"sensor_model": "so2-b4", "we_e_mv": 275, "we_0_mv": 87, "ae_e_mv": 280, "ae_0_mv": 61,
         "sensitivity_mv_ppb": 0.300}
STALE, UNCALIBRATED, FLAGGED, NOWHERE = "osk-05", "osk-06", "osk-04", "osk-07"


def _sensor_values(world: dict, n: int) -> dict:
    """What the node's sensors report for the scenario's air, one value per 5-min window."""
    t = np.asarray(world["t"], float)
    at = np.arange(n) * WINDOW + WINDOW / 2
    air = {k: np.interp(at, t, np.asarray(world[k], float)) for k in ("pm25", "so2_ppb", "t_c", "rh")}
    cf1 = (air["pm25"] - 5.75 + 0.0862 * air["rh"]) / 0.524  # Barkjohn 2021 solved for the CF=1 reading
    kpp = temperature_factor(load("alphasense/aan803-temperature.json")["tables"]["so2-b4"]["kpp_t_mv"], air["t_c"])
    we = SHEET["we_e_mv"] + SHEET["we_0_mv"] + kpp + SHEET["sensitivity_mv_ppb"] * air["so2_ppb"]
    ae = SHEET["ae_e_mv"] + SHEET["ae_0_mv"] + 0.2 * (air["t_c"] - 20)
    return {"pm.pm25_cf1": cf1, "pm.pm25_atm": cf1 / (1 + 0.004 * cf1), "pm.pm10_cf1": cf1 * 1.2,
            "th.t_c": air["t_c"], "th.rh": air["rh"], "so2.we_mv": we, "so2.ae_mv": ae}


def build(root: Path, *, calibrate: bool = True) -> dict:
    """The smog day under *root*; ``calibrate=False``: records only, no node has a profile."""
    root.mkdir(parents=True, exist_ok=True)
    db = root / "city.db"
    plans = sim.plan(city="oskemen", nodes=7, hours=HOURS, scenario="smog", start=START, seed=1)
    store = Store.open(db)
    keys = KeyFile(root / "city.keys")
    sensors = [parse_sensor(s) for s in sim.runner.REGISTRY_SENSORS]
    n = HOURS * 3600 // WINDOW
    lines = []
    for p in plans:
        where = {} if p.node == NOWHERE else {"lat": p.place.lat, "lon": p.place.lon}
        add_node(store, keys, p.node, name=p.place.name, district=p.place.district, sensors=sensors, key=KEY, **where)
        values = _sensor_values(p.world, n)
        last = n - 4 * 12 if p.node == STALE else n
        for i in range(last):
            body = make_body(p.node, i, t0=START + i * WINDOW,
                             channels={k: round(float(v[i]), 2) for k, v in values.items()})
            if p.node == FLAGGED:
                body["sensors"]["pm"]["bad"] = 30
            lines.append(sign_body(body, KEY))
    end = START + HOURS * 3600
    out = Ingestor(store, keys, now=lambda: end + 60, max_past=None).ingest(lines, "test")
    assert all(o.status == "stored" for o in out), {o.status for o in out}
    for p in plans if calibrate else []:
        if p.node != UNCALIBRATED:
            stored.use_correction(store, p.node, "pm.pm25_cf1", "barkjohn2021")
            stored.use_correction(store, p.node, "so2.we_mv", "aan803_alg4", params=SHEET)
    if calibrate:
        stored.apply(store)
    store.close()
    (root / "plans.json").write_text(json.dumps([{"node": p.node, "district": p.place.district} for p in plans]))
    return {"db": db, "start": START, "end": end, "nodes": [p.node for p in plans],
            "located": [p.node for p in plans if p.node != NOWHERE]}
