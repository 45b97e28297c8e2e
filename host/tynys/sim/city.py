"""City layouts for ``tynys sim``: one JSON file per city in ``tynys/sim/layouts/``, read here.

    city = load("oskemen")
    city.title, city.utc_offset_s            # 'Oskemen (Ust-Kamenogorsk)', 18000
    city.sites[0].name, city.sources[0].name # where nodes stand, what emits SO2
    places = place(city, 12)                 # 12 node positions (sites reused with an offset)

A layout (format ``tynys-city/1``) names its time zone, its centre, districts with relative
``stoves`` and ``traffic`` factors (the inversion scenario's emissions), sites for nodes, SO2
point sources (position, illustrative emission rate [g/s], effective release height [m]), the
reference stations and the plume scenario's wind. Positions are WGS 84 degrees; each file says
where they come from (``coordinates_source``).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

from ..errors import TynysError

LAYOUTS = Path(__file__).with_name("layouts")
FORMAT = "tynys-city/1"
EARTH_RADIUS_M = 6371000.0
REUSE_SPACING_M = 250.0  # a site used again gets a node this far out per reuse (on a spiral)


class CityError(TynysError):
    """An unknown city, or a layout file that is not right."""


@dataclass(frozen=True)
class District:
    name: str
    lat: float
    lon: float
    stoves: float  # coal/wood stove emissions relative to the city average (inversion scenario)
    traffic: float  # traffic emissions relative to the city average
    note: str = ""


@dataclass(frozen=True)
class Site:
    name: str
    district: str
    lat: float
    lon: float
    kind: str = ""


@dataclass(frozen=True)
class Source:
    id: str
    name: str
    kind: str
    lat: float
    lon: float
    so2_gs: float  # emission rate [g/s], illustrative
    height_m: float  # effective release height [m]: stack plus plume rise
    note: str = ""


@dataclass(frozen=True)
class City:
    name: str
    title: str
    tz: str
    utc_offset_s: int  # local time = UTC + this [s]
    lat: float
    lon: float
    node_prefix: str
    districts: tuple[District, ...]
    sites: tuple[Site, ...]
    sources: tuple[Source, ...]
    reference_stations: tuple[dict, ...]
    plume: dict
    coordinates_source: str
    path: Path

    def district(self, name: str) -> District:
        return next(d for d in self.districts if d.name == name)

    def xy(self, lat, lon):
        """Metres east and north of the centre (equirectangular: fine over a city's 30 km)."""
        import numpy as np

        lat, lon = np.asarray(lat, float), np.asarray(lon, float)
        x = np.radians(lon - self.lon) * EARTH_RADIUS_M * math.cos(math.radians(self.lat))
        return x, np.radians(lat - self.lat) * EARTH_RADIUS_M


@dataclass(frozen=True)
class Place:
    """Where one simulated node stands."""

    node: str
    name: str
    district: str
    lat: float
    lon: float


def names() -> list[str]:
    return sorted(p.stem for p in LAYOUTS.glob("*.json"))


def _offset(text: str, where: str) -> int:
    sign, hh, mm = text[:1], text[1:3], text[4:6]
    if sign not in "+-" or not (hh + mm).isdigit() or len(text) != 6 or text[3] != ":":
        raise CityError(f"{where}: utc_offset {text!r} is not like +05:00")
    return (1 if sign == "+" else -1) * (int(hh) * 3600 + int(mm) * 60)


def load(name: str) -> City:
    """The layout of city *name* (a file stem in tynys/sim/layouts, or a path to a layout file)."""
    path = Path(name) if name.endswith(".json") else LAYOUTS / f"{name}.json"
    if not path.is_file():
        raise CityError(f"unknown city {name!r}: use one of {', '.join(names())} (or a layout file ending in .json)")
    try:
        d = json.loads(path.read_text())
        if d.get("format") != FORMAT:
            raise CityError(f"{path}: format {d.get('format')!r}, expected {FORMAT!r}")
        districts = tuple(District(**x) for x in d["districts"])
        city = City(
            name=d["name"], title=d["title"], tz=d["tz"], utc_offset_s=_offset(d["utc_offset"], str(path)),
            lat=float(d["centre"]["lat"]), lon=float(d["centre"]["lon"]), node_prefix=d["node_prefix"],
            districts=districts, sites=tuple(Site(**x) for x in d["sites"]),
            sources=tuple(Source(**x) for x in d["sources"]), reference_stations=tuple(d.get("reference_stations", ())),
            plume=d["plume"], coordinates_source=d["coordinates_source"], path=path)
    except (ValueError, KeyError, TypeError) as e:
        raise CityError(f"{path}: not a {FORMAT} layout ({type(e).__name__}: {e})") from None
    known = {x.name for x in districts}
    for s in city.sites:
        if s.district not in known:
            raise CityError(f"{path}: site {s.name!r} is in district {s.district!r}, which the layout does not list ({', '.join(sorted(known))})")
    if not city.sites:
        raise CityError(f"{path}: no sites for nodes")
    return city


def place(city: City, n: int) -> list[Place]:
    """Node positions for *n* nodes: the city's sites in order, then the sites again, each reuse
    a node REUSE_SPACING_M further out on a spiral around its site (same district, name "(2)")."""
    if n < 1:
        raise CityError(f"{n} nodes: simulate at least one")
    width = max(2, len(str(n)))
    out = []
    for i in range(n):
        site = city.sites[i % len(city.sites)]
        k = i // len(city.sites)  # how often this site was used before
        lat, lon, name = site.lat, site.lon, site.name
        if k:
            r, a = REUSE_SPACING_M * k, math.radians(137.5 * (k + i))  # golden angle: reuses spread out
            lat += math.degrees(r * math.cos(a) / EARTH_RADIUS_M)
            lon += math.degrees(r * math.sin(a) / (EARTH_RADIUS_M * math.cos(math.radians(site.lat))))
            name = f"{site.name} ({k + 1})"
        out.append(Place(f"{city.node_prefix}-{i + 1:0{width}d}", name, site.district, round(lat, 5), round(lon, 5)))
    return out
