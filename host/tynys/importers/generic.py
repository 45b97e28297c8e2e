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

from .table import ImportFormatError, Table, numbers, read_rows
from ..timeutil import parse_times

SOURCE = "csv"
TIME_CANDIDATES = ("time", "timestamp", "datetime", "date", "datetime_utc", "time_utc")
_UNIT = re.compile(r"^.+?\s*[\(\[](.+)[\)\]]$")


def read_csv(path, *, time_column: str | None = None, columns: dict[str, str] | None = None,
             tz: str | None = None, site_column: str | None = None, order: str = "ymd",
             delimiter: str = ",") -> Table:
    """Read a plain CSV; see the module docstring for the rules."""
    header, rows = read_rows(path, delimiter=delimiter)
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
    cols = dict(zip(header, zip(*rows))) if rows else {h: () for h in header}
    cells = np.char.strip(np.asarray(cols[time_column], dtype=str))
    if len(cells) and np.char.isdigit(cells).all():
        _unix_seconds(path, time_column, cells)
        t = cells.astype(np.int64)  # Unix seconds: UTC by definition
    else:
        t = parse_times(cells, tz=tz, order=order, what=f"{path} column {time_column!r}")
    if wanted is None:
        wanted = {}
        for h in header:
            if h in (time_column, site_column):
                continue
            v = numbers(cols[h])
            if len(v) and np.isfinite(v).any():
                wanted[h] = h
    out, units = {}, {}
    for name, h in wanted.items():
        out[name] = numbers(cols[h])
        m = _UNIT.match(h)
        units[name] = m.group(1) if m else ""
    site = None
    if site_column:
        site = np.char.strip(np.asarray(cols[site_column], dtype=str))
    return Table(SOURCE, t, out, units, site=site,
                 meta={"path": str(path), "time_column": time_column, "tz": tz}, source_names=dict(wanted))


def _unix_seconds(path, column, cells) -> None:
    """Whole numbers are Unix seconds only with 9-10 digits (1973-2286); refuse the look-alikes."""
    width = np.char.str_len(cells)
    bad = np.flatnonzero((width < 9) | (width > 10))
    if len(bad):
        c = str(cells[bad[0]])
        what = ("a date written YYYYMMDD: write it as YYYY-MM-DD" if len(c) == 8 else
                "Unix milliseconds: divide by 1000" if len(c) == 13 else "not Unix seconds")
        raise ImportFormatError(f"{path} column {column!r}: {c!r} (row {int(bad[0]) + 1}) looks like {what}; "
                                "whole numbers in a time column are read as Unix seconds (UTC)")
