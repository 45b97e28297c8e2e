"""File readers, one module per source (pvlib ``iotools`` style): ``read_<source>(path)`` returns a
:class:`~tynys.importers.table.Table` (int64 UTC seconds + named float64 columns with units) and
each module has a ``VARIABLE_MAP`` from the source's names to Tynys names.

    from tynys.importers import read
    t = read("airnowtech_example_reference_data.csv")    # format detected from the header
    t = read("export.csv", tz="-05:00")                  # zone for times that carry none

| source | module | reader |
|---|---|---|
| sensortoolkit sensor export (with its preamble) | ``sensortoolkit`` | ``read_sensortoolkit`` |
| AirNow-Tech export | ``airnowtech`` | ``read_airnowtech`` |
| EPA AQS hourly CSV | ``aqs`` | ``read_aqs`` |
| OpenAQ CSV (archive, Explorer) | ``openaq`` | ``read_openaq`` |
| Sensor.Community archive CSV | ``sensor_community`` | ``read_sensor_community`` |
| any CSV with a named time column | ``generic`` | ``read_csv`` |

Readers only read: storing is ``tynys import``'s job.
"""

from __future__ import annotations

from .airnowtech import read_airnowtech
from .aqs import read_aqs
from .generic import read_csv
from .openaq import read_openaq
from .sensor_community import read_sensor_community
from .sensortoolkit import read_sensortoolkit
from .table import ImportFormatError, Table, TimeZoneError, open_text

__all__ = ["Table", "ImportFormatError", "TimeZoneError", "detect", "read", "read_airnowtech", "read_aqs",
           "read_csv", "read_openaq", "read_sensor_community", "read_sensortoolkit"]

FORMATS = {
    "sensortoolkit": read_sensortoolkit, "airnowtech": read_airnowtech, "aqs": read_aqs,
    "openaq": read_openaq, "sensor_community": read_sensor_community, "csv": read_csv,
}


def detect(path) -> str:
    """Name of the format of *path*, from its first lines."""
    with open_text(path) as f:
        head = [f.readline() for _ in range(8)]
    first = head[0].strip()
    if first.startswith("Serial ID:") or any(h.startswith("Averaging period:") for h in head):
        return "sensortoolkit"
    if first.startswith("sensor_id;sensor_type;"):
        return "sensor_community"
    cells = {c.strip().strip('"') for c in first.split(",")}
    if {"Param AQS", "Date (UTC)", "Time (UTC)"} <= cells:
        return "airnowtech"
    if {"Parameter Code", "Sample Measurement", "Date GMT"} <= cells:
        return "aqs"
    if {"location_id", "parameter", "value"} <= cells and (cells & {"datetime", "datetimeUtc"}):
        return "openaq"
    return "csv"


def read(path, fmt: str | None = None, *, tz: str | None = None, keep_flagged: bool = False, **csv_options) -> Table:
    """Read *path* in format *fmt* (detected when None). *tz* is used where times carry no zone;
    *keep_flagged* keeps AirNow-Tech values with a non-zero QC code (``Table.qc`` names them).
    Values that are not numbers or outside their unit's physical range are dropped and counted
    (``Table.messages()`` says where).

    *csv_options* (``time_column``, ``columns``, ``site_column``, ``order``) apply to plain CSV.
    """
    fmt = fmt or detect(path)
    if fmt not in FORMATS:
        raise ImportFormatError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
    if fmt == "csv":
        table = read_csv(path, tz=tz, **csv_options)
    elif fmt == "sensortoolkit":
        table = read_sensortoolkit(path, tz=tz)
    elif fmt == "airnowtech":
        table = read_airnowtech(path, keep_flagged=keep_flagged)
    else:
        table = FORMATS[fmt](path)
    table.check_ranges()
    return table
