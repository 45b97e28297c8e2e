"""Sensor.Community archive files (``archive.sensor.community/<day>/<day>_<type>_sensor_<id>.csv``).

    from tynys.importers.sensor_community import read_sensor_community
    t = read_sensor_community("2024-01-01_sds011_sensor_1234.csv")
    t.columns["pm25"]                        # from column P2; P1 is PM10

``;``-separated: ``sensor_id;sensor_type;location;lat;lon;timestamp;`` then the type's values
(SDS011 ``P1;durP1;ratioP1;P2;durP2;ratioP2``, PMS ``P1;P2;P0``, DHT22 ``temperature;humidity``,
BME280 ``pressure;altitude;pressure_sealevel;temperature;humidity``). The archive writes its
timestamps in UTC without an offset (feinstaub-api ``export_as_csv.py``), so they are read as UTC.
``site`` is the sensor id when a file holds several sensors; ``meta["sites"]`` gives each sensor's
type, location id and coordinates (rounded to 3 decimals by the archive).
"""

from __future__ import annotations

import numpy as np

from ..timeutil import parse_times
from .scan import read_header, scan
from .table import ImportFormatError, Sites, Table, numbers

SOURCE = "sensor_community"

# Archive column -> (Tynys name, unit). P1 is PM10 and P2 is PM2.5 (not the other way round).
VARIABLE_MAP = {
    "P0": ("pm1", "µg/m³"), "P1": ("pm10", "µg/m³"), "P2": ("pm25", "µg/m³"),
    "temperature": ("t_c", "°C"), "humidity": ("rh", "%"), "pressure": ("p_pa", "Pa"),
    "pressure_sealevel": ("p_sealevel_pa", "Pa"), "altitude": ("altitude_m", "m"),
}
IGNORED = {"durP1", "ratioP1", "durP2", "ratioP2", "noise_LAeq", "noise_LA_min", "noise_LA_max"}
FIXED = ["sensor_id", "sensor_type", "location", "lat", "lon", "timestamp"]


def read_sensor_community(path) -> Table:
    """Read one archive file (UTC times)."""
    header = read_header(path, delimiter=";")
    if header[:6] != FIXED:
        raise ImportFormatError(f"{path}: not the Sensor.Community archive format; columns found: {', '.join(header)}; "
                                f"expected first: {';'.join(FIXED)}")
    extra = [h for h in header[6:] if h and h not in VARIABLE_MAP and h not in IGNORED]
    if extra:
        raise ImportFormatError(f"{path}: unexpected column(s) {', '.join(extra)}; columns found: {', '.join(header)}; "
                                f"expected value columns: {', '.join(VARIABLE_MAP)}")
    values = [h for h in header if h in VARIABLE_MAP]
    s = scan(path, delimiter=";", numbers=values, texts=["sensor_id"],
             firsts={"sensor_id": ["sensor_type", "location", "lat", "lon"]},
             times={"timestamp": lambda cells, first: parse_times(cells, tz="UTC", what=str(path), first_row=first,
                                                                  implausible="mark")})
    t, keep = s.timed("timestamp", "timestamp")
    columns, units, names = {}, {}, {}
    for h in values:
        name, unit = VARIABLE_MAP[h]
        columns[name], units[name], names[name] = s.number(h)[keep], unit, h
    codes, labels = s.codes("sensor_id")
    codes = codes[keep]
    used = np.flatnonzero(np.bincount(codes, minlength=len(labels)))
    one = len(used) == 1
    info = {labels[i]: {"sensor_type": d["sensor_type"], "location": d["location"],
                        **{k: _coordinate(d[k]) for k in ("lat", "lon")}}
            for i in used.tolist() for d in [s.firsts["sensor_id"][labels[i]]]}
    first = info[labels[int(used[0])]] if len(used) else {}
    return Table(SOURCE, t, columns, units, site=None if one else Sites(codes, labels),
                 meta={"path": str(path), "site": labels[int(used[0])] if one else None,
                       "sensor_type": first.get("sensor_type"), "location": first.get("location"), "sites": info},
                 source_names=names, dropped=s.dropped, notes=s.notes())


def _coordinate(cell: str) -> float | None:
    v = numbers([cell])[0]
    return float(v) if np.isfinite(v) else None
