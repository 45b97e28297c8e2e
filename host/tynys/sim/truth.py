"""What the scenario put at each node, on record: the truth a simulated city's results are judged by.

    from tynys.sim import truth
    t = truth.windows(plans, start, hours)   # per node and 5-minute window: the true air
    t.hourly()                                # per node and hour
    truth.write(plans, start, hours, "truth.csv")   # and truth.sensors.json beside it

A window's true value is the mean over the window of the scenario's world table (rows every
10 minutes, interpolated linearly, as the simulators read it), sampled every SAMPLE_S seconds.
Windows lie on the nodes' 5-minute UTC grid from the start; a node's own first window is shorter
(it is switched on 37 s in and sets its clock first), the truth's first row covers the whole one.
"""

from __future__ import annotations

import csv
import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..timeutil import iso
from . import models

WINDOW_S = 300
SAMPLE_S = 10
# CSV column -> world table quantity; the unit is in each column's name.
COLUMNS = {"pm25_ugm3": "pm25", "pm10_ugm3": "pm10", "so2_ppb": "so2_ppb", "no2_ppb": "no2_ppb", "t_c": "t_c", "rh_pct": "rh"}


def world_at(world: dict, quantity: str, t) -> np.ndarray:
    """A world table's quantity at Unix times *t* (linear between rows, held after the last)."""
    v = world.get(quantity)
    t = np.asarray(t, float)
    if v is None:
        return np.full(t.shape, np.nan)
    if not isinstance(v, list):
        return np.full(t.shape, float(v))
    return np.interp(t - world["start"], world["t"], v)


@dataclass
class Truth:
    """``t0`` (int64 window starts, Unix s), per node (rows, in plan order) the window means of each
    quantity (``values[quantity]``: nodes x windows), ``nodes`` and each node's ``units``."""

    t0: np.ndarray
    nodes: list[str]
    values: dict[str, np.ndarray]
    units: list[dict]
    step: int = WINDOW_S

    def hourly(self) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """(hour starts, {quantity: nodes x hours}): means of the windows in each whole hour."""
        per = 3600 // self.step
        h0 = self.t0[0] // 3600 * 3600
        slot = (self.t0 - h0) // 3600
        n_h = int(slot[-1]) + 1
        out = {}
        for q, v in self.values.items():
            s = np.zeros((v.shape[0], n_h))
            c = np.zeros(n_h)
            np.add.at(s.T, slot, v.T)
            np.add.at(c, slot, 1)
            out[q] = np.where(c == per, s / np.maximum(c, 1), np.nan)
        return h0 + 3600 * np.arange(n_h, dtype=np.int64), out


def windows(plans, start: int, hours: int) -> Truth:
    """The true air at each planned node (tynys.sim.plan) in every window of the run."""
    t0 = start + WINDOW_S * np.arange(hours * 3600 // WINDOW_S, dtype=np.int64)
    samples = t0[:, None] + SAMPLE_S * (np.arange(WINDOW_S // SAMPLE_S) + 0.5)
    values = {q: np.array([world_at(p.world, q, samples).mean(axis=1) for p in plans]) for q in COLUMNS.values()}
    return Truth(t0, [p.node for p in plans], values, [p.units for p in plans])


def write(plans, start: int, hours: int, path: str | os.PathLike) -> tuple[Path, Path]:
    """Write the truth CSV (a row per node and window, units in the column names) and, beside it
    (``<stem>.sensors.json``), each node's sensor units: model, parameters, the SO2 cell's
    calibration sheet, and the models' parameter documentation with sources."""
    path = Path(path)
    t = windows(plans, start, hours)
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["node", "t0", "t1", *COLUMNS])
        for i, node in enumerate(t.nodes):
            cols = [np.round(t.values[q][i], 3) for q in COLUMNS.values()]
            for k, t0 in enumerate(t.t0):
                w.writerow([node, iso(int(t0)), iso(int(t0) + WINDOW_S), *(float(c[k]) for c in cols)])
    side = path.with_name(path.stem + ".sensors.json")
    used = sorted({u["model"] for p in plans for u in p.units.values()})
    doc = {"format": "tynys-sim-sensors/1", "truth": path.name,
           "nodes": {p.node: {slot: dict(u, **({"sheet": models.sheet(u["params"])} if u["model"].startswith("isb") else {}))
                              for slot, u in p.units.items()} for p in plans},
           "models": {name: models.load(name) for name in used}}
    side.write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n")
    return path, side
