"""The static site: ``index.html`` with the map, legend, headline, index switcher, time slider and
language switch, the front-end libraries copied from ``web/node_modules`` (no CDN), the texts of
``web/i18n/*.json`` and the snapshot's data as script files (they load from a folder opened
with ``file://`` too, where a browser refuses to fetch JSON).

    site.write(snap, folder, tiles=site.OSM)

What the site loads first is small (the index and category of each node and hour, per standard);
a node's 24-hour series and data quality load when its panel opens (``data/nodes/<k>.js``, the
details of nodes ``50k .. 50k+49`` in the order of ``data/site.js``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import districts
from ..aqi import tables
from .folder import Folder
from .snapshot import PublishError, Snapshot
from ..timeutil import iso

WEB = Path(__file__).with_name("web")
LEAFLET = WEB / "node_modules" / "leaflet"
LANGS = ("kk", "ru", "en")
PAGES = ("index.html", "app.js", "style.css")
CHUNK = 50  # nodes per detail file: a few kB each, and not a file per node for a city of thousands
DECIMALS = {"pm25": 1, "pm25_raw": 1, "pm25_corrected": 1, "so2": 1}  # µg/m³ and ppb: the sensors' precision
INDEX_DECIMALS = {"kz": 2}  # СИ; the breakpoint indices are whole numbers
STATUS_CODE = {"incomplete": "i", "missing": "-", "too-few-nodes": "-"}  # else "x": not scorable (negative, implausible)


@dataclass(frozen=True)
class Tiles:
    url: str
    attribution: str


# OpenStreetMap's own tiles: fine for a small site with attribution; a busy site should use its own
# tile server (operations.osmfoundation.org/policies/tiles).
OSM = Tiles("https://tile.openstreetmap.org/{z}/{x}/{y}.png",
            '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors')


def texts() -> dict:
    """The site's texts per language, from ``web/i18n/<lang>.json``; Kazakhstan's grade names come
    from its table (``tynys/aqi/tables/kz-*.json`` names them in Russian and Kazakh)."""
    out = {lang: json.loads((WEB / "i18n" / f"{lang}.json").read_text(encoding="utf-8")) for lang in LANGS}
    for k, g in enumerate(tables.load("kz").data["grades"]):
        for lang, name in (("en", g["name"]), ("ru", g["ru"]), ("kk", g["kk"])):
            out[lang].setdefault(f"cat.kz.{k}", name[:1].upper() + name[1:])
    return out


def write(snap: Snapshot, folder: Folder, *, tiles: Tiles | None = OSM, open_data: dict | None = None) -> Path:
    """Write the site into *folder*; returns the path of ``index.html``."""
    dist = LEAFLET / "dist"
    if not (dist / "leaflet.js").is_file():
        raise PublishError(f"the site's map library is not installed ({dist}): run make setup "
                           f"(it runs npm ci in {WEB})")
    for name in ("leaflet.js", "leaflet.css"):
        folder.copy(dist / name, f"vendor/leaflet/{name}")
    folder.copy(LEAFLET / "LICENSE", "vendor/leaflet/LICENSE")
    for name in PAGES[1:]:
        folder.copy(WEB / name, f"assets/{name}")
    folder.write("assets/texts.js", "window.TYNYS_TEXTS = " + _dumps(texts()) + ";\n")
    doc = document(snap, tiles=tiles, open_data=open_data)
    folder.write("data/site.js", "window.TYNYS_SITE = " + _dumps(doc) + ";\n")
    for k in range(0, len(snap.nodes), CHUNK):
        part = [node_detail(snap, i) for i in range(k, min(k + CHUNK, len(snap.nodes)))]
        folder.write(f"data/nodes/{k // CHUNK}.js", f"window.TYNYS_NODES({_dumps(part)});\n")
    return folder.copy(WEB / "index.html", "index.html")


def _dumps(obj) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


def _nums(a, decimals: int = 1) -> list:
    a = np.asarray(a, dtype=float)
    r = np.round(a, decimals)
    out = [None if v != v else (int(v) if decimals == 0 else v) for v in r.tolist()]
    return out


def _codes(category, status) -> str:
    """One character per hour: the category number, else why there is none (i incomplete, - no value,
    x a value no table scores)."""
    return "".join(str(int(c)) if c >= 0 else STATUS_CODE.get(s, "x") for c, s in zip(category.tolist(), status.tolist()))


def document(snap: Snapshot, *, tiles: Tiles | None = OSM, open_data: dict | None = None) -> dict:
    """The site's data (``data/site.js``): what the page needs at first load."""
    city = snap.city
    nodes = []
    numbered = [s.id for s in snap.standards if not _banded(snap, s.id)]
    for i, n in enumerate(snap.nodes):
        idx = {s.id: {"c": _codes(snap.index[s.id].category[i], snap.index[s.id].status[i])} for s in snap.standards}
        for sid in numbered:
            idx[sid]["v"] = _nums(snap.index[sid].index[i], INDEX_DECIMALS.get(sid, 0))
        q = snap.quality[i]
        nodes.append({"id": n.id, "name": n.name, "district": n.district, "placement": n.placement,
                      "lat": _round(n.lat), "lon": _round(n.lon),
                      "quality": {"state": q["state"], "stale": q["stale"], "stale_since": q["stale_since"],
                                  "flagged": bool(q["flags"])}, "index": idx})
    area = {s.id: {"v": [_nums(r, INDEX_DECIMALS.get(s.id, 0)) for r in snap.area_index[s.id].index],
                   "c": [_codes(c, st) for c, st in zip(snap.area_index[s.id].category, snap.area_index[s.id].status)],
                   "main": [list(r) for r in snap.area_index[s.id].main.tolist()]} for s in snap.standards}
    cells = []
    if city is not None:
        points = [(n.lat, n.lon) for n, ok in zip(snap.nodes, snap.located) if ok]
        cells = [{"name": k, "ring": [list(p) for p in v]} for k, v in districts.areas(city, points).items()]
    return {
        "format": "tynys-site/1",
        "generated": iso(snap.generated), "start": iso(snap.start), "end": iso(snap.end),
        "hours": snap.hours.tolist(),
        "utc_offset_s": city.utc_offset_s if city else 0,
        "city": {"name": city.name, "title": city.title, "lat": city.lat, "lon": city.lon} if city else None,
        "default_standard": snap.default,
        "standards": [{"id": s.id, "version": s.version, "title": s.title,
                       "categories": [{"name": c.name, "color": c.color, "lo": c.lo}
                                      for c in tables.load(s.id, version=s.version).categories],
                       "measured": list(s.measured), "missing": list(s.missing)} for s in snap.standards],
        "rules": {"statistic": snap.rules.statistic, "min_nodes": snap.rules.min_nodes, "trim": snap.rules.trim},
        "tiles": {"url": tiles.url, "attribution": tiles.attribution} if tiles else None,
        "areas": snap.areas,
        "area_values": {"pm25": [_nums(r) for r in snap.area_values["pm25"]], "so2": [_nums(r) for r in snap.area_values["so2"]],
                        "nodes": snap.area_values["nodes"].tolist(), "basis": [list(r) for r in snap.area_values["basis"].tolist()]},
        "area_index": area,
        "districts": cells,
        "nodes": nodes,
        "node_chunk": CHUNK,
        "notes": [{"key": n.key, "params": n.params, "text": n.text} for n in snap.notes],
        "open_data": open_data,
    }


def _banded(snap: Snapshot, sid: str) -> bool:
    """A banded index (EEA): each value is its category's number (category k has the value k + 1),
    so the page derives the number from the category. Read from the values, not the table: Kazakhstan's
    grades are numbered 1..4 too, but its index is СИ, a ratio the page must show as it is."""
    sc = snap.index[sid]
    ok = sc.category >= 0
    return bool(np.array_equal(sc.index[ok], sc.category[ok] + 1.0))


def _round(x):
    return None if x is None else round(x, 5)  # about a metre


def node_detail(snap: Snapshot, i: int) -> dict:
    """One node's 24 hours and data quality (in ``data/nodes/<k>.js``, loaded when its panel opens)."""
    v = snap.values
    return {"id": snap.nodes[i].id,
            **{k: _nums(v[k][i], d) for k, d in DECIMALS.items()},
            "calibrated": {p: [bool(x) for x in v[f"{p}_calibrated"][i].tolist()] for p in ("pm25", "so2")},
            "channels": snap.channels[i], "quality": snap.quality[i],
            "main": {s.id: list(snap.index[s.id].main[i].tolist()) for s in snap.standards}}
