"""Sensor exports in the layout of EPA sensortoolkit's example data ("Instrument Data Export").

    from tynys.importers.sensortoolkit import read_sensortoolkit
    t = read_sensortoolkit("toco_toucan_RT01_raw.csv", tz="-05:00")
    t.time, t.columns["pm25"], t.units["pm25"]          # int64 UTC s, float64, 'µg/m³'

The file opens with a preamble (``Serial ID: …``, ``Instrument Data Export``, the date span, a
Windows time-zone label such as ``(UTC-05:00) Eastern Time (US & Canada)``, ``Averaging period:
1 minute``, a blank line), then ``Time,<PARAM> (<unit>),…,Inlet`` with ``M/D/YYYY H:MM`` times.

The zone label is a Windows display name: it shows the *standard* offset even in summer, so
"(UTC-05:00) Eastern Time" may mean a fixed UTC-05:00 clock (what sensortoolkit assumes) or New
York clock time (UTC-04:00 in summer). Where the two readings differ inside the file's span the
reader refuses and asks for ``tz``; where they agree (winter data, zones without daylight saving)
it uses the label. Rows whose ``Inlet`` is not ``Sample`` (zero/span checks) become NaN.
``meta["interval_s"]`` is the preamble's ``Averaging period`` (``1 minute`` -> 60).
"""

from __future__ import annotations

import re

import numpy as np

from ..timeutil import TZ_EXAMPLES, TimeZoneError, Zone, format_offset, localize, parse_times
from .scan import read_header, scan
from .table import ImportFormatError, Table, open_text

SOURCE = "sensortoolkit"

# Parameter prefix of a "<PARAM> (<unit>)" column -> Tynys name.
VARIABLE_MAP = {
    "PM1": "pm1", "PM2.5": "pm25", "PM10": "pm10", "NO2": "no2", "NO": "no", "O3": "o3",
    "SO2": "so2", "CO": "co", "CO2": "co2", "TEMP": "t_c", "RH": "rh", "DP": "dp_c",
}

# Windows time-zone display names -> IANA zone (CLDR supplemental/windowsZones.xml "001" rows).
WINDOWS_ZONES = {
    "Eastern Time (US & Canada)": "America/New_York",
    "Central Time (US & Canada)": "America/Chicago",
    "Mountain Time (US & Canada)": "America/Denver",
    "Pacific Time (US & Canada)": "America/Los_Angeles",
    "Arizona": "America/Phoenix",
    "Coordinated Universal Time": "UTC",
    "Astana": "Asia/Almaty",
    "Ekaterinburg": "Asia/Yekaterinburg",
}

_LABEL = re.compile(r"^\(UTC(?:([+-]\d{2}):(\d{2}))?\)\s*(.*)$")
_COLUMN = re.compile(r"^(.+?)\s*\((.+)\)$")
_PERIOD = re.compile(r"^\s*(\d+)\s*(second|sec|s|minute|min|hour|hr|h)s?\s*$", re.IGNORECASE)


def _preamble(path) -> tuple[list[str], int]:
    with open_text(path) as f:
        lines = []
        for _ in range(40):
            line = f.readline()
            if not line:
                break
            if line.startswith("Time,"):
                return lines, len(lines)
            lines.append(line.strip())
    raise ImportFormatError(f"{path}: not a sensortoolkit export: no 'Time,…' header line in the first 40 lines")


def read_sensortoolkit(path, tz: str | None = None) -> Table:
    """Read one sensor export. *tz* (``-05:00``, ``America/New_York``) overrides the preamble's label.

    Returns a :class:`Table` with ``pm25`` [µg/m³], ``t_c`` [°C], ``rh`` [%] … as the file has them.
    """
    pre, skip = _preamble(path)
    header = read_header(path, skip=skip)
    expected = ["Time"] + [f"{p} (<unit>)" for p in VARIABLE_MAP] + ["Inlet"]
    units, names = {}, {}
    for h in header:
        if h in ("Time", "Inlet"):
            continue
        m = _COLUMN.match(h)
        if m is None or m.group(1) not in VARIABLE_MAP:
            raise ImportFormatError(
                f"{path}: unexpected column {h!r}; columns found: {', '.join(header)}; "
                f"expected: {', '.join(expected)}"
            )
        name = VARIABLE_MAP[m.group(1)]
        units[name], names[name] = m.group(2), h
    if "Time" not in header or not names:
        raise ImportFormatError(f"{path}: not a sensortoolkit export; columns found: {', '.join(header)}; "
                                f"expected: {', '.join(expected)}")
    # Wall-clock times first (read as if UTC): which zone they are in may need all of them (the label).
    s = scan(path, skip=skip, numbers=list(names.values()), texts=["Inlet"] if "Inlet" in header else [],
             times={"Time": lambda cells, first: parse_times(cells, tz="UTC", order="mdy", what=str(path),
                                                             first_row=first, implausible="mark")})
    wall, keep = s.timed("Time", "Time")
    columns = {name: s.number(h)[keep] for name, h in names.items()}
    if "Inlet" in header:
        off = s.text("Inlet")[keep] != "Sample"
        for v in columns.values():
            v[off] = np.nan
    serial = next((p.split(":", 1)[1].strip() for p in pre if p.startswith("Serial ID:")), None)
    label = next((p for p in pre if p.startswith("(UTC")), None)
    if tz is None:
        tz = _zone_from_label(path, label, wall)
    t = localize(wall, Zone(tz), what=str(path))
    meta = {"path": str(path), "serial": serial, "tz": str(tz), "tz_label": label}
    period = next((p.split(":", 1)[1] for p in pre if p.startswith("Averaging period:")), "")
    m = _PERIOD.match(period)
    if m:
        meta["interval_s"] = int(m.group(1)) * {"s": 1, "m": 60, "h": 3600}[m.group(2)[0].lower()]
    return Table(SOURCE, t, columns, units, meta=meta, source_names=names, dropped=s.dropped, notes=s.notes())


def _zone_from_label(path, label: str | None, wall: np.ndarray) -> str:
    if label is None:
        raise TimeZoneError(f"{path}: the preamble has no time-zone line and the times carry none; "
                            f"say which zone they are in with {TZ_EXAMPLES}")
    m = _LABEL.match(label)
    if m is None:
        raise TimeZoneError(f"{path}: cannot read the time-zone line {label!r}; pass --tz")
    hours = m.group(1) or "+00"
    fixed = (-1 if hours[0] == "-" else 1) * (abs(int(hours)) * 3600 + int(m.group(2) or 0) * 60)
    fixed_spec = format_offset(fixed)
    region = m.group(3).strip()
    iana = WINDOWS_ZONES.get(region)
    if iana is None:
        raise TimeZoneError(f"{path}: the preamble says {label!r}; that zone may or may not keep daylight saving. "
                            f"Pass --tz {fixed_spec} if the logger kept that offset all year, "
                            "or its IANA zone (e.g. --tz Asia/Almaty)")
    clock = wall - localize(wall, Zone(iana), what=str(path))  # offset of the region's clock per row
    differ = clock != fixed
    if differ.any():
        dst = format_offset(int(clock[differ][0]))
        raise TimeZoneError(
            f"{path}: the preamble says {label!r}, which is ambiguous here: as a fixed UTC{fixed_spec} clock "
            f"(what sensortoolkit assumes) or as {iana} clock time (UTC{dst} under daylight saving) the times "
            f"of {int(differ.sum())} of {len(wall)} rows differ by "
            f"{abs(int(clock[differ][0]) - fixed) / 3600:g} h; pass --tz {fixed_spec} or --tz {iana}"
        )
    return fixed_spec
