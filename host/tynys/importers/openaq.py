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

from .table import ImportFormatError, Table, long_to_wide, numbers, read_rows, site_info
from ..timeutil import parse_times

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
    header, rows = read_rows(path)
    layout = next((k for k, (tc, uc) in LAYOUTS.items() if tc in header and uc in header), None)
    need = ["location_id", "parameter", "value"]
    if layout is None or any(c not in header for c in need):
        raise ImportFormatError(
            f"{path}: not an OpenAQ CSV; columns found: {', '.join(header)}; expected: "
            "location_id, parameter, value and datetime+units (archive) or datetimeUtc+unit (Explorer)")
    tcol, ucol = LAYOUTS[layout]
    cols = list(zip(*rows))
    get = {c: np.char.strip(np.asarray(cols[header.index(c)], dtype=str)) for c in need + [tcol, ucol]}
    t = parse_times(get[tcol], what=str(path))
    param = get["parameter"]
    keep = np.isin(param, list(VARIABLE_MAP))
    name = np.array([VARIABLE_MAP.get(p, "") for p in param.tolist()])
    optional = {k: cols[header.index(c)] for k, c in (("name", "location"), ("name", "location_name"), ("lat", "lat"),
                                                        ("lon", "lon"), ("lat", "latitude"), ("lon", "longitude"))
                if c in header}
    info = site_info(get["location_id"], **optional)
    return long_to_wide(path, SOURCE, time=t[keep], site=get["location_id"][keep], name=name[keep],
                        value=numbers(get["value"])[keep], unit=get[ucol][keep], label=param[keep],
                        meta={"layout": layout, "ignored_params": sorted(set(param[~keep].tolist())), "sites": info})
