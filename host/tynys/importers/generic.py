"""Any CSV with a named time column: the documented fallback for data in no known layout.

    from tynys.importers.generic import read_csv
    t = read_csv("colocation.csv", time_column="DAILY", tz="America/New_York",
                 columns={"pm25_cf1": "A_B_Avg", "pm25": "conc", "rh": "humidity_a"},
                 site_column="sensor_index")

- ``time_column``: the column holding times; when not given, the first of ``time``,
  ``timestamp``, ``datetime``, ``date``, ``datetime_utc``, ``time_utc`` (any case) is used.
  Cells are ISO 8601 (``2024-01-31T13:00:00+06:00``, ``2024-01-31 13:00``, ``2024-01-31``),
  slashed dates with ``order="mdy"``/``"dmy"``, or whole Unix seconds (always UTC; 9-10
  digits: ``20240131`` or milliseconds are refused, not misread).
- ``tz``: the zone of times that carry none (``UTC``, ``+06:00``, ``Asia/Almaty``). Times without
  a zone and no ``tz`` are refused: a calibration shifted by hours is worse than none.
- ``columns``: Tynys name -> column in the file. Without it every other numeric column is kept
  under its own name. A unit in brackets in a header (``PM2.5 (µg/m³)``) becomes the unit.
- ``site_column``: the column naming the sensor/site when one file holds several.
"""

from __future__ import annotations

import re

import numpy as np

from ..timeutil import parse_times
from .scan import read_header, scan
from .table import ImportFormatError, Sites, Table

SOURCE = "csv"
TIME_CANDIDATES = ("time", "timestamp", "datetime", "date", "datetime_utc", "time_utc")
_UNIT = re.compile(r"^.+?\s*[\(\[](.+)[\)\]]$")


def read_csv(path, *, time_column: str | None = None, columns: dict[str, str] | None = None,
             tz: str | None = None, site_column: str | None = None, order: str = "ymd",
             delimiter: str = ",") -> Table:
    """Read a plain CSV; see the module docstring for the rules."""
    header = read_header(path, delimiter=delimiter)
    if time_column is None:
        lower = {h.lower(): h for h in header}
        time_column = next((lower[c] for c in TIME_CANDIDATES if c in lower), None)
        if time_column is None:
            raise ImportFormatError(f"{path}: no time column; columns found: {', '.join(header)}; "
                                    f"name it with --time-column (looked for {', '.join(TIME_CANDIDATES)})")
    wanted = dict(columns) if columns else None
    needed = [time_column] + ([site_column] if site_column else []) + list((wanted or {}).values())
    missing = [c for c in needed if c not in header]
    if missing:
        raise ImportFormatError(f"{path}: missing column(s) {', '.join(repr(m) for m in missing)}; "
                                f"columns found: {', '.join(repr(h) for h in header)}")
    values = list(wanted.values()) if wanted else [h for h in dict.fromkeys(header) if h not in (time_column, site_column)]
    what = f"{path} column {time_column!r}"

    def times(cells, first):
        import pyarrow.compute as pc
        if len(cells) and not cells.null_count and pc.all(pc.utf8_is_digit(cells)).as_py():  # Unix seconds: UTC by definition
            _unix_seconds(path, time_column, cells, first)
            return np.asarray(cells.cast("int64"), dtype=np.int64)
        return parse_times(cells, tz=tz, order=order, what=what, first_row=first, implausible="mark")

    s = scan(path, delimiter=delimiter, numbers=values, texts=[site_column] if site_column else [],
             times={time_column: times})
    t, keep = s.timed(time_column, time_column)
    if wanted is None:  # every numeric column under its own name; a text column is not a value column
        wanted = {h: h for h in values if np.isfinite(s.number(h)).any()}
    out, units = {}, {}
    for name, h in wanted.items():
        out[name] = s.number(h)[keep]
        m = _UNIT.match(h)
        units[name] = m.group(1) if m else ""
    site = Sites(*s.codes(site_column))[keep] if site_column else None
    return Table(SOURCE, t, out, units, site=site, meta={"path": str(path), "time_column": time_column, "tz": tz},
                 source_names=dict(wanted), dropped={h: d for h, d in s.dropped.items() if h in (time_column, *wanted.values())},
                 notes=s.notes())


def _unix_seconds(path, column, cells, first) -> None:
    """Whole numbers are Unix seconds only with 9-10 digits (1973-2286); refuse the look-alikes."""
    import pyarrow.compute as pc
    width = np.asarray(pc.utf8_length(cells))
    bad = np.flatnonzero((width < 9) | (width > 10))
    if len(bad):
        c = cells[int(bad[0])].as_py()
        what = ("a date written YYYYMMDD: write it as YYYY-MM-DD" if len(c) == 8 else
                "Unix milliseconds: divide by 1000" if len(c) == 13 else "not Unix seconds")
        raise ImportFormatError(f"{path} column {column!r}: {c!r} (row {first + int(bad[0])}) looks like {what}; "
                                "whole numbers in a time column are read as Unix seconds (UTC)")
