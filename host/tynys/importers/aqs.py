"""EPA AQS pre-generated hourly files (``hourly_<param>_<year>.csv`` from aqs.epa.gov/aqsweb/airdata).

    from tynys.importers.aqs import read_aqs
    ref = read_aqs("hourly_88101_2023.csv")
    ref.sites()                          # monitor ids 'SS-CCC-NNNN'
    ref.select("37-063-0099").columns["pm25"]

24 quoted columns (``"State Code","County Code","Site Num","Parameter Code","POC",…,"Date GMT",
"Time GMT","Sample Measurement","Units of Measure",…``; aqs.epa.gov/aqsweb/airdata/FileFormats.html).
Times come from the GMT columns (hour beginning), so no zone is needed. A second POC at a site
is kept as ``<name>_poc<N>``. Outdoor temperature (62101, reported in °F) becomes ``t_c`` in °C.
``meta["sites"]`` gives each site's ``Latitude``/``Longitude`` (the files name no site); the
values are hourly (``meta["interval_s"]`` 3600).
"""

from __future__ import annotations

import numpy as np

from ..timeutil import parse_times
from .scan import read_header, scan
from .table import Table, long_to_wide, require_columns, site_info

SOURCE = "aqs"

# AQS parameter code -> Tynys name.
VARIABLE_MAP = {
    "88101": "pm25", "88502": "pm25", "81102": "pm10", "42401": "so2", "42602": "no2",
    "44201": "o3", "42101": "co", "62101": "t_c", "62201": "rh",
}
UNITS = {
    "Micrograms/cubic meter (LC)": "µg/m³", "Micrograms/cubic meter (25 C)": "µg/m³",
    "Parts per billion": "ppb", "Parts per million": "ppm", "Degrees Fahrenheit": "°F",
    "Degrees Centigrade": "°C", "Percent relative humidity": "%",
}
EXPECTED = ["State Code", "County Code", "Site Num", "Parameter Code", "POC", "Parameter Name",
            "Date GMT", "Time GMT", "Sample Measurement", "Units of Measure"]


def read_aqs(path) -> Table:
    """Read an AQS hourly file; ``site`` is ``SS-CCC-NNNN`` (state, county, site number)."""
    header = read_header(path)
    require_columns(path, header, EXPECTED, "AQS hourly")
    optional = [c for c in ("Latitude", "Longitude") if c in header]
    texts = ["State Code", "County Code", "Site Num", "Parameter Code", "POC", "Parameter Name", "Units of Measure"]
    s = scan(path, numbers=["Sample Measurement"], texts=texts + optional,
             times={("Date GMT", "Time GMT"): lambda cells, first: parse_times(cells, tz="UTC", what=str(path),
                                                                              first_row=first, implausible="mark")})
    t, ok = s.timed(("Date GMT", "Time GMT"), "Date GMT")
    get = {c: s.text(c)[ok] for c in texts + optional}
    code, poc = get["Parameter Code"], get["POC"]
    keep = np.isin(code, list(VARIABLE_MAP))
    site = np.char.add(np.char.add(np.char.add(np.char.add(np.char.zfill(get["State Code"], 2), "-"),
                                               np.char.zfill(get["County Code"], 3)), "-"),
                       np.char.zfill(get["Site Num"], 4))
    name = np.array([VARIABLE_MAP.get(c, "") for c in code.tolist()], dtype=object)
    first = {}
    for st, c, p in zip(site[keep].tolist(), code[keep].tolist(), poc[keep].tolist()):
        first.setdefault((st, c), p)
    extra = keep & (poc != np.array([first.get((st, c), p) for st, c, p in zip(site.tolist(), code.tolist(), poc.tolist())]))
    name[extra] = [f"{n}_poc{p}" for n, p in zip(name[extra], poc[extra])]
    unit = np.array([UNITS.get(u, u) for u in get["Units of Measure"].tolist()], dtype=object)
    info = site_info(site, lat=get.get("Latitude"), lon=get.get("Longitude"))
    table = long_to_wide(path, SOURCE, time=t[keep], site=site[keep], name=name[keep].astype(str),
                         value=s.number("Sample Measurement")[ok][keep], unit=unit[keep],
                         label=get["Parameter Name"][keep],
                         meta={"ignored_params": sorted(set(code[~keep].tolist())), "sites": info, "interval_s": 3600})
    table.dropped.update(s.dropped)
    table.notes += s.notes()
    return table
