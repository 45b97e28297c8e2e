"""OpenAQ measurement CSVs: the S3 archive layout and the v3 Explorer download.

    from tynys.importers.openaq import read_openaq
    t = read_openaq("location-2178-20240101.csv.gz")
    t.columns["pm25"], t.units["pm25"]

Archive (``s3://openaq-data-archive/records/csv.gz/…``): ``location_id,sensors_id,location,
datetime,lat,lon,parameter,units,value`` with ISO times carrying their offset. The Explorer
download names the columns ``location_id,…,parameter,value,unit,datetimeUtc,…``. Times always
carry a zone here, so none is asked for. ``site`` is the location id when a file holds several;
``meta["sites"]`` gives each location's name and coordinates where the file has them.
"""

from __future__ import annotations

import numpy as np

from ..timeutil import parse_times
from .scan import read_header, scan
from .table import ImportFormatError, Table, long_to_wide, site_info

SOURCE = "openaq"

# OpenAQ parameter name -> Tynys name.
VARIABLE_MAP = {
    "pm1": "pm1", "pm25": "pm25", "pm10": "pm10", "so2": "so2", "no2": "no2", "o3": "o3", "co": "co",
    "temperature": "t_c", "relativehumidity": "rh",
}
# Layouts: (time column, unit column).
LAYOUTS = {"archive": ("datetime", "units"), "explorer": ("datetimeUtc", "unit")}


def read_openaq(path) -> Table:
    """Read an OpenAQ CSV (archive or Explorer layout) into a wide table."""
    header = read_header(path)
    layout = next((k for k, (tc, uc) in LAYOUTS.items() if tc in header and uc in header), None)
    need = ["location_id", "parameter", "value"]
    if layout is None or any(c not in header for c in need):
        raise ImportFormatError(
            f"{path}: not an OpenAQ CSV; columns found: {', '.join(header)}; expected: "
            "location_id, parameter, value and datetime+units (archive) or datetimeUtc+unit (Explorer)")
    tcol, ucol = LAYOUTS[layout]
    optional = [(k, c) for k, c in (("name", "location"), ("name", "location_name"), ("lat", "lat"), ("lon", "lon"),
                                     ("lat", "latitude"), ("lon", "longitude")) if c in header]
    s = scan(path, numbers=["value"], texts=["location_id", "parameter", ucol, *(c for _, c in optional)],
             times={tcol: lambda cells, first: parse_times(cells, what=str(path), first_row=first, implausible="mark")})
    t, ok = s.timed(tcol, tcol)
    param = s.text("parameter")[ok]
    keep = np.isin(param, list(VARIABLE_MAP))
    name = np.array([VARIABLE_MAP.get(p, "") for p in param.tolist()])
    loc = s.text("location_id")[ok]
    info = site_info(loc, **{k: s.text(c)[ok] for k, c in optional})
    table = long_to_wide(path, SOURCE, time=t[keep], site=loc[keep], name=name[keep], value=s.number("value")[ok][keep],
                         unit=s.text(ucol)[ok][keep], label=param[keep],
                         meta={"layout": layout, "ignored_params": sorted(set(param[~keep].tolist())), "sites": info})
    table.dropped.update(s.dropped)
    table.notes += s.notes()
    return table
