"""Result documents for concentrations typed by a person: what ``tynys aqi value``, ``nowcast``,
``index``, ``standards`` and ``convert`` print, as plain dicts (the CLI only renders them).

    >>> from tynys.aqi import results
    >>> results.value_rows([35.9], "pm25", "24h", "us-epa")[0]["index"]             # 102
    >>> doc = results.index_document(results.parse_items(["o3:8h=0.078", "pm25:24h=35.9"]))
    >>> doc["index"], doc["main_pollutant"]                                         # (126, 'o3')
    >>> results.index_document({("so2", "20min"): [0.4, 0.9]}, "kz")["grade"]      # 'elevated'

Each function dispatches on the standard's kind (``breakpoints``: sub-indices and the highest of
them; ``ratio``: Kazakhstan's multiples of ПДК; ``formula``: Canada's AQHI), never on its name.
Typed values are checked first (:func:`check_typed`): a negative, infinite or implausible
concentration is an :class:`AqiError` naming it, not a silent "no index".
"""

from __future__ import annotations

import math

import numpy as np

from . import aqhi, kz, nowcast as _nowcast, tables, units
from .breakpoints import IMPLAUSIBLE, STATUS
from .index import overall, pollutant_index, sub_index
from .tables import AqiError, Standard


def numbers(texts) -> np.ndarray:
    """Typed numbers as floats; ``nan`` is a missing value. AqiError for anything else."""
    out = []
    for v in texts:
        try:
            out.append(float(v))
        except ValueError:
            raise AqiError(f"{v!r} is not a number (write a missing hour as nan)") from None
    return np.array(out)


def check_typed(values, pollutant: str, unit: str | None) -> None:
    """Refuse typed concentrations that cannot be air: negative, infinite, or (in a mass unit)
    above the plausibility limit of ``tables/pollutants.json``. Gases in ppb are checked by the
    table (status ``implausible``, refused by :func:`value_rows`)."""
    for v in values:
        if v < 0:
            raise AqiError(f"{pollutant} value {v:g} is negative: a concentration cannot be below 0; check the input")
        if math.isinf(v):
            raise AqiError(f"{pollutant} value {v} is not a concentration")
    if unit in ("ug/m3", "mg/m3"):
        ug = units.convert(values, pollutant, unit, "ug/m3")
        if np.any(ug > tables.pollutant_facts(pollutant)["plausible_max"]):
            _implausible(pollutant, float(np.nanmax(values)), unit)


def _implausible(pollutant, v, unit):
    cap = tables.pollutant_facts(pollutant)["plausible_max"]
    raise AqiError(f"{pollutant} value {v:g} {unit} is above the plausible limit {cap:g} ug/m3 "
                   f"(tables/pollutants.json): check the unit")


def default_period(std: Standard, pollutant: str, period: str | None) -> str:
    """*period*, or the only period the standard has for *pollutant* (Kazakhstan: single, 20 min)."""
    if period is not None:
        return period
    periods = std.periods(tables.pollutant_id(pollutant))
    if len(periods) == 1:
        return periods[0]
    if std.kind == "ratio":
        return "20min"
    raise AqiError(f"{std.name} has several periods for {pollutant} ({', '.join(periods)}): choose one with --period")


def conversion_temperature(std: Standard, temperature_c: float | None) -> float | None:
    """The temperature [°C] gases are converted at for *std*: the one named, else the standard's
    reference temperature, else its documented convention (Kazakhstan: 20 °C, ``kz-2022.json``)."""
    if temperature_c is not None:
        return temperature_c
    if std.reference_temperature_c is not None:
        return std.reference_temperature_c
    return std.data.get("conversion_temperature_c")


def _unit_of(std: Standard, pollutant: str, period: str | None) -> str | None:
    if std.kind == "ratio":
        return "mg/m3"
    if period is None:
        return None
    try:
        return std.table(pollutant, period).unit
    except AqiError:
        return None


# --- aqi value ------------------------------------------------------------------------------

def value_rows(values, pollutant: str, period: str | None = None, standard: str = "us-epa", *,
               version: str | None = None, at=None, unit: str | None = None, temperature_c: float | None = None,
               reference: bool = False) -> list[dict]:
    """One row per concentration of one pollutant averaged over one period: the index and
    category (breakpoint standards) or the multiple of ПДК and grade (Kazakhstan)."""
    std = tables.load(standard, version=version, at=at)
    pid = tables.pollutant_id(pollutant)
    x = np.asarray(values, dtype=float)
    u = tables.normalise_unit(unit) if unit else None
    check_typed(x, pid, u or _unit_of(std, pid, period))
    return _VALUE_ROWS[std.kind](std, pid, period, x, u, temperature_c, reference)


def _breakpoint_rows(std, pid, period, x, u, temperature_c, reference):
    period = default_period(std, pid, period)
    s = sub_index(x, pid, period, std.id, unit=u, version=std.version, temperature_c=temperature_c)
    if (s.status == IMPLAUSIBLE).any():
        _implausible(pid, float(x[s.status == IMPLAUSIBLE][0]), u or s.table.unit)
    rows = s.rows(given=x)
    for r in rows:
        if u and u != r["unit"]:
            r["given_unit"] = u
    return rows


def _ratio_rows(std, pid, period, x, u, temperature_c, reference):
    period = default_period(std, pid, period)
    unit = u or "mg/m3"
    m = kz.multiples(x, pid, period, unit=unit, temperature_c=conversion_temperature(std, temperature_c),
                     version=std.version)
    lim = kz.limit(pid, period, version=std.version)
    grades = kz.grade(si=m, version=std.version) if period == "20min" else np.zeros(m.shape, int)
    names = kz.grade_names(grades, version=std.version)
    digits = std.data["report_decimals"]["multiple"]
    rows = []
    for k, v in enumerate(x):
        mult = None if not np.isfinite(m[k]) else round(float(m[k]), digits)
        rows.append({
            "standard": std.id, "version": std.version, "pollutant": pid, "period": period,
            "unit": unit, "concentration": float(v) if np.isfinite(v) else None,
            "limit": kz.limit_name(period, version=std.version), "limit_mg_m3": lim,
            "multiple": mult,
            "exceeds": [lv["multiple"] for lv in std.data["exceedance_levels"] if mult is not None and kz.reaches(m[k], lv)],
            "grade": names[k] or None,
            "grade_by": "СИ" if period == "20min" and mult is not None else None,
            "official": bool(reference),
            "note": "" if reference else std.data["official_note"],
        })
    return rows


def _formula_rows(std, pid, period, x, u, temperature_c, reference):
    terms = " ".join(f"{p}={v}" for p, v in zip(std.pollutants(), (20, 30, 10)))
    names = [tables.pollutant_facts(p)["name"] for p in std.pollutants()]
    raise AqiError(f"{std.name} combines {and_join(names)} in one formula: use `tynys aqi index --standard {std.id} {terms}`")


def and_join(words) -> str:
    """``["NO2", "O3", "PM2.5"]`` -> ``"NO2, O3 and PM2.5"``."""
    words = list(words)
    return ", ".join(words[:-1]) + " and " + words[-1] if len(words) > 1 else "".join(words)


_VALUE_ROWS = {"breakpoints": _breakpoint_rows, "ratio": _ratio_rows, "formula": _formula_rows}


# --- aqi nowcast ----------------------------------------------------------------------------

def nowcast_rows(values, pollutant: str = "pm25", standard: str = "us-epa", *, version: str | None = None,
                 at=None, unit: str | None = None) -> list[dict]:
    """The NowCast and its index for every hour of hourly means given **oldest first** (the last
    is the current hour; NaN a missing hour). Negative hours count as missing (see
    :func:`tynys.aqi.nowcast.nowcast`)."""
    std = tables.load(standard, version=version, at=at)
    pid = tables.pollutant_id(pollutant)
    if std.data.get("hourly", {}).get(pid) != ["nowcast"]:
        raise AqiError(f"{std.name} does not use the NowCast for {pid} (it does for: "
                       + ", ".join(p for p, r in std.data.get("hourly", {}).items() if r == ["nowcast"]) + ")")
    x = np.asarray(values, dtype=float)
    if np.any(np.isinf(x)):
        raise AqiError("an hourly value is infinite: write a missing hour as nan")
    u = tables.normalise_unit(unit) if unit else None
    nc = _nowcast(x)
    s = sub_index(nc.concentration, pid, "24h", std.id, unit=u, version=std.version)
    rows = []
    for k, r in enumerate(s.rows()):
        rows.append({
            "concentration": r["used"], "index": r["index"], "category": r["category"], "color": r["color"],
            "hour": k + 1 - len(x), "value": _num(x[k]), "nowcast": _num(nc.concentration[k]),
            "weight": _num(nc.weight[k]), "hours_valid": int(nc.hours[k]),
            "status": r["status"] if np.isfinite(nc.concentration[k]) else "incomplete",
            "standard": std.id, "version": std.version, "pollutant": pid, "unit": r["unit"],
        })
    return rows


def _num(x):
    x = float(x)
    return x if math.isfinite(x) else None


def _whole(x):
    x = _num(x)
    return None if x is None else int(x) if x == int(x) else x


# --- aqi index ------------------------------------------------------------------------------

def parse_items(items) -> dict:
    """``["pm25:24h=35.9", "so2:20min=0.4", "so2:20min=0.9"]`` -> ``{(pollutant, period or None):
    array of values}`` (a pollutant and period given several times keeps every value)."""
    parsed: dict = {}
    for item in items:
        key, sep, val = item.partition("=")
        if not sep:
            raise AqiError(f"{item!r}: write pollutant[:period]=value, e.g. pm25:24h=35.9")
        p, _, period = key.partition(":")
        parsed.setdefault((tables.pollutant_id(p), period or None), []).extend(numbers([val]))
    return {k: np.array(v, dtype=float) for k, v in parsed.items()}


def index_document(parsed: dict, standard: str = "us-epa", *, version: str | None = None, at=None,
                   unit: str | None = None, temperature_c: float | None = None, partial: bool = False,
                   reference: bool = False) -> dict:
    """The overall assessment of several pollutants (*parsed* as :func:`parse_items` gives it):
    breakpoint standards the overall index, its category and main pollutant with each pollutant's
    row; Kazakhstan СИ, НП, ИЗА5 and the grade; Canada the AQHI. *partial* computes a breakpoint
    index even where the standard's pollutant requirement is not met (``complete: false``)."""
    std = tables.load(standard, version=version, at=at)
    u = tables.normalise_unit(unit) if unit else None
    for (pid, _), vals in parsed.items():
        check_typed(vals, pid, u if std.kind != "ratio" else None)
    return _INDEX_DOCUMENT[std.kind](std, parsed, u, temperature_c, partial, reference)


def _overall_document(std, parsed, u, temperature_c, partial, reference):
    by_pollutant: dict = {}
    for (pid, period), vals in parsed.items():
        if len(vals) != 1:
            raise AqiError(f"{pid}:{period} given {len(vals)} times: give one value per pollutant and period")
        by_pollutant.setdefault(pid, {})[default_period(std, pid, period)] = vals
    subs = {p: pollutant_index(per, p, std.id, unit=u, version=std.version, temperature_c=temperature_c)
            for p, per in by_pollutant.items()}
    o = overall(subs, std.id, strict=not partial)
    pollutants = []
    for p, s in subs.items():
        r = s.rows()[0]
        r.pop("standard"), r.pop("version")
        r["pollutant"] = p
        pollutants.append(r)
    colors = [c.color for c in std.categories] + [None]
    return {
        "standard": std.id, "version": std.version,
        "index": _whole(o.index[0]),
        "category": o.category_names()[0] or None, "color": colors[o.category[0]],
        "main_pollutant": o.main[0] or None, "status": STATUS[o.status[0]],
        "complete": bool(o.complete[0]), "lacking": o.lacking[0] or None, "pollutants": pollutants,
        "note": "" if o.complete[0] else o.why(0),
    }


def _formula_document(std, parsed, u, temperature_c, partial, reference):
    vals = {pid: v for (pid, _), v in parsed.items()}
    need = std.pollutants()
    missing = [p for p in need if p not in vals]
    if missing:
        raise AqiError(f"{std.name} needs {and_join(need)} ({std.data['averaging']['hours']}-h means); "
                       f"missing: {', '.join(missing)}")
    units_in = {p: u for p in need if p != "pm25"} if u else None
    s = aqhi.aqhi(vals["no2"], vals["o3"], vals["pm25"], units_in=units_in, temperature_c=temperature_c,
                  version=std.version)
    colors = [c.color for c in std.categories] + [None]
    return {"standard": std.id, "version": std.version, "index": _whole(s.index[0]),
            "aqhi": _num(s.concentration[0]), "category": s.category_names()[0] or None,
            "color": colors[s.category[0]], "status": STATUS[s.status[0]],
            "pollutants": [{"pollutant": p, "value": float(vals[p][0])} for p in need]}


def _ratio_document(std, parsed, u, temperature_c, partial, reference):
    singles, means = {}, {}
    for (pid, period), vals in parsed.items():
        period = period or "20min"
        if period == "20min":
            singles[pid] = vals
        elif period == "mean":
            if len(vals) != 1:
                raise AqiError(f"{pid}:mean given {len(vals)} times: give one period mean")
            means[pid] = vals[0]
        else:
            raise AqiError(f"{std.id} index takes pollutant:20min=value (single concentrations) and "
                           f"pollutant:mean=value (period means for ИЗА); got period {period!r}")
    a = kz.assess(singles, means or None, reference=reference, unit=u or "mg/m3",
                  temperature_c=conversion_temperature(std, temperature_c), version=std.version)
    digits = std.data["report_decimals"]
    r = lambda v, k: None if v is None else round(v, digits[k])  # noqa: E731
    return {"standard": std.id, "version": std.version, "grade": a.grade_name() or None,
            "si": r(a.si, "multiple"), "si_by": a.si_by, "np_percent": r(a.np, "np_percent"), "np_by": a.np_by,
            "iza5": r(a.iza, "iza"), "iza_terms": {p: round(v, digits["iza"]) for p, v in a.iza_terms.items()},
            "pollutants": {p: {**d, "si": r(d["si"], "multiple"), "np": r(d["np"], "np_percent")}
                           for p, d in a.per_pollutant.items()},
            "official": a.official, "note": a.label}


_INDEX_DOCUMENT = {"breakpoints": _overall_document, "ratio": _ratio_document, "formula": _formula_document}


# --- aqi standards, aqi convert ---------------------------------------------------------------

def standard_rows(standard: str | None = None) -> list[dict]:
    """One row per version of every standard (or of *standard*): dates, kind, pollutants and
    periods, the first source."""
    rows = []
    for sid in [standard] if standard else tables.standards():
        for s in tables.versions(sid):
            verified = s.data.get("effective_from_verified", s.effective_from is not None)
            rows.append({
                "standard": s.id, "version": s.version, "title": s.title,
                "from": str(s.effective_from) + ("" if verified else " (unverified)") if s.effective_from else "not verified",
                "until": str(s.effective_to) if s.effective_to else "",
                "kind": s.kind,
                "pollutants": coverage(s),
                "source": s.sources()[0]["ref"], "url": s.sources()[0]["url"],
            })
    return rows


def coverage(s: Standard) -> str:
    """'pm25 pm10 (24h); o3 (8h/1h)': pollutants grouped by their periods."""
    if s.kind == "formula":
        return " ".join(s.pollutants()) + f" ({s.data['averaging']['hours']}h, combined)"
    groups: dict = {}
    for p in s.pollutants():
        groups.setdefault("/".join(s.periods(p)), []).append(p)
    return "; ".join(f"{' '.join(ps)} ({per})" for per, ps in groups.items())


def convert_rows(values, pollutant: str, from_unit: str, to_unit: str, temperature_c: float | None = None) -> list[dict]:
    """Concentrations converted between ppb/ppm and ug/m3/mg/m3 at *temperature_c*."""
    x = np.asarray(values, dtype=float)
    y = units.convert(x, pollutant, from_unit, to_unit, temperature_c=temperature_c)
    return [{"pollutant": tables.pollutant_id(pollutant), "value": float(a), "unit": tables.normalise_unit(from_unit),
             "converted": float(b), "to": tables.normalise_unit(to_unit), "temperature_c": temperature_c}
            for a, b in zip(x, y)]
