"""Open data beside the site (``open-data/``), for journalists, researchers and other maps:

- ``latest.csv`` / ``latest.geojson``: every node's values and indices in the latest hour;
- ``last24h.csv`` / ``last24h.geojson``: the same for each of the 24 hours (one row or point
  feature per node and hour);
- ``sensor-community/data.1h.json`` and ``data.24h.json``: the latest hour's and the 24 hours'
  PM means shaped like Sensor.Community's static feeds, so tools reading those read ours;
- ``daily/<date>/<node>.csv``: each node's 5-minute windows of a UTC day, raw channels and the
  corrected values beside them (with the profile that made each);
- ``README.md`` (what each file holds, units, rules) and the licence line.

    files = opendata.write(snap, store, folder, licence="CC BY 4.0")
"""

from __future__ import annotations

import csv
import io
import json
import zlib

import numpy as np

from .. import pipeline
from ..aqi import averaging
from ..store import Store
from ..timeutil import iso
from .folder import Folder
from .snapshot import HOUR, Snapshot

DAY = 86400
DIR = "open-data"
LICENCE = "CC BY 4.0 (https://creativecommons.org/licenses/by/4.0/)"
# Sensor.Community's names for the PM sensors it maps (opendata-stuttgart/feinstaub-map-v2,
# src/js/feinstaub-api.js, pm_sensors); our record types -> (name, manufacturer).
SC_TYPES = {"pms5003": ("PMS5003", "Plantower"), "pms7003": ("PMS7003", "Plantower"), "sds011": ("SDS011", "Nova Fitness"),
            "sps30": ("SPS30", "Sensirion")}
PM10_CHANNELS = ("pm10_atm", "pm10", "pm10_cf1")  # P1 in the feeds: the sensor's own PM10 (raw)


def _std_cols(snap: Snapshot, i: int, j: int) -> dict:
    out = {}
    for s in snap.standards:
        sc = snap.index[s.id]
        key = s.id.replace("-", "_")
        cat = int(sc.category[i, j])
        value = sc.index[i, j]
        out[f"{key}_index"] = None if value != value else (round(float(value), 2) if s.id == "kz" else int(value))
        out[f"{key}_category"] = s.categories[cat][0] if cat >= 0 else None
        out[f"{key}_status"] = sc.status[i, j]
    return out


def _r(x, d: int = 1):
    return None if x is None or x != x else round(float(x), d)


def rows(snap: Snapshot, hours=None) -> list[dict]:
    """One row per node and hour (node-major) for the hour numbers *hours* (default all 24)."""
    out = []
    hours = range(len(snap.hours)) if hours is None else hours
    v = snap.values
    for i, n in enumerate(snap.nodes):
        q = snap.quality[i]
        for j in hours:
            out.append({"node": n.id, "name": n.name, "district": n.district, "placement": n.placement,
                        "lat": n.lat, "lon": n.lon, "hour_start": iso(snap.hours[j]), "hour_end": iso(snap.hours[j] + HOUR),
                        "pm25_ugm3": _r(v["pm25"][i, j]), "pm25_raw_ugm3": _r(v["pm25_raw"][i, j]),
                        "pm25_calibrated": bool(v["pm25_calibrated"][i, j]), "so2_ppb": _r(v["so2"][i, j]),
                        "so2_calibrated": bool(v["so2_calibrated"][i, j]), **_std_cols(snap, i, j),
                        "quality": q["state"], "stale_since": q["stale_since"]})
    return out


def _csv(records: list[dict]) -> str:
    buf = io.StringIO()
    if records:
        w = csv.DictWriter(buf, fieldnames=list(records[0]), lineterminator="\n")
        w.writeheader()
        w.writerows(records)
    return buf.getvalue()


def _geojson(records: list[dict]) -> str:
    feats = [{"type": "Feature", "geometry": {"type": "Point", "coordinates": [r["lon"], r["lat"]]},
              "properties": {k: v for k, v in r.items() if k not in ("lat", "lon")}}
             for r in records if r["lat"] is not None and r["lon"] is not None]
    return json.dumps({"type": "FeatureCollection", "features": feats}, ensure_ascii=False, separators=(",", ":")) + "\n"


def _id(text: str) -> int:
    """A stable integer id (Sensor.Community's ids are integers; ours are names): CRC-32 of the name."""
    return zlib.crc32(text.encode())


def _pm10(store: Store, snap: Snapshot) -> tuple[np.ndarray, np.ndarray]:
    """Each node's PM10 (its sensor's own, raw): latest-hour and 24-hour means [µg/m³]."""
    hour, day = np.full(len(snap.nodes), np.nan), np.full(len(snap.nodes), np.nan)
    for i, n in enumerate(snap.nodes):
        latest = store.latest([n.id])
        have = sorted(latest[0]["values"]) if latest else []
        ch = next((c for name in PM10_CHANNELS for c in have if c.partition(".")[2] == name), None)
        if ch is None:
            continue
        s = store.series(n.id, ch, snap.start, snap.end)
        if not len(s):
            continue
        step = int(np.bincount(np.asarray(s.t1 - s.t0, np.int64)).argmax())
        starts, means, _ = averaging.window_means(s.t0, s.mean, HOUR, sample_s=step)
        last = means[starts == snap.hours[-1]]
        hour[i] = last[0] if len(last) else np.nan
        ok = np.isfinite(means)
        day[i] = means[ok].mean() if ok.sum() >= 18 else np.nan  # 18 of 24 hours, as a 24-h mean needs
    return hour, day


def sensor_community(snap: Snapshot, store: Store, pm25: np.ndarray, pm10: np.ndarray, so2: np.ndarray,
                     stamp: int) -> list[dict]:
    """Entries shaped like Sensor.Community's ``data.1h.json``: one per node and sensor, values as
    strings, P2 = PM2.5 (calibrated where a profile exists: what the map shows), P1 = PM10 (raw).
    SO2 entries carry value_type ``SO2`` [ppb], which Sensor.Community does not define."""
    types = {}
    for c in store.sensor_counts(snap.start, snap.end):
        types.setdefault(c["node"], {})[c["slot"]] = c["type"]
    out = []
    ts = iso(stamp).replace("T", " ").rstrip("Z")
    country = json.loads(snap.city.path.read_text(encoding="utf-8")).get("country", "") if snap.city else ""
    for i, n in enumerate(snap.nodes):
        if n.lat is None or n.lon is None:
            continue
        loc = {"id": _id(n.id), "latitude": f"{n.lat:.5f}", "longitude": f"{n.lon:.5f}", "altitude": "",
               "country": country, "exact_location": 1, "indoor": int(n.placement == "indoor")}
        for slot, typ in sorted(types.get(n.id, {}).items()):
            if typ in SC_TYPES and np.isfinite(pm25[i]):
                vals = [("P2", pm25[i]), ("P1", pm10[i])]
                name, maker = SC_TYPES[typ]
            elif typ == "isb" and np.isfinite(so2[i]):
                vals, name, maker = [("SO2", so2[i])], "SO2 electrochemical (Alphasense ISB)", "Alphasense"
            else:
                continue
            sid = f"{n.id}/{slot}"
            out.append({"id": _id(f"{sid}/{ts}"), "sampling_rate": None, "timestamp": ts, "location": loc,
                        "sensor": {"id": _id(sid), "pin": "1", "sensor_type": {"id": None, "name": name, "manufacturer": maker}},
                        "sensordatavalues": [{"id": _id(f"{sid}/{ts}/{k}"), "value": f"{v:.2f}", "value_type": k}
                                             for k, v in vals if np.isfinite(v)],
                        "tynys_node": n.id})
    return out


def _mean24(a: np.ndarray) -> np.ndarray:
    ok = np.isfinite(a)
    with np.errstate(invalid="ignore", divide="ignore"):
        m = np.where(ok, a, 0).sum(axis=1) / ok.sum(axis=1)
    return np.where(ok.sum(axis=1) >= 18, m, np.nan)


def daily(store: Store, snap: Snapshot, folder: Folder) -> list[str]:
    """``daily/<date>/<node>.csv`` for each UTC day the 24 hours touch (up to the end): every 5-min
    window, raw channels and corrected values side by side."""
    written = []
    first = snap.start // DAY * DAY
    for day0 in range(first, snap.end, DAY):
        t1 = min(day0 + DAY, snap.end)
        date = iso(day0)[:10]
        for i, n in enumerate(snap.nodes):
            rel = f"{DIR}/daily/{date}/{n.id}.csv"
            if day0 + DAY <= snap.start and folder.path(rel).is_file():
                folder.keep(rel)  # a past day already written
                continue
            text = _day_csv(store, n.id, snap.channels[i], day0, t1)
            if text:
                folder.write(rel, text)
                written.append(rel)
    return written


def _day_csv(store: Store, node: str, chans: dict, t0: int, t1: int) -> str:
    latest = store.latest([node])
    raw = sorted(latest[0]["values"]) if latest else []
    if not raw:
        return ""
    w = store.windows(node, raw, t0, t1)
    if not len(w.t0):
        return ""
    cols = {"window_start": [iso(x) for x in w.t0.tolist()], "window_end": [iso(x) for x in w.t1.tolist()]}
    for ch in raw:
        cols[ch] = [_r(x, 2) for x in w.mean[ch].tolist()]
    for pol in ("pm25", "so2"):
        ch = chans[pol]["corrected"]
        if ch is None:
            continue
        c = store.corrected(node, ch, t0, t1)
        by_record = dict(zip(c.record.tolist(), zip(c.value.tolist(), c.version.tolist())))
        profiles = {p["version"]: p["doc"]["model"] for p in store.profiles(node, ch)}
        unit = c.unit or pipeline.UNITS[pol]
        got = [by_record.get(r) for r in w.record.tolist()]
        cols[f"{pol}_corrected_{unit.replace('/', '').replace('µ', 'u').replace('³', '3')}"] = \
            [None if g is None else _r(g[0], 2) for g in got]
        cols[f"{pol}_profile"] = [None if g is None else f"{profiles.get(g[1], '')} v{g[1]}" for g in got]
    names = list(cols)
    buf = io.StringIO()
    wr = csv.writer(buf, lineterminator="\n")
    wr.writerow(names)
    wr.writerows(zip(*(cols[k] for k in names)))
    return buf.getvalue()


def write(snap: Snapshot, store: Store, folder: Folder, *, licence: str = LICENCE, bulletin: list | None = None) -> dict:
    """Write the open data; returns what the site links to (``{"licence", "files", "bulletin"}``)."""
    last = len(snap.hours) - 1
    latest, day = rows(snap, [last]), rows(snap)
    files = {"latest.csv": _csv(latest), "latest.geojson": _geojson(latest),
             "last24h.csv": _csv(day), "last24h.geojson": _geojson(day)}
    pm10_h, pm10_d = _pm10(store, snap)
    v = snap.values
    feeds = {"sensor-community/data.1h.json": sensor_community(snap, store, v["pm25"][:, last], pm10_h, v["so2"][:, last],
                                                               snap.end),
             "sensor-community/data.24h.json": sensor_community(snap, store, _mean24(v["pm25"]), pm10_d, _mean24(v["so2"]),
                                                                snap.end)}
    for name, text in files.items():
        folder.write(f"{DIR}/{name}", text)
    for name, doc in feeds.items():
        folder.write(f"{DIR}/{name}", json.dumps(doc, ensure_ascii=False, separators=(",", ":")) + "\n")
    days = daily(store, snap, folder)
    folder.write(f"{DIR}/README.md", readme(snap, licence, days))
    return {"licence": licence,
            "files": [{"name": n, "path": f"{DIR}/{n}"} for n in ("README.md", *files, *feeds)],
            "bulletin": bulletin}


def readme(snap: Snapshot, licence: str, days: list[str]) -> str:
    std = "; ".join(f"`{s.id.replace('-', '_')}_*`: {s.title}, table {s.version}" for s in snap.standards)
    place = snap.city.title if snap.city else "this network"
    return f"""# Open air-quality data: {place}

Licence: {licence}. Published by `tynys publish` on {iso(snap.generated)} for the 24 hours
{iso(snap.start)} .. {iso(snap.end)} (times are UTC, ISO 8601; an hour is named by its start and end).
Low-cost sensor data, unofficial: Kazakhstan's official values come from Kazhydromet's posts.

| file | what |
|---|---|
| `latest.csv`, `latest.geojson` | every node in the latest hour ({iso(snap.hours[-1])}): one row / point feature per node |
| `last24h.csv`, `last24h.geojson` | the same for each of the 24 hours: one row / point feature per node and hour |
| `sensor-community/data.1h.json` | the latest hour's means shaped like Sensor.Community's `data.1h.json` feed |
| `sensor-community/data.24h.json` | the 24 hours' means (at least 18 hours) shaped like its `data.24h.json` |
| `daily/<date>/<node>.csv` | each node's 5-minute windows of one UTC day: raw channels, corrected values beside them |

Columns of the CSV and GeoJSON files: `node`, `name`, `district`, `placement` (outdoor/indoor),
`lat`, `lon` (WGS 84), `hour_start`, `hour_end`; `pm25_ugm3` the hourly PM2.5 mean [µg/m³],
calibrated where a calibration profile corrects the node's sensor (`pm25_calibrated` true), else
the raw sensor value; `pm25_raw_ugm3` the raw mean of the same channel; `so2_ppb` [ppb] likewise;
then per standard the index, its category and status ({std}); status `incomplete` means a
measured pollutant had no sub-index that hour (the PM NowCast needs 2 of the last 3 hours), never
a category. `kz_index` is СИ (the hour's highest 20-minute concentration over ПДК м.р.).
`quality` is calibrated / partly-calibrated / uncalibrated; `stale_since` the end of the node's
last hour with a value when it is more than two hours old. An hour's mean needs 75 % of its
5-minute windows.

Sensor.Community-shaped feeds: a list of entries `{{"id", "sampling_rate", "timestamp", "location":
{{"id", "latitude", "longitude", "altitude", "country", "exact_location", "indoor"}}, "sensor": {{"id",
"pin", "sensor_type": {{"id", "name", "manufacturer"}}}}, "sensordatavalues": [{{"id", "value",
"value_type"}}]}}`; values are strings. `P2` is PM2.5 (calibrated where a profile exists, as on the
map), `P1` the sensor's own PM10 (raw); SO2 entries use `value_type` `SO2` [ppb], which
Sensor.Community does not define. Ids are CRC-32 numbers of our names (`tynys_node` gives the node);
`timestamp` is the end of the averaging period (UTC).

Daily files: `window_start`, `window_end`, each raw channel as the node sent it (`slot.channel`:
`pm.pm25_cf1` µg/m³ CF=1, `so2.we_mv`/`so2.ae_mv` the electrochemical cell's electrodes in mV, `th.t_c`,
`th.rh`), and for each corrected pollutant its value and the profile (model and version) that made
it. Files written now: {len(days)}.
"""
