"""Hourly values and index columns per node and per area, and the rows `tynys aqi node/city`,
the demo and a report print from them.

Reported values are rounded to their measurement precision (``report_decimals`` in
``tables/pollutants.json`` and ``tables/kz-2022.json``: PM2.5 0.1 µg/m³, SO2 1 ppb, multiples of
ПДК 0.01, НП 0.1 %); the columns (numpy arrays) and the store keep full precision. An overall
index that is incomplete has no number and no category: its status says ``incomplete`` (and a
person's table shows that word in the category column).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from ..aqi import city, kz, tables, units as aqi_units
from ..aqi.results import conversion_temperature
from ..timeutil import iso
from .hourly import UNITS, Hourly, Quantity
from .indices import index_columns, kind, prefix


@lru_cache(maxsize=None)
def decimals() -> dict[str, int]:
    """Reported precision per column (decimals); columns not listed are exact (counts, indices, text)."""
    pm = tables.report_decimals("pm25", UNITS["pm25"])
    so2 = tables.report_decimals("so2", UNITS["so2"])
    k = tables.load("kz").data["report_decimals"]
    return {"pm25": pm, "pm25_raw": pm, "pm25_corrected": pm, "pm25_lo": pm, "pm25_hi": pm, "nowcast_pm25": pm,
            "so2_ppb": so2, "kz_si": k["multiple"], "kz_pm25_multiple": k["multiple"], "kz_so2_multiple": k["multiple"],
            "kz_np": k["np_percent"]}


def report(key: str, x):
    """*x* as reported in column *key*: rounded to its precision (an int at 0 decimals)."""
    d = decimals().get(key)
    if d is None or not isinstance(x, float) or x != x:
        return x
    return int(round(x)) if d == 0 else round(x, d)


def _profiles(q: Quantity, i: int, versions) -> str | None:
    """The profiles used, ``barkjohn2021 v1`` (``, `` between several versions)."""
    used = sorted({int(v) for v in np.ravel(versions) if v > 0})
    return ", ".join(q.choices[i].profile(v) for v in used) or None


def node_columns(h: Hourly, standards=("us-epa", "kz"), temperature_c: float | None = None) -> dict:
    """Per node and hour (``nodes x hours`` arrays over ``h.hours``): values and index columns."""
    pm, pm_cal = h.pm25.value()
    so2, so2_cal = h.so2.value()
    cols = {"pm25_raw": h.pm25.raw, "pm25_corrected": h.pm25.corrected, "pm25_profile": _profile_names(h.pm25),
            "pm25": pm, "pm25_calibrated": pm_cal, "so2_ppb": so2, "so2_calibrated": so2_cal,
            "so2_profile": _profile_names(h.so2)}
    cols.update(index_columns(h.hours, {"pm25": pm, "so2": so2}, {q.pollutant: q.value(True)[0] for q in h.quantities},
                              standards, {q.pollutant: q.measured for q in h.quantities},
                              temperature_c=temperature_c, notes=h.notes))
    return cols


def node_rows(h: Hourly, standards=("us-epa", "kz"), temperature_c: float | None = None) -> list[dict]:
    """One row per node and reported hour (node-major); each names the channel and the profile
    (``barkjohn2021 v1``) behind its values."""
    cols = node_columns(h, standards, temperature_c)
    ids = [{"node": n.id, "district": n.district, "pm25_channel": h.pm25.channel[i], "so2_channel": h.so2.channel[i]}
           for i, n in enumerate(h.nodes)]
    return _rows(h, ids, cols, standards)


def _profile_names(q: Quantity) -> np.ndarray:
    """Per node and hour, the profile behind the corrected value (``barkjohn2021 v1``; None: none)."""
    out = np.full(q.version.shape, None, dtype=object)
    for i, c in enumerate(q.choices):
        if c.profiles:
            names = np.array([c.profile(v) for v in range(max(c.profiles) + 1)], dtype=object)
            out[i] = names[np.minimum(q.version[i], len(names) - 1)]
    return out


def city_columns(h: Hourly, standards=("us-epa", "kz"), rules: city.Rules = city.Rules(), districts: bool = True,
                 temperature_c: float | None = None) -> tuple[list[str], dict]:
    """Per area and hour (``areas x hours``): the city (and district) values and index columns;
    outdoor nodes only."""
    out = np.array([n.placement == "outdoor" for n in h.nodes], dtype=bool)
    dist = np.array([n.district for n in h.nodes], dtype=object)[out] if districts else None

    def area_values(q: Quantity, singles: bool) -> city.CityValue:
        v, cal = q.value(singles)
        return city.city_values(v[out], calibrated=cal[out], districts=dist, rules=rules)

    pm, so2 = area_values(h.pm25, False), area_values(h.so2, False)
    measured = {q.pollutant: _per_area(q.measured[out], dist, pm.areas) for q in h.quantities}
    cols = {"nodes": pm.nodes, "calibrated": pm.calibrated, "basis": pm.basis_names(), "pm25": pm.value,
            "pm25_lo": pm.lo, "pm25_hi": pm.hi, "so2_ppb": so2.value, "so2_nodes": so2.nodes, "so2_basis": so2.basis_names()}
    ratio = any(kind(s) == "ratio" for s in standards)
    singles = {q.pollutant: area_values(q, True).value for q in h.quantities} if ratio else {}
    cols.update(index_columns(h.hours, {"pm25": pm.value, "so2": so2.value}, singles, standards, measured,
                              temperature_c=temperature_c, notes=h.notes))
    return pm.areas, cols


def _per_area(measured: np.ndarray, districts, areas: list[str]) -> np.ndarray:
    """Whether any node of each area measures a pollutant (areas as city_values orders them)."""
    if districts is None:
        return np.array([measured.any()])
    return np.array([measured.any()] + [measured[districts == a].any() for a in areas[1:]])


def city_rows(h: Hourly, standards=("us-epa", "kz"), rules: city.Rules = city.Rules(), districts: bool = True,
              temperature_c: float | None = None) -> list[dict]:
    """One row per area ("city" first, then each district) and reported hour (area-major)."""
    areas, cols = city_columns(h, standards, rules, districts, temperature_c)
    return _rows(h, [{"area": a} for a in areas], cols, standards)


def _rows(h: Hourly, ids: list[dict], cols: dict, standards) -> list[dict]:
    rep = h.reported
    hours = [iso(t) for t in h.hours[rep].tolist()]
    flat = {k: np.asarray(v)[:, rep].tolist() for k, v in cols.items()}
    whole = {k for s in standards if kind(s) != "ratio" for k in (prefix(s), *(f"{prefix(s)}_{pol}" for pol in UNITS))}
    ratio = any(kind(s) == "ratio" for s in standards)
    out = []
    for i, head in enumerate(ids):
        for j, hour in enumerate(hours):
            row = {**head, "hour": hour}
            for k, v in flat.items():
                x = v[i][j]
                if isinstance(x, float):
                    x = None if x != x else int(x) if k in whole else report(k, x)
                row[k] = (x or None) if isinstance(x, str) else x
            if ratio:
                row["kz_official"] = False
            out.append(row)
    return out


def node_summary(h: Hourly, standards=("us-epa", "kz"), temperature_c: float | None = None) -> list[dict]:
    """One row per node over the reported hours: windows, mean PM2.5 raw/corrected and SO2, the
    channel and profiles used, the latest and highest index of each standard, and Kazakhstan's
    СИ, НП and grade over the period."""
    hourly_standards = [s for s in standards if kind(s) != "ratio"]
    cols = node_columns(h, hourly_standards, temperature_c)
    rep = h.reported
    out = []
    with np.errstate(all="ignore"):
        for i, n in enumerate(h.nodes):
            row = {"node": n.id, "district": n.district, "placement": n.placement,
                   "windows": int(max(h.pm25.windows[i], h.so2.windows[i])),
                   "hours": int(np.isfinite(cols["pm25"][i, rep]).sum()),
                   "pm25_channel": h.pm25.channel[i], "pm25_raw": _mean("pm25_raw", h.pm25.raw[i, rep]),
                   "pm25_corrected": _mean("pm25_corrected", h.pm25.corrected[i, rep]),
                   "pm25_profile": _profiles(h.pm25, i, h.pm25.version[i, rep]),
                   "so2_ppb": _mean("so2_ppb", cols["so2_ppb"][i, rep]), "so2_profile": _profiles(h.so2, i, h.so2.version[i, rep])}
            for s in standards:
                if kind(s) == "ratio":
                    row.update(_kz_period(h, i, s, temperature_c))
                    continue
                p = prefix(s)
                idx = cols[p][i, rep]
                last = np.flatnonzero(np.isfinite(idx))
                row[p] = int(idx[last[-1]]) if len(last) else None
                row[f"{p}_category"] = cols[f"{p}_category"][i, rep][last[-1]] if len(last) else None
                row[f"{p}_max"] = int(np.nanmax(idx)) if len(last) else None
                row[f"{p}_incomplete_hours"] = int((cols[f"{p}_status"][i, rep] == "incomplete").sum())
            out.append(row)
    return out


def _kz_period(h: Hourly, i: int, standard: str, temperature_c: float | None) -> dict:
    std = tables.load(standard)
    singles = {}
    for q in h.quantities:
        v = q.value(True)[0][i, 3 * h.start:]
        if np.isfinite(v).any():
            singles[q.pollutant] = aqi_units.convert(v, q.pollutant, UNITS[q.pollutant], "mg/m3",
                                                     temperature_c=conversion_temperature(std, temperature_c))
    if not singles:
        return {"kz_si": None, "kz_si_by": None, "kz_np": None, "kz_np_by": None, "kz_grade": None, "kz_official": False}
    a = kz.assess(singles, unit="mg/m3", version=std.version)
    return {"kz_si": report("kz_si", a.si), "kz_si_by": a.si_by, "kz_np": report("kz_np", a.np), "kz_np_by": a.np_by,
            "kz_grade": a.grade_name() or None, "kz_official": False}


def _mean(key: str, v) -> float | None:
    v = v[np.isfinite(v)]
    return report(key, float(v.mean())) if len(v) else None


# --- what a person reads ------------------------------------------------------------------

def table_rows(rows: list[dict], head, standards) -> list[dict]:
    """*rows* as a person's table shows them: the *head* columns, then each standard's columns by
    its kind — breakpoints: the overall index, its category (or ``incomplete``), the main
    pollutant and each pollutant's sub-index (with its category's name for banded standards and
    standards with a pollutant requirement, :func:`named_sub_indices`); ratio: СИ, by which
    pollutant, the grade; formula: the index and category."""
    out = []
    for r in rows:
        row = {k: r.get(k) for k in head}
        for s in standards:
            row.update(_SHOWN[kind(s)](r, prefix(s), s))
        out.append({k: formatted(k, v) for k, v in row.items()})
    return out


def formatted(key: str, v):
    """A reported float with the decimals its precision keeps (35.0 stays "35.0", not "35")."""
    d = decimals().get(key)
    return f"{v:.{d}f}" if d is not None and isinstance(v, float) else v


def category_cell(row: dict, p: str) -> str | None:
    """The category of an overall index, or ``incomplete`` where it has none for that reason."""
    return row.get(f"{p}_category") or ("incomplete" if row.get(f"{p}_status") == "incomplete" else None)


def _breakpoint_cells(r, p, named: bool):
    cells = {p: r.get(p), f"{p}_category": category_cell(r, p), f"{p}_main": r.get(f"{p}_main")}
    for pol in UNITS:
        k = f"{p}_{pol}"
        if k in r:  # with its name where the sub-index is what the standard offers: "3 Moderate"
            cells[k] = f"{r[k]} {r[f'{k}_category']}" if named and r[k] is not None else r[k]
    return cells


def banded(standard: str) -> bool:
    """Whether every table of *standard* is bands (a constant index per row: EEA, UK DAQI)."""
    return all((t.ilo == t.ihi).all() for t in tables.load(standard).tables.values())


def named_sub_indices(standard: str) -> bool:
    """Whether a table names each pollutant's category beside its sub-index: for bands (EEA, UK
    DAQI) and where the overall index has a pollutant requirement (EEA, India), so that a row
    whose overall index is incomplete still reads as a level."""
    return banded(standard) or "requires" in tables.load(standard).data.get("overall", {})


_SHOWN = {
    "breakpoints": lambda r, p, s: _breakpoint_cells(r, p, named_sub_indices(s)),
    "ratio": lambda r, p, s: {k: r.get(k) for k in ("kz_si", "kz_si_by", "kz_grade")},
    "formula": lambda r, p, s: {p: r.get(p), f"{p}_category": category_cell(r, p)},
}
