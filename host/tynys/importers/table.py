"""The small uniform table every ``read_<source>`` returns, and the errors readers raise.

A :class:`Table` is columns of numpy arrays: ``time`` (int64 seconds since 1970 UTC), named
float64 value columns under Tynys names (``pm25``, ``rh``, ``so2`` …) with their units, and an
optional ``site`` array when one file holds several monitors or sensors.
"""

from __future__ import annotations

import csv
import gzip
import io
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import TynysError
from ..timeutil import TimeZoneError  # noqa: F401  (readers raise it; importers exports it)


class ImportFormatError(TynysError):
    """The file is not laid out as its format says: the message lists what was found and expected."""


@dataclass
class Table:
    """One file's data: ``time`` [s since 1970 UTC, int64] and value ``columns`` [float64]."""

    source: str
    time: np.ndarray
    columns: dict[str, np.ndarray]
    units: dict[str, str]
    site: np.ndarray | None = None  # str per row, or None for a single-series file
    meta: dict = field(default_factory=dict)
    source_names: dict[str, str] = field(default_factory=dict)  # Tynys name -> column in the file
    qc: dict[str, np.ndarray] = field(default_factory=dict)  # Tynys name -> the source's flag per row ('' = none)

    def __len__(self) -> int:
        return len(self.time)

    def column(self, name: str) -> np.ndarray:
        """A value column by Tynys name or by the file's own column name."""
        if name in self.columns:
            return self.columns[name]
        for tynys_name, original in self.source_names.items():
            if original == name:
                return self.columns[tynys_name]
        raise ImportFormatError(
            f"no column {name!r} in {self.meta.get('path', self.source)}; "
            f"columns found: {', '.join(self.names())}"
        )

    def names(self) -> list[str]:
        return [f"{n} ({self.source_names[n]})" if n in self.source_names and self.source_names[n] != n else n
                for n in self.columns]

    def sites(self) -> list[str]:
        return [] if self.site is None else sorted(set(self.site.tolist()))

    def select(self, site: str) -> "Table":
        """Rows of one site (``site`` as in :meth:`sites`)."""
        if self.site is None:
            return self
        keep = self.site == site
        return Table(self.source, self.time[keep], {k: v[keep] for k, v in self.columns.items()},
                     dict(self.units), self.site[keep], dict(self.meta, site=site), dict(self.source_names),
                     {k: v[keep] for k, v in self.qc.items()})


def open_text(path) -> io.TextIOBase:
    """Open a text file, transparently gunzipping ``.gz``; a UTF-8 BOM is dropped."""
    path = Path(path)
    if not path.is_file():
        raise ImportFormatError(f"{path}: no such file")
    if path.suffix == ".gz":
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8-sig", newline="")
    return open(path, encoding="utf-8-sig", newline="")


def read_rows(path, *, skip: int = 0, delimiter: str = ",") -> tuple[list[str], list[list[str]]]:
    """Header and rows of a delimited file after *skip* preamble lines."""
    with open_text(path) as f:
        for _ in range(skip):
            f.readline()
        rows = list(csv.reader(f, delimiter=delimiter))
    rows = [r for r in rows if r and any(c.strip() for c in r)]
    if not rows:
        raise ImportFormatError(f"{path}: no header row (the file is empty after {skip} preamble lines)")
    return [h.strip() for h in rows[0]], rows[1:]


def require_columns(path, header: list[str], expected: list[str], fmt: str) -> dict[str, int]:
    """Index of each expected column; a missing one names what was found and what is needed."""
    missing = [c for c in expected if c not in header]
    if missing:
        raise ImportFormatError(
            f"{path}: not the {fmt} format: missing column(s) {', '.join(repr(m) for m in missing)}; "
            f"columns found: {', '.join(repr(h) for h in header)}; expected: {', '.join(repr(e) for e in expected)}"
        )
    return {c: header.index(c) for c in expected}


def numbers(cells) -> np.ndarray:
    """Float64 array from text cells; empty or non-numeric cells become NaN."""
    arr = np.char.strip(np.asarray(cells, dtype=str)) if len(cells) else np.zeros(0, dtype=str)
    arr = np.where(arr == "", "nan", arr)
    try:
        return arr.astype(np.float64)
    except ValueError:  # a stray text cell ("n/a", "Calib"): only then go cell by cell
        out = np.full(len(arr), np.nan)
        for i, c in enumerate(arr):
            try:
                out[i] = float(c)
            except ValueError:
                pass
        return out


def long_to_wide(path, source: str, *, time, site, name, value, unit, label, meta=None, flags=None) -> Table:
    """Rows of (site, time, Tynys name, value) -> one row per (site, time), one column per name.

    *unit* and *label* (the file's own parameter text) are per row; the first row of each name wins.
    *flags* (the source's QC flag per row, '' for none) become ``Table.qc``.
    """
    time, site, name = np.asarray(time, np.int64), np.asarray(site, dtype=str), np.asarray(name, dtype=str)
    value, unit = _celsius(name, np.asarray(value, float), np.asarray(unit, dtype=object))
    keys, inv = np.unique(np.rec.fromarrays([site, time]), return_inverse=True)
    columns, units, names, qc = {}, {}, {}, {}
    for n in sorted(set(name.tolist())):
        sel = name == n
        col = np.full(len(keys), np.nan)
        col[inv[sel]] = value[sel]
        first = int(np.flatnonzero(sel)[0])
        columns[n], units[n], names[n] = col, str(unit[first]), str(label[first])
        if flags is not None:
            qc[n] = np.full(len(keys), "", dtype=object)
            qc[n][inv[sel]] = np.asarray(flags)[sel]
    sites = np.asarray(keys.f0, dtype=str)
    one = len(set(sites.tolist())) <= 1
    return Table(source, np.asarray(keys.f1, np.int64), columns, units, site=None if one else sites,
                 meta={"path": str(path), "site": str(sites[0]) if one and len(sites) else None, **(meta or {})},
                 source_names=names, qc=qc)


FAHRENHEIT = {"°f", "f", "deg f", "degrees fahrenheit"}


def _celsius(name, value, unit):
    """A ``t_c`` column is in °C whatever the source used (AQS reports outdoor temperature in °F)."""
    f = np.char.startswith(name.astype(str), "t_c") & np.isin(np.char.lower(np.char.strip(unit.astype(str))),
                                                               list(FAHRENHEIT))
    if not f.any():
        return value, unit
    value, unit = value.copy(), unit.copy()
    value[f] = (value[f] - 32.0) * 5.0 / 9.0
    unit[f] = "°C"
    return value, unit


def site_info(site, **columns) -> dict[str, dict]:
    """Per site id, the first row's descriptive cells (name, lat, lon …) as the file gives them;
    for ``Table.meta["sites"]``. Numbers that do not parse become None."""
    site = np.asarray(site, dtype=str)
    ids, first = np.unique(site, return_index=True)
    out = {}
    for sid, i in zip(ids.tolist(), first.tolist()):
        info = {}
        for key, cells in columns.items():
            if cells is None:
                continue
            cell = str(cells[i]).strip()
            if key in ("lat", "lon"):
                v = numbers([cell])[0]
                info[key] = float(v) if np.isfinite(v) else None
            else:
                info[key] = cell
        out[sid] = info
    return out
