"""AirNow-Tech reference exports (long format, one value per row), as in sensortoolkit's example.

    from tynys.importers.airnowtech import read_airnowtech
    ref = read_airnowtech("airnowtech_example_reference_data.csv")
    ref.columns["pm25"], ref.units["pm25"]                 # hourly, 'µg/m³'

Columns: ``Agency, Site, Site AQS, Param, Param AQS, POC, Method, Duration, Date (UTC),
Time (UTC), Date (LST), Time (LST), Offset (LST), Value, Unit, QC Code``. Times are taken from
the UTC columns (hour beginning), so no zone is needed. Rows with a QC code other than 0
become NaN unless ``keep_flagged=True``; either way ``Table.qc`` holds the code of each flagged
value. A second POC of the same parameter is kept as ``<name>_poc<N>``; several sites in one file
give ``Table.site`` (the AQS id). ``meta["sites"]`` names each site (``Site``), ``meta["interval_s"]``
is the averaging period (``Duration``, e.g. ``1 Hr``) when the file has one throughout.
"""

from __future__ import annotations

import re

import numpy as np

from ..timeutil import parse_times
from .scan import read_header, scan
from .table import Table, long_to_wide, require_columns, site_info

SOURCE = "airnowtech"

# AQS parameter code -> Tynys name (codes: aqs.epa.gov/aqsweb/documents/codetables/parameters.html).
VARIABLE_MAP = {
    "88101": "pm25", "88502": "pm25", "81102": "pm10", "42401": "so2", "42602": "no2",
    "44201": "o3", "42101": "co", "62101": "t_c", "62201": "rh",
}
UNITS = {"UG/M3": "µg/m³", "PPB": "ppb", "PPM": "ppm", "C": "°C", "PERCENT": "%"}
EXPECTED = ["Site AQS", "Param", "Param AQS", "POC", "Date (UTC)", "Time (UTC)", "Value", "Unit", "QC Code"]
_DURATION = re.compile(r"^\s*(\d+)\s*(hr|hour|min|minute)s?\s*$", re.IGNORECASE)


def read_airnowtech(path, keep_flagged: bool = False) -> Table:
    """Read an AirNow-Tech export into one wide hourly table per site (time = hour beginning, UTC)."""
    header = read_header(path)
    require_columns(path, header, EXPECTED, "AirNow-Tech export")
    optional = [c for c in ("Site", "Agency", "Duration") if c in header]
    s = scan(path, numbers=["Value"], texts=["Site AQS", "Param", "Param AQS", "POC", "Unit", "QC Code",
                                                            *optional],
             times={("Date (UTC)", "Time (UTC)"): lambda cells, first: parse_times(
                 cells, tz="UTC", order="mdy", what=str(path), first_row=first, implausible="mark")})
    t, ok = s.timed(("Date (UTC)", "Time (UTC)"), "Date (UTC)")
    get = {c: s.text(c)[ok] for c in ("Site AQS", "Param", "Param AQS", "POC", "Unit", "QC Code", *optional)}
    value = s.number("Value")[ok]
    qc = get["QC Code"]
    flagged = qc != "0"
    if not keep_flagged:
        value[flagged] = np.nan
    code, poc = get["Param AQS"], get["POC"]
    keep = np.isin(code, list(VARIABLE_MAP))
    name = np.array([VARIABLE_MAP.get(c, "") for c in code.tolist()], dtype=object)
    # A second monitor (POC) of the same parameter at the site is its own column.
    first = {}
    for c, p in zip(code[keep].tolist(), poc[keep].tolist()):
        first.setdefault(c, p)
    extra = keep & (poc != np.array([first.get(c, p) for c, p in zip(code.tolist(), poc.tolist())]))
    name[extra] = [f"{n}_poc{p}" for n, p in zip(name[extra], poc[extra])]
    unit = np.array([UNITS.get(u.upper(), u) for u in get["Unit"].tolist()], dtype=object)
    site = get["Site AQS"]
    meta = {"ignored_params": sorted(set(code[~keep].tolist())),
            "sites": site_info(site, name=get.get("Site"), agency=get.get("Agency"))}
    durations = set(get["Duration"].tolist()) if "Duration" in get else set()
    m = _DURATION.match(durations.pop()) if len(durations) == 1 else None
    if m:
        meta["interval_s"] = int(m.group(1)) * (3600 if m.group(2).lower().startswith("h") else 60)
    table = long_to_wide(path, SOURCE, time=t[keep], site=site[keep], name=name[keep].astype(str),
                         value=value[keep], unit=unit[keep], label=get["Param"][keep], meta=meta,
                         flags=np.where(flagged, qc, "")[keep])
    table.dropped.update(s.dropped)
    table.notes += s.notes()
    return table
