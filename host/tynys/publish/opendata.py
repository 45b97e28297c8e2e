"""Open data beside the site (``open-data/``), for journalists, researchers and other maps:

- ``latest.csv`` / ``latest.geojson``: every node's values and indices in the latest hour;
- ``last24h.csv`` / ``last24h.geojson``: the same for each of the 24 hours (one row or point
  feature per node and hour);
- ``sensor-community/data.1h.json`` and ``data.24h.json``: the latest hour's and the 24 hours'
  PM means shaped like Sensor.Community's static feeds, so tools reading those read ours;
- ``daily/<date>/<node>.csv``: each node's 5-minute windows of a complete UTC day, raw channels
  and the corrected values beside them (with the profile that made each), written once;
- ``README.md`` (what each file holds, units, rules) and the licence line.

    files = opendata.write(snap, store, folder, licence="CC BY 4.0")
"""

from __future__ import annotations

import csv
import io
import json
import zlib

import numpy as np

from ..pipeline.channels import pm10_tries, profile_name
from ..pipeline.hourly import UNITS, means as pipeline_means
from ..store import Store
from ..timeutil import iso, isos
from .folder import Folder
from .snapshot import HOUR, Snapshot

DAY = 86400
DIR = "open-data"
LICENCE = "CC BY 4.0 (https://creativecommons.org/licenses/by/4.0/)"
# Sensor.Community's names for the PM sensors it maps (opendata-stuttgart/feinstaub-map-v2,
# src/js/feinstaub-api.js, pm_sensors); our record types -> (name, manufacturer).
SC_TYPES = {"pms5003": ("PMS5003", "Plantower"), "pms7003": ("PMS7003", "Plantower"), "sds011": ("SDS011", "Nova Fitness"),
            "sps30": ("SPS30", "Sensirion")}


def _column(a, decimals: int = 1) -> list:
    """Values rounded to their precision, None where missing."""
    r = np.round(np.asarray(a, dtype=float), decimals)
    return [None if v != v else v for v in r.tolist()]


def _r(x, d: int = 1):
    return None if x is None or x != x else round(float(x), d)


def columns(snap: Snapshot, hours=None) -> dict[str, list]:
    """One row per node and hour (node-major) for the hour numbers *hours* (default all 24), as
    columns of plain values (None where there is none)."""
    j = np.arange(len(snap.hours)) if hours is None else np.asarray(list(hours), dtype=int)
    nodes, v, k = snap.nodes, snap.values, len(j)
    sel = lambda a: np.asarray(a)[:, j].ravel()  # noqa: E731  node-major
    each = lambda values: [x for x in values for _ in range(k)]  # noqa: E731  a node's value on each of its rows
    cols = {"node": each(n.id for n in nodes), "name": each(n.name for n in nodes),
            "district": each(n.district for n in nodes), "placement": each(n.placement for n in nodes),
            "lat": each(n.lat for n in nodes), "lon": each(n.lon for n in nodes),
            "hour_start": [iso(t) for t in snap.hours[j].tolist()] * len(nodes),
            "hour_end": [iso(t + HOUR) for t in snap.hours[j].tolist()] * len(nodes),
            "pm25_ugm3": _column(sel(v["pm25"])), "pm25_raw_ugm3": _column(sel(v["pm25_raw"])),
            "pm25_calibrated": sel(v["pm25_calibrated"]).tolist(), "so2_ppb": _column(sel(v["so2"])),
            "so2_calibrated": sel(v["so2_calibrated"]).tolist()}
    for s in snap.standards:
        sc, key = snap.index[s.id], s.id.replace("-", "_")
        names = np.array([c[0] for c in s.categories] + [None], dtype=object)
        cols[f"{key}_index"] = [None if x is None else (x if s.id == "kz" else int(x))
                                for x in _column(sel(sc.index), 2 if s.id == "kz" else 0)]
        cols[f"{key}_category"] = names[sel(sc.category)].tolist()
        cols[f"{key}_status"] = sel(sc.status).tolist()
    cols["quality"] = each(q["state"] for q in snap.quality)
    cols["stale_since"] = each(q["stale_since"] for q in snap.quality)
    return cols


def _csv(cols: dict[str, list]) -> str:
    """CSV as the commands print it (tynys.rows): empty for None, booleans true/false."""
    cell = lambda x: "" if x is None else ("true" if x else "false") if isinstance(x, bool) else x  # noqa: E731
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(cols)
    # the writer itself writes None as empty: only a column holding booleans is gone through
    w.writerows(zip(*([cell(x) for x in c] if bool in set(map(type, c)) else c for c in cols.values())))
    return buf.getvalue()


_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
_SCALARS = {float, int, bool, type(None)}


def _json_column(values: list) -> list[str]:
    """Each value as JSON text, a column at a time: numbers, booleans and nulls in one call (their
    texts hold no comma), anything else once per distinct value (a node's name on its 24 rows)."""
    if set(map(type, values)) <= _SCALARS:
        return _JSON(values)[1:-1].split(",") if values else []
    seen: dict[str, str] = {}  # strings only: 1 == True and 0.0 == -0.0 as keys, not as texts
    return [_JSON(v) if type(v) is not str else seen[v] if v in seen else seen.setdefault(v, _JSON(v)) for v in values]


def _geojson(cols: dict[str, list]) -> str:
    """The rows with a location as point features: the text ``json.dumps`` makes of them (compact,
    UTF-8), put together from the columns' JSON texts (a thousand nodes' 24 hours: 24,000 features)."""
    props = [k for k in cols if k not in ("lat", "lon")]
    at = [j for j, (lat, lon) in enumerate(zip(cols["lat"], cols["lon"])) if lat is not None and lon is not None]
    pick = (lambda c: c) if len(at) == len(cols["lat"]) else (lambda c: [c[j] for j in at])  # noqa: E731
    texts = [_json_column(pick(cols[k])) for k in ("lon", "lat", *props)]
    feature = ('{"type":"Feature","geometry":{"type":"Point","coordinates":[%s,%s]},"properties":{'
               + ",".join(_JSON(k).replace("%", "%%") + ":%s" for k in props) + "}}")
    return '{"type":"FeatureCollection","features":[' + ",".join(feature % row for row in zip(*texts)) + "]}\n"


def _id(text: str) -> int:
    """A stable integer id (Sensor.Community's ids are integers; ours are names): CRC-32 of the name."""
    return zlib.crc32(text.encode())


def _pm10(store: Store, snap: Snapshot) -> tuple[np.ndarray, np.ndarray]:
    """Each node's PM10, raw (P1 in the feeds: the sensor's own PM10), the first of
    :func:`tynys.pipeline.channels.pm10_tries` with windows: latest-hour and 24-hour means [µg/m³]
    (an hour needs 75 % of its windows, a day 18 hours). The first try comes with the snapshot's
    read; the others, rarely needed, one read per channel name for all the nodes trying it."""
    n = len(snap.nodes)
    tries = {i: t for i in range(n) if (t := pm10_tries(snap.channels[i]["pm25"]["raw"]))}
    hourly = np.full((n, len(snap.hours)), np.nan)
    first = True
    while tries:
        found = set()
        for channel in dict.fromkeys(c[0] for c in tries.values()):
            rows = np.array([i for i, c in tries.items() if c[0] == channel])
            if first and channel in snap.pm10:
                r = snap.pm10[channel]
                r = r.take(np.isin(r.i, rows) & (r.t0 >= snap.start) & (r.t0 < snap.end))
            else:
                r = store.series_many([snap.nodes[i].id for i in rows], channel, snap.start, snap.end)
                r.i = rows[r.i]
            got = np.unique(r.i)
            hourly[got] = pipeline_means(r, n, snap.start, len(snap.hours))[0][got]
            found.update(got.tolist())
        tries = {i: c[1:] for i, c in tries.items() if i not in found and len(c) > 1}
        first = False
    day = np.full(n, np.nan)
    for i, row in enumerate(hourly):
        ok = np.isfinite(row)
        if ok.sum() >= 18:
            day[i] = row[ok].mean()
    return hourly[:, -1].copy(), day


def sensor_community(snap: Snapshot, pm25: np.ndarray, pm10: np.ndarray, so2: np.ndarray, stamp: int) -> list[dict]:
    """Entries shaped like Sensor.Community's ``data.1h.json``: one per node and sensor, values as
    strings, P2 = PM2.5 (calibrated where a profile exists: what the map shows), P1 = PM10 (raw).
    SO2 entries carry value_type ``SO2`` [ppb], which Sensor.Community does not define."""
    types = snap.sensors
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
                        "sensordatavalues": [{"id": _id(f"{sid}/{ts}/{k}"), "value": f"{v:.1f}", "value_type": k}
                                             for k, v in vals if np.isfinite(v)],
                        "tynys_node": n.id})
    return out


def _mean24(a: np.ndarray) -> np.ndarray:
    ok = np.isfinite(a)
    with np.errstate(invalid="ignore", divide="ignore"):
        m = np.where(ok, a, 0).sum(axis=1) / ok.sum(axis=1)
    return np.where(ok.sum(axis=1) >= 18, m, np.nan)


def daily(store: Store, snap: Snapshot, folder: Folder) -> list[str]:
    """``daily/<date>/<node>.csv`` for each complete UTC day the 24 hours reach that is not written
    yet (an archive: a day's file is written once, when the day is over; until then its hours are
    in ``last24h.csv``): every 5-min window, raw channels and corrected values side by side."""
    written = []
    for day0 in range(snap.start // DAY * DAY, snap.end - DAY + 1, DAY):
        date = iso(day0)[:10]
        for i, n in enumerate(snap.nodes):
            rel = f"{DIR}/daily/{date}/{n.id}.csv"
            if folder.path(rel).is_file() and rel in folder.previous:
                folder.keep(rel)
                continue
            text = _day_csv(store, n.id, snap.channels[i], day0, day0 + DAY)
            if text:
                folder.write(rel, text)
                written.append(rel)
    return written


def _day_csv(store: Store, node: str, chans: dict, t0: int, t1: int) -> str:
    raw = store.channel_names(node, t0, t1)  # the day's own: a read that does not grow with the history
    if not raw:
        return ""
    w = store.windows(node, raw, t0, t1)
    if not len(w.t0):
        return ""
    cols = {"window_start": isos(w.t0), "window_end": isos(w.t1)}
    for ch in raw:
        cols[ch] = _column(w.mean[ch], 2)
    for pol in ("pm25", "so2"):
        ch = chans[pol]["corrected"]
        if ch is None:
            continue
        c = store.corrected(node, ch, t0, t1)
        by_record = dict(zip(c.record.tolist(), zip(c.value.tolist(), c.version.tolist())))
        profiles = {p["version"]: profile_name(p["doc"]["model"]) for p in store.profiles(node, ch)}
        unit = c.unit or UNITS[pol]
        got = [by_record.get(r) for r in w.record.tolist()]
        cols[f"{pol}_corrected_{unit.replace('/', '').replace('µ', 'u').replace('³', '3')}"] = \
            [None if g is None or g[0] is None else _r(g[0], 2) for g in got]
        cols[f"{pol}_profile"] = [None if g is None else f"{profiles.get(g[1], '?')} v{g[1]}" for g in got]
    names = list(cols)
    buf = io.StringIO()
    wr = csv.writer(buf, lineterminator="\n")
    wr.writerow(names)
    wr.writerows(zip(*(cols[k] for k in names)))
    return buf.getvalue()


def write(snap: Snapshot, store: Store, folder: Folder, *, licence: str = LICENCE, bulletin: list | None = None) -> dict:
    """Write the open data; returns what the site links to (``{"licence", "files", "bulletin"}``)."""
    last = len(snap.hours) - 1
    latest, day = columns(snap, [last]), columns(snap)
    files = {"latest.csv": _csv(latest), "latest.geojson": _geojson(latest),
             "last24h.csv": _csv(day), "last24h.geojson": _geojson(day)}
    pm10_h, pm10_d = _pm10(store, snap)
    v = snap.values
    feeds = {"sensor-community/data.1h.json": sensor_community(snap, v["pm25"][:, last], pm10_h, v["so2"][:, last], snap.end),
             "sensor-community/data.24h.json": sensor_community(snap, _mean24(v["pm25"]), pm10_d, _mean24(v["so2"]), snap.end)}
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
| `daily/<date>/<node>.csv` | each node's 5-minute windows of one complete UTC day: raw channels, corrected values beside them (written once the day is over; until then its hours are in `last24h.csv`) |

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
it (name and version, ``barkjohn2021 v1``). Files written now: {len(days)}.
"""
