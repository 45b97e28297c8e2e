"""A virtual reference station: the true air at a city's reference post, as its analysers would
report it (hourly means plus their stated noise, models/reference.json), so calibration methods
can be compared where the truth is known.

    p = reference.colocated(city, place)                      # the first node at the station
    reference.record(store, city, plan, start, hours, "ref.csv", seed)   # write and import it

``tynys sim --reference ref.csv`` does both: node 1 stands at the station, the station's hourly
values go to ref.csv and into the database as site ``csv:<station id>``, ready for
``tynys calibrate fit --db DB --node <node 1> --reference csv:<station id>:pm25``; node 1's own
5-minute windows (as stored) go to ``ref-<node>.csv`` beside it, for the commands that read files
(``tynys calibrate compare --sensor ref-<node>.csv:pm25_cf1 --reference ref.csv:pm25 ...``).
"""

from __future__ import annotations

import csv
import math
import os
from pathlib import Path

import numpy as np

from ..errors import TynysError
from ..imports import import_file
from ..store import Store
from ..timeutil import iso
from . import models, truth
from .city import City, Place

# CSV column (unit in brackets, as the plain-CSV importer reads it) -> (world quantity, noise parameter)
COLUMNS = {"pm25 [µg/m³]": ("pm25", "pm25_noise"), "pm10 [µg/m³]": ("pm10", "pm10_noise"), "so2 [ppb]": ("so2_ppb", "so2_noise")}
# the co-located node's file: column -> stored channel (PM2.5 in µg/m³, RH in %, T in °C)
NODE_COLUMNS = {"pm25_cf1": "pm.pm25_cf1", "pm25_atm": "pm.pm25_atm", "rh": "th.rh", "t_c": "th.t_c"}


class NoReferenceStation(TynysError):
    """The city's layout names no reference station."""


def station(city: City) -> dict:
    if not city.reference_stations:
        raise NoReferenceStation(f"{city.path} lists no reference_stations: add one (id, name, lat, lon) to co-locate a node with it")
    return city.reference_stations[0]


def colocated(city: City, p: Place) -> Place:
    """*p*'s node moved to the city's reference station, in the district of the nearest site."""
    st = station(city)
    near = min(city.sites, key=lambda s: math.hypot(s.lat - st["lat"], (s.lon - st["lon"]) * math.cos(math.radians(st["lat"]))))
    return Place(p.node, f"{st['name']} (co-located)", near.district, float(st["lat"]), float(st["lon"]))


def hourly(plan, start: int, hours: int, seed: int = 1) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """(hour starts, {column: values}): the station's hourly means of the true air at *plan*'s
    node, each with its analyser's noise (seeded)."""
    t, values = truth.windows([plan], start, hours).hourly()
    noise = models.typical("reference")
    rng = np.random.default_rng([seed, 23])
    out = {}
    for col, (q, key) in COLUMNS.items():
        v = values[q][0] + rng.normal(0.0, noise[key], len(t))
        out[col] = np.round(np.maximum(v, 0.0) if q.startswith("pm") else v, 1)
    return t, out


def record(store: Store, city: City, plan, start: int, hours: int, path: str | os.PathLike, seed: int = 1) -> dict:
    """Write the station's hourly values to *path* (CSV) and import them into *store*."""
    st = station(city)
    t, cols = hourly(plan, start, hours, seed)
    path = Path(path)
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["time", *cols])
        for i, h in enumerate(t):
            w.writerow([iso(int(h)), *(float(c[i]) for c in cols.values())])
    res = import_file(store, path, "csv", site=st["id"], name=f"{st['name']} (virtual reference)", lat=st["lat"],
                      lon=st["lon"], interval=3600, columns={q.replace("_ppb", ""): c for c, (q, _) in COLUMNS.items()})
    node_file = path.with_name(f"{path.stem}-{plan.node}.csv")
    w = store.windows(plan.node, NODE_COLUMNS.values(), start, start + hours * 3600)
    times = np.char.add(np.datetime_as_string(w.t0.astype("datetime64[s]"), unit="s"), "Z")
    cols = []
    for ch in NODE_COLUMNS.values():
        c = w.mean[ch].astype(object)
        c[~np.isfinite(w.mean[ch])] = ""  # a window without the channel: an empty cell
        cols.append(c)
    with open(node_file, "w", newline="") as f:
        out = csv.writer(f)
        out.writerow(["time", *NODE_COLUMNS])
        out.writerows(zip(times.tolist(), *(c.tolist() for c in cols)))
    return {"file": str(path), "site": f"csv:{st['id']}", "node": plan.node, "values": res.values, "status": res.status,
            "node_file": str(node_file)}
