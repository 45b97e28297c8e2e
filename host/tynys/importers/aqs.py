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

from .table import Table, long_to_wide, numbers, read_rows, require_columns, site_info
from ..timeutil import parse_times

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
    header, rows = read_rows(path)
    ix = require_columns(path, header, EXPECTED, "AQS hourly")
    cols = list(zip(*rows))
    get = {c: np.char.strip(np.asarray(cols[i], dtype=str)) for c, i in ix.items()}
    t = parse_times((d + " " + h for d, h in zip(get["Date GMT"], get["Time GMT"])), tz="UTC", what=str(path))
    code, poc = get["Parameter Code"], get["POC"]
    keep = np.isin(code, list(VARIABLE_MAP))
    site = np.char.add(np.char.add(np.char.add(np.char.add(np.char.zfill(get["State Code"], 2), "-"),
                                               np.char.zfill(get["County Code"], 3)), "-"),
                       np.char.zfill(get["Site Num"], 4))
    name = np.array([VARIABLE_MAP.get(c, "") for c in code.tolist()], dtype=object)
    first = {}
    for s, c, p in zip(site[keep].tolist(), code[keep].tolist(), poc[keep].tolist()):
        first.setdefault((s, c), p)
    extra = keep & (poc != np.array([first.get((s, c), p) for s, c, p in zip(site.tolist(), code.tolist(), poc.tolist())]))
    name[extra] = [f"{n}_poc{p}" for n, p in zip(name[extra], poc[extra])]
    unit = np.array([UNITS.get(u, u) for u in get["Units of Measure"].tolist()], dtype=object)
    optional = {c: cols[header.index(c)] for c in ("Latitude", "Longitude") if c in header}
    info = site_info(site, lat=optional.get("Latitude"), lon=optional.get("Longitude"))
    return long_to_wide(path, SOURCE, time=t[keep], site=site[keep], name=name[keep].astype(str),
                        value=numbers(get["Sample Measurement"])[keep], unit=unit[keep],
                        label=get["Parameter Name"][keep],
                        meta={"ignored_params": sorted(set(code[~keep].tolist())), "sites": info, "interval_s": 3600})
