"""The small uniform table every ``read_<source>`` returns, and the errors readers raise.

A :class:`Table` is columns of numpy arrays: ``time`` (int64 seconds since 1970 UTC), named
float64 value columns under Tynys names (``pm25``, ``rh``, ``so2`` …) with their units, and an
optional ``site`` array when one file holds several monitors or sensors.
"""

from __future__ import annotations

import gzip
import io
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import TynysError
from ..timeutil import TimeZoneError, iso  # noqa: F401  (readers raise TimeZoneError; importers exports it)


class ImportFormatError(TynysError):
    """The file is not laid out as its format says: the message lists what was found and expected."""


@dataclass
class Sites:
    """Which site or sensor each row of a table is from: a code per row into *labels* (a million
    rows of a few sensors are a few MB, not a string per row)."""

    codes: np.ndarray  # int, per row
    labels: list[str]

    @classmethod
    def of(cls, names) -> "Sites":
        labels, codes = np.unique(np.asarray(names, dtype=str), return_inverse=True)
        return cls(codes.ravel().astype(np.int32), labels.tolist())

    def __len__(self) -> int:
        return len(self.codes)

    def __getitem__(self, rows) -> "Sites":
        return Sites(self.codes[rows], self.labels)

    def names(self) -> list[str]:
        """The sites that have rows, sorted."""
        return sorted(self.labels[i] for i in np.flatnonzero(np.bincount(self.codes, minlength=len(self.labels))))

    def rows(self, site: str) -> np.ndarray:
        """Which rows are *site*'s (a bool mask)."""
        return self.codes == self.labels.index(site) if site in self.labels else np.zeros(len(self.codes), bool)

    def strings(self) -> np.ndarray:
        return np.asarray(self.labels, dtype=str)[self.codes]


@dataclass
class Table:
    """One file's data: ``time`` [s since 1970 UTC, int64] and value ``columns`` [float64]."""

    source: str
    time: np.ndarray
    columns: dict[str, np.ndarray]
    units: dict[str, str]
    site: Sites | None = None  # the site of each row, or None for a single-series file (a str array is made Sites)
    meta: dict = field(default_factory=dict)
    source_names: dict[str, str] = field(default_factory=dict)  # Tynys name -> column in the file
    qc: dict[str, np.ndarray] = field(default_factory=dict)  # Tynys name -> the source's flag per row ('' = none)
    dropped: dict = field(default_factory=dict)  # column -> scan.Dropped: cells not kept (not numbers, out of range)
    notes: list[str] = field(default_factory=list)  # what the reader skipped (rows with the wrong number of cells)

    def __post_init__(self):
        if self.site is not None and not isinstance(self.site, Sites):
            self.site = Sites.of(self.site)

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
        return [] if self.site is None else self.site.names()

    def select(self, site: str) -> "Table":
        """Rows of one site (``site`` as in :meth:`sites`)."""
        if self.site is None:
            return self
        keep = self.site.rows(site)
        return Table(self.source, self.time[keep], {k: v[keep] for k, v in self.columns.items()},
                     dict(self.units), self.site[keep], dict(self.meta, site=site), dict(self.source_names),
                     {k: v[keep] for k, v in self.qc.items()}, self.dropped, self.notes)

    def check_ranges(self, units: dict | None = None) -> None:
        """Values outside their unit's physical range (:data:`PLAUSIBLE`) become NaN, counted in
        :attr:`dropped` (*units* overrides :attr:`units`, e.g. a unit given on the command line)."""
        from .scan import Dropped
        for name, values in self.columns.items():
            bounds = plausible((units or {}).get(name) or self.units.get(name, ""))
            if bounds is None:
                continue
            with np.errstate(invalid="ignore"):
                far = (values < bounds[0]) | (values > bounds[1])
            if far.any():
                k = int(np.flatnonzero(far)[0])
                col = self.source_names.get(name, name)
                self.dropped.setdefault(col, Dropped()).add("out_of_range", int(far.sum()),
                                                            f"{values[k]:g} at {iso(self.time[k])}")
                values[far] = np.nan

    def messages(self, units: dict | None = None) -> list[str]:
        """One line per column with dropped values, and the reader's notes: for the user to see."""
        where = self.meta.get("path", self.source)
        out = list(self.notes)
        for col, d in self.dropped.items():
            if d.total:
                name = next((k for k, v in self.source_names.items() if v == col), col)
                unit = (units or {}).get(name) or self.units.get(name, "")
                bounds = plausible(unit)
                rng = f"{bounds[0]:g}…{bounds[1]:g} {unit}" if bounds else ""
                out.append(d.note(f"{where} column {col!r}", rng))
        return out


# Physical bounds by unit — not quality limits: a value outside is a logger's fill value (-9999,
# -1e308), a unit mix-up or a typo, never air. Generous on purpose: the highest hourly PM ever
# reported (dust storms, wildfire smoke) stays far below 1e5 µg/m³, and reference monitors report
# small negative hours, which are kept. Units compared as _unit_key spells them.
PLAUSIBLE = {"ug/m3": (-100.0, 1e5), "mg/m3": (-0.1, 100.0), "ppb": (-100.0, 1e6), "ppm": (-0.1, 1000.0),
             "%": (0.0, 100.0), "°c": (-90.0, 90.0), "°f": (-130.0, 194.0), "pa": (3e4, 1.2e5), "hpa": (300.0, 1200.0),
             "mv": (-5000.0, 5000.0)}


def _unit_key(unit: str) -> str:
    u = unit.strip().lower().replace("µ", "u").replace("μ", "u").replace("³", "3").replace(" ", "")
    return {"c": "°c", "degc": "°c", "degreescentigrade": "°c", "f": "°f", "micrograms/cubicmeter": "ug/m3"}.get(u, u)


def plausible(unit: str) -> tuple[float, float] | None:
    """The physical range of values in *unit*, or None when the unit is unknown or not given."""
    return PLAUSIBLE.get(_unit_key(unit)) if unit else None


def open_text(path) -> io.TextIOBase:
    """Open a text file, transparently gunzipping ``.gz``; a UTF-8 BOM is dropped."""
    path = Path(path)
    if not path.is_file():
        raise ImportFormatError(f"{path}: no such file")
    if path.suffix == ".gz":
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8-sig", newline="")
    return open(path, encoding="utf-8-sig", newline="")


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
