"""Index columns over hourly ``rows x hours`` values (rows: nodes or areas), one function per
kind of table — dispatched on the standard's ``kind``, never on its name:

- ``breakpoints`` (US EPA, EEA, UK DAQI, India, China): each pollutant's index from the
  standard's own averaging of the hourly series (:func:`tynys.aqi.series.hourly`: the PM NowCast
  for the US, SO2 1-h/24-h with the "= 200" rule, 24-h running means ...), then the overall
  index, its category and main pollutant. Where a pollutant the row measures has no sub-index
  (the NowCast's first hours, a period hourly data cannot make, a conversion that needs a
  temperature) the overall index is ``incomplete``, never a category from the others.
- ``ratio`` (Kazakhstan): per hour the highest 20-minute multiple of ПДК м.р. per pollutant,
  СИ (the highest of them), which pollutant, and the grade it gives; unofficial (sensor data).
- ``formula`` (Canada's AQHI): needs NO2, O3 and PM2.5; an error names what the nodes lack.

Gases in ppb are converted at *temperature_c* where a table is in a mass unit (default: the
standard's reference temperature; Kazakhstan's documented convention, ``kz-2022.json``).
"""

from __future__ import annotations

import numpy as np

from ..aqi import aqhi, kz, series, tables
from ..aqi.breakpoints import MISSING, STATUS, Scores
from ..aqi.index import overall
from ..aqi.results import and_join, conversion_temperature
from ..aqi.tables import AqiError
from .hourly import UNITS

SHORT = {"us-epa": "aqi", "eea": "eaqi"}  # column prefix per standard; others use their id


def prefix(standard: str) -> str:
    """Column prefix of a standard's index columns: ``aqi`` (US EPA), ``eaqi`` (EEA), else its id."""
    return SHORT.get(standard, standard.replace("-", "_"))


def kind(standard: str) -> str:
    return tables.load(standard).kind


def index_columns(hours, values: dict, singles: dict, standards, measured: dict, *,
                  temperature_c: float | None = None, notes: list | None = None) -> dict:
    """Index columns of every standard in *standards*. *values*: pollutant -> hourly ``rows x
    hours`` (PM2.5 µg/m³, SO2 ppb); *singles*: pollutant -> 20-min ``rows x 3·hours`` (ratio
    standards); *measured*: pollutant -> per-row bool (the row measures it)."""
    notes = notes if notes is not None else []
    cols = {}
    for s in standards:
        std = tables.load(s)
        cols.update(_BY_KIND[std.kind](std, hours, values, singles, measured, temperature_c, notes))
    return cols


def breakpoint_indices(std, hours, values: dict, singles, measured: dict, temperature_c, notes) -> dict:
    """Sub-indices, the overall index, its category, status, main pollutant and the measured
    pollutants it lacks (``<p>_lacking``); US: the NowCast concentration used (``nowcast_pm25``)."""
    p = prefix(std.id)
    subs = {}
    shape = next(iter(values.values())).shape
    for pol, v in values.items():
        if pol != "pm25" and not np.asarray(measured[pol]).any():
            continue
        try:
            subs[pol] = series.hourly(hours, v, pol, std.id, unit=UNITS[pol], temperature_c=temperature_c)
        except AqiError as e:
            notes.append(f"{std.id}: no {pol} index ({e}); the overall index is incomplete where {pol} is measured")
            subs[pol] = Scores(index=np.full(shape, np.nan), category=np.full(shape, -1, np.int8),
                               status=np.full(shape, MISSING, np.int8), concentration=np.full(shape, np.nan),
                               standard=std, bound=np.full(shape, np.nan))
    o = overall(subs, std.id, measured={pol: np.asarray(measured[pol])[:, None] for pol in subs})
    cols = {p: o.index, f"{p}_category": o.category_names(), f"{p}_main": o.main,
            f"{p}_status": np.array(STATUS, dtype=object)[o.status], f"{p}_lacking": o.lacking}
    for pol, s in o.subs.items():
        cols[f"{p}_{pol}"] = s.index
        cols[f"{p}_{pol}_category"] = s.category_names()
    if "pm25" in o.subs and std.data.get("hourly", {}).get("pm25") == ["nowcast"]:
        cols["nowcast_pm25"] = o.subs["pm25"].concentration
    if (o.status == STATUS.index("incomplete")).any() and o.required is not None and not o.required.all():
        notes.append(f"{std.id}: no overall index where the standard's pollutant requirement is not met. "
                     f"{std.data.get('overall', {}).get('requires_note', '')} The table shows each pollutant's "
                     f"sub-index ({p}_pm25 ...)")
    return cols


def ratio_indices(std, hours, values, singles: dict, measured, temperature_c, notes) -> dict:
    """Per hour, from 20-min means: the highest multiple of ПДК м.р. per pollutant, СИ (the
    highest over them), which pollutant, and the grade."""
    t = conversion_temperature(std, temperature_c)
    cols, tops = {}, []
    for pol, v in singles.items():
        m = kz.multiples(v, pol, "20min", unit=UNITS[pol], temperature_c=t, version=std.version)
        m = m.reshape(m.shape[0], -1, 3)
        top = np.where(np.isfinite(m).any(axis=2), np.max(np.where(np.isfinite(m), m, -np.inf), axis=2), np.nan)
        cols[f"kz_{pol}_multiple"] = top
        tops.append(top)
    stack = np.stack(tops)
    has = np.isfinite(stack)
    best = np.argmax(np.where(has, stack, -np.inf), axis=0)
    any_ = has.any(axis=0)
    si = np.where(any_, np.take_along_axis(stack, best[None], axis=0)[0], np.nan)
    cols["kz_si"] = si
    cols["kz_si_by"] = np.where(any_, np.array(list(singles), dtype=object)[best], "")
    cols["kz_grade"] = kz.grade_names(kz.grade(si=si, version=std.version), version=std.version)
    notes.append(std.data["official_note"])
    return cols


def formula_indices(std, hours, values: dict, singles, measured: dict, temperature_c, notes) -> dict:
    """Canada's AQHI from trailing 3-h means of the formula's pollutants, where the nodes measure them all."""
    need = std.pollutants()
    lacking = [q for q in need if q not in values or not np.asarray(measured[q]).any()]
    if lacking:
        have = [tables.pollutant_facts(q)["name"] for q in values if np.asarray(measured[q]).any()]
        names = [tables.pollutant_facts(q)["name"] for q in lacking]
        raise AqiError(f"{std.name} needs {and_join(names)} "
                       f"({std.data['averaging']['hours']}-h means), which these nodes do not measure (they measure "
                       f"{and_join(have) or 'none of its pollutants'}): choose another standard (tynys aqi standards)")
    s = aqhi.hourly(hours, *(values[q] for q in need), temperature_c=temperature_c)
    p = prefix(std.id)
    return {p: s.index, f"{p}_category": s.category_names(), f"{p}_status": np.array(STATUS, dtype=object)[s.status]}


_BY_KIND = {"breakpoints": breakpoint_indices, "ratio": ratio_indices, "formula": formula_indices}
