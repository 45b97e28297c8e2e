"""Index tables as data: one JSON file per standard and version in ``tables/``, read here.

Every number an index uses (breakpoints, bands, ПДК, formula coefficients, categories,
rounding rules, averaging periods) lives in those files with its source, confidence and
effective date; this module only reads and checks them::

    from tynys.aqi import tables
    std = tables.load("us-epa")                       # the version in force today
    std = tables.load("us-epa", at="2020-06-01")      # the version in force then (2015)
    std = tables.load("us-epa", version="2013")       # named explicitly
    t = std.table("pm25", "24h")                      # one pollutant/period: rows, unit, rules
    for std, mask in tables.select("us-epa", times):  # per-value versions for a series
        ...

A file that breaks its own rules (rows out of order, a gap the quantisation cannot close) is a
bug in the data and fails with AssertionError when it is loaded; a name a user got wrong is an
:class:`AqiError` listing what exists.
"""

from __future__ import annotations

import datetime as _dt
import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

from ..errors import TynysError

HERE = Path(__file__).with_name("tables")
QUANTISE = ("truncate", "half-up", "half-even", "none")
ROUNDING = ("half-up", "ceil", "none")
ABOVE = ("extrapolate", "category", "use", "fixed")
COMBINE = ("max", "us-o3", "us-so2", "use-other")  # rules for several periods of one pollutant (index.pollutant_index)


class AqiError(TynysError):
    """Bad input to an index: unknown standard, version, pollutant, period or unit, or a value
    that cannot be scored. The message names what was given and what exists."""


@dataclass(frozen=True)
class Category:
    name: str
    lo: float
    hi: float | None  # None: open-ended
    color: str | None


@dataclass(frozen=True)
class Table:
    """One pollutant and averaging period of one standard version."""

    key: str  # "pm25/24h"
    pollutant: str
    period: str
    unit: str
    quantise: str  # how a concentration is brought to the table's precision
    decimals: int
    lo: np.ndarray  # row lower concentration bounds
    hi: np.ndarray  # row upper bounds; +inf for an open top row
    ilo: np.ndarray  # index at lo
    ihi: np.ndarray  # index at hi
    above: dict  # what happens above the last finite row
    below: dict  # what happens below the first row
    averaging: dict
    confidence: str
    note: str

    @property
    def step(self) -> float:
        return 10.0 ** -self.decimals


@dataclass(frozen=True)
class Standard:
    """One version of one standard, as read from ``tables/<standard>-<version>.json``."""

    id: str
    version: str
    title: str
    effective_from: _dt.date | None
    effective_to: _dt.date | None  # the next dated version's start, exclusive
    kind: str  # breakpoints | ratio | formula
    index_rounding: str
    categories: tuple[Category, ...]
    tables: dict[str, Table]
    reference_temperature_c: float | None
    data: dict = field(repr=False)  # the whole document, for kind-specific parts (ПДК, formula)
    path: Path = field(repr=False, default=None)

    @property
    def name(self) -> str:
        return f"{self.id} {self.version}"

    def pollutants(self) -> list[str]:
        if self.kind == "ratio":
            return list(self.data["limits"])
        if self.kind == "formula":
            return list(self.data["formula"]["terms"])
        return sorted({t.pollutant for t in self.tables.values()})

    def periods(self, pollutant: str) -> list[str]:
        if self.kind == "ratio":
            return list(self.data["periods"])
        return [t.period for t in self.tables.values() if t.pollutant == pollutant]

    def table(self, pollutant: str, period: str) -> Table:
        """The table for *pollutant* averaged over *period*; AqiError naming what exists."""
        pollutant = pollutant_id(pollutant)
        t = self.tables.get(f"{pollutant}/{period}")
        if t is not None:
            return t
        periods = self.periods(pollutant)
        if not periods:
            raise AqiError(
                f"{self.name} has no table for {pollutant}; it covers {', '.join(self.pollutants())}"
            )
        hint = ""
        if self.data.get("hourly", {}).get(pollutant) == ["nowcast"]:
            hint = " (for hourly PM use `tynys aqi nowcast`, which weighs the last 12 hours)"
        raise AqiError(
            f"{self.name} has no {pollutant} table for period {period!r}; it has {', '.join(periods)}{hint}"
        )

    def category_of(self, index: np.ndarray) -> np.ndarray:
        """Category number (0-based, -1 for none) of each index value."""
        lo = np.array([c.lo for c in self.categories], dtype=float)
        idx = np.asarray(index, dtype=float)
        out = np.searchsorted(lo, idx, side="right") - 1
        return np.where(np.isfinite(idx) & (out >= 0), out, -1).astype(np.int8)

    def sources(self) -> list[dict]:
        return self.data["sources"]


# --- names -------------------------------------------------------------------------------

@lru_cache(maxsize=None)
def _pollutants() -> dict:
    return json.loads((HERE / "pollutants.json").read_text(encoding="utf-8"))


def pollutant_facts(pollutant: str) -> dict:
    """Name, molar mass [g/mol] and plausibility limit [ug/m3] of a pollutant."""
    return _pollutants()["pollutants"][pollutant_id(pollutant)]


def report_decimals(pollutant: str, unit: str) -> int:
    """How many decimals a reported concentration of *pollutant* in *unit* keeps (the measurement
    precision of sensor data, ``pollutants.json`` ``report_decimals``; the store keeps full precision)."""
    pid, u = pollutant_id(pollutant), normalise_unit(unit)
    table = _pollutants()["report_decimals"]
    if u not in table.get(pid, {}):
        raise AqiError(f"no reporting precision for {pid} in {u}: add it to tables/pollutants.json report_decimals")
    return int(table[pid][u])


def pollutant_id(name: str) -> str:
    """Canonical pollutant id (``pm25``) for a name a user typed (``PM2.5``, ``pm2_5``)."""
    key = str(name).strip().lower()
    known = _pollutants()["pollutants"]
    if key in known:
        return key
    for pid, facts in known.items():
        if key in facts["aliases"] or key == facts["name"].lower():
            return pid
    raise AqiError(f"unknown pollutant {name!r}; use one of {', '.join(known)}")


# --- loading -----------------------------------------------------------------------------

def _date(value) -> _dt.date | None:
    return None if value is None else _dt.date.fromisoformat(value)


def _read_table(key: str, doc: dict, tables: dict, data: dict) -> Table:
    pollutant, period = key.split("/")
    assert pollutant in _pollutants()["pollutants"], f"{key}: unknown pollutant"
    rows = doc.get("rows")
    if rows is None:  # a period scored on another period's rows (China 2026 PM 1-h)
        rows = tables[doc["same_rows_as"]]["rows"]
    assert doc["quantise"] in QUANTISE, f"{key}: quantise {doc['quantise']!r}"
    a = np.array([[np.inf if v is None else v for v in r] for r in rows], dtype=float)
    lo, hi, ilo, ihi = a.T
    dec = int(doc["decimals"])
    step = 10.0 ** -dec
    # Consistency of the data itself: rows ascend and meet, or leave exactly one step that the
    # quantisation closes, unless the standard documents how a value in a wider gap is treated.
    assert np.all(hi >= lo), f"{key}: a row ends below its start"
    gaps = np.round(lo[1:] - hi[:-1], 9)
    assert np.all(gaps >= 0), f"{key}: rows overlap"
    if doc["quantise"] == "none":
        assert np.all(gaps == 0), f"{key}: rows leave gaps but concentrations are not quantised"
    else:
        wide = gaps > round(step, 9)
        assert not wide.any() or data.get("gaps") == "upper-row", f"{key}: gap wider than {step}"
    assert np.all(np.diff(ilo) >= 0) and np.all(ihi >= ilo), f"{key}: index does not ascend"
    assert np.all(np.isfinite(hi[:-1])), f"{key}: only the last row may be open"
    above = doc.get("above", {"rule": "category"})
    assert above["rule"] in ABOVE, f"{key}: above {above}"
    below = doc.get("below", {"rule": "none"})
    assert below["rule"] in ("none", "use"), f"{key}: below {below}"
    return Table(
        key=key, pollutant=pollutant, period=period, unit=normalise_unit(doc["unit"]),
        quantise=doc["quantise"], decimals=dec, lo=lo, hi=hi, ilo=ilo, ihi=ihi,
        above=above, below=below, averaging=doc["averaging"],
        confidence=doc.get("confidence", "secondary"), note=doc.get("confidence_note", ""),
    )


def _read(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


@lru_cache(maxsize=None)
def _catalogue() -> dict[str, list[Standard]]:
    """All versions of all standards, each list ordered by effective date (undated first)."""
    docs: dict[str, list[tuple[Path, dict]]] = {}
    for path in sorted(HERE.glob("*.json")):
        if path.name == "pollutants.json":
            continue
        doc = _read(path)
        assert path.stem == f"{doc['standard']}-{doc['version']}", f"{path.name}: name does not match its content"
        docs.setdefault(doc["standard"], []).append((path, doc))
    out = {}
    for sid, items in docs.items():
        items.sort(key=lambda pd: (pd[1]["effective_from"] is not None, pd[1]["effective_from"] or ""))
        dated = [d["effective_from"] for _, d in items if d["effective_from"]]
        versions = []
        for path, doc in items:
            start = _date(doc["effective_from"])
            later = [_date(d) for d in dated if start is not None and _date(d) > start]
            assert doc["kind"] in ("breakpoints", "ratio", "formula"), path.name
            assert doc["index_rounding"] in ROUNDING if doc["kind"] != "ratio" else True, path.name
            assert set(doc.get("combine", {}).values()) <= set(COMBINE), f"{path.name}: combine {doc['combine']}"
            tables = {k: _read_table(k, t, doc["tables"], doc) for k, t in doc["tables"].items()}
            versions.append(Standard(
                id=sid, version=doc["version"], title=doc["title"],
                effective_from=start, effective_to=min(later) if later else None,
                kind=doc["kind"], index_rounding=doc.get("index_rounding", "none"),
                categories=tuple(Category(c["name"], c["lo"], c["hi"], c.get("color")) for c in doc["categories"]),
                tables=tables, reference_temperature_c=doc.get("reference_temperature_c"),
                data=doc, path=path,
            ))
        out[sid] = versions
    return out


def standards() -> list[str]:
    """The ids of all standards with at least one table file."""
    return sorted(_catalogue())


def versions(standard: str) -> list[Standard]:
    """All versions of *standard*, oldest first (versions with no verified date first)."""
    cat = _catalogue()
    sid = str(standard).strip().lower()
    if sid not in cat:
        raise AqiError(f"unknown standard {standard!r}; use one of {', '.join(sorted(cat))}")
    return cat[sid]


def _as_date(at) -> _dt.date:
    if isinstance(at, _dt.datetime):
        return at.astimezone(_dt.timezone.utc).date() if at.tzinfo else at.date()
    if isinstance(at, _dt.date):
        return at
    if isinstance(at, (int, np.integer, float)):
        return _dt.datetime.fromtimestamp(int(at), _dt.timezone.utc).date()
    try:
        return _dt.date.fromisoformat(str(at)[:10])
    except ValueError:
        raise AqiError(f"cannot read the date {at!r}; use YYYY-MM-DD or Unix seconds") from None


def load(standard: str, version: str | None = None, at=None) -> Standard:
    """One version of *standard*: named, or the one in force on date *at*, else in force today."""
    vs = versions(standard)
    if version is not None:
        for s in vs:
            if s.version == str(version):
                return s
        raise AqiError(f"{vs[0].id} has no version {version!r}; it has {', '.join(s.version for s in vs)}")
    day = _as_date(at if at is not None else _dt.datetime.now(_dt.timezone.utc))
    return _in_force(vs, day)


def _in_force(vs: list[Standard], day: _dt.date) -> Standard:
    dated = [s for s in vs if s.effective_from is not None]
    if not dated:
        return vs[-1]  # the standard's date is not verified: its only version scores all times
    for s in reversed(dated):
        if s.effective_from <= day:
            return s
    undated = [s.version for s in vs if s.effective_from is None]
    extra = f"; versions with no verified date ({', '.join(undated)}) are used only when named" if undated else ""
    known = ", ".join(f"{s.version} from {s.effective_from}" for s in dated)
    raise AqiError(f"no {vs[0].id} table is known to be in force on {day} ({known}){extra}; "
                   f"name a version to score anyway")


def select(standard: str, times=None, version: str | None = None) -> list[tuple[Standard, np.ndarray | None]]:
    """The versions that score a series: ``[(Standard, mask), ...]``.

    *times* are int64 Unix seconds UTC (one per value); each value is scored with the version in
    force at its time. With *version*, or without *times*, one version scores everything
    (``mask`` is None).
    """
    if version is not None or times is None:
        return [(load(standard, version=version), None)]
    t = np.asarray(times, dtype=np.int64)
    vs = versions(standard)
    dated = [s for s in vs if s.effective_from is not None]
    if not dated:
        return [(vs[-1], None)]
    starts = np.array([_epoch(s.effective_from) for s in dated], dtype=np.int64)
    which = np.searchsorted(starts, t, side="right") - 1
    if (which < 0).any():
        _in_force(vs, _dt.datetime.fromtimestamp(int(t[which < 0].min()), _dt.timezone.utc).date())
    out = []
    for k in np.unique(which):
        mask = which == k
        out.append((dated[k], None if mask.all() else mask))
    return out


def _epoch(day: _dt.date) -> int:
    return int(_dt.datetime(day.year, day.month, day.day, tzinfo=_dt.timezone.utc).timestamp())


# --- units -------------------------------------------------------------------------------

_UNITS = {
    "ug/m3": "ug/m3", "µg/m3": "ug/m3", "µg/m³": "ug/m3", "ug/m³": "ug/m3", "ugm3": "ug/m3", "μg/m3": "ug/m3", "μg/m³": "ug/m3",
    "mg/m3": "mg/m3", "mg/m³": "mg/m3", "mgm3": "mg/m3",
    "ppb": "ppb", "ppm": "ppm",
}


def normalise_unit(unit: str) -> str:
    """``ug/m3``, ``mg/m3``, ``ppb`` or ``ppm`` for the ways people write them."""
    u = _UNITS.get(str(unit).strip().lower().replace(" ", ""))
    if u is None:
        raise AqiError(f"unknown unit {unit!r}; use ug/m3, mg/m3, ppb or ppm")
    return u
