"""Kazakhstan's air-pollution indicators (Kazhydromet practice): multiples of ПДК, exceedance
counts, СИ, НП, ИЗА5 and the four-level pollution grade.

    >>> from tynys.aqi import kz
    >>> kz.multiples([0.40], "pm25", "20min")                 # 0.40 mg/m3 / ПДК м.р. 0.16
    array([2.5])
    >>> a = kz.assess({"so2": so2_20min, "pm25": pm25_20min}, means={"so2": 0.03, "no2": 0.05})
    >>> a.si, a.np, a.iza, a.grade_name()                     # СИ, НП %, ИЗА5, "elevated"

- **multiple of ПДК** = concentration / limit: ПДК м.р. (maximum single, "20min") for single
  20-30 min concentrations, ПДК с.с. (daily mean, "24h") for 24-h means.
- **СИ** (standard index) = the highest single concentration / ПДК м.р.;
  **НП** (highest frequency) = % of single concentrations above ПДК м.р.; both per pollutant over
  the assessment period, the largest over pollutants is reported.
- **ИЗА5** = the sum of the five largest (mean / ПДК с.с.) ** C, C = 1.7, 1.3, 1.0, 0.9 for hazard
  classes 1-4, over a long period (month, year).
- **grade** low / elevated / high / very high from СИ, НП and ИЗА; where they disagree the highest
  decides. Gaps in the published table are closed as ``tables/kz-2022.json`` documents.

Limits and constants are read from ``tables/kz-2022.json`` (with the confidence of each value).
Numbers computed from low-cost sensors are **unofficial**: results carry ``official=False`` and
the label unless the caller states the data come from reference instruments.
Single concentrations are 20-min means: make them with
``averaging.window_means(times, values, 1200)``, never from a coarser average.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from . import tables, units
from .tables import AqiError

STANDARD = "kz"
_LIMIT_NAME = {"single": "ПДК м.р.", "daily": "ПДК с.с."}


def _std(version=None) -> tables.Standard:
    return tables.load(STANDARD, version=version)


def limit(pollutant: str, period: str = "20min", *, version: str | None = None) -> float:
    """The ПДК [mg/m3] that *period* values of *pollutant* are compared with."""
    std = _std(version)
    pid = tables.pollutant_id(pollutant)
    if pid not in std.data["limits"]:
        raise AqiError(f"{std.name} has no ПДК for {pid}; it covers {', '.join(std.data['limits'])}")
    if period not in std.data["periods"]:
        raise AqiError(f"{std.name} has no period {period!r}; use {', '.join(std.data['periods'])}")
    kind = std.data["periods"][period]["limit"]
    value = std.data["limits"][pid][kind]
    if value is None:
        raise AqiError(f"{std.name} has no {_LIMIT_NAME[kind]} for {pid}")
    return float(value)


def limit_name(period: str, *, version: str | None = None) -> str:
    return _LIMIT_NAME[_std(version).data["periods"][period]["limit"]]


def multiples(values, pollutant: str, period: str = "20min", *, unit: str = "mg/m3",
              temperature_c: float | None = None, version: str | None = None) -> np.ndarray:
    """Concentrations as multiples of the ПДК for *period*; NaN where a value is missing,
    negative or implausible."""
    x = units.convert(values, pollutant, unit, "mg/m3", temperature_c=temperature_c)
    cap = tables.pollutant_facts(pollutant)["plausible_max"] / 1000.0  # ug/m3 -> mg/m3
    x = np.where((x >= 0) & (x <= cap), x, np.nan)
    return x / limit(pollutant, period, version=version)


def reaches(multiple, level: dict) -> np.ndarray:
    """Whether multiples count for an ``exceedance_levels`` entry: above it (1 ПДК: "above ПДК") or
    at least it (``"counts": "at_least"``: ВЗ is 10 ПДК or more)."""
    m = np.asarray(multiple, dtype=float)
    return m >= level["multiple"] if level.get("counts") == "at_least" else m > level["multiple"]


def exceedances(multiple, *, axis: int = -1, version: str | None = None) -> dict[float, np.ndarray]:
    """How many values reach each level of ``exceedance_levels`` (above 1 ПДК; 10 ПДК or more) along *axis*."""
    return {lv["multiple"]: np.sum(reaches(multiple, lv), axis=axis) for lv in _std(version).data["exceedance_levels"]}


def si(singles, pollutant: str, *, axis: int = -1, **kw) -> np.ndarray:
    """СИ: the highest single (20-min) concentration over ПДК м.р., along *axis*."""
    m = multiples(singles, pollutant, "20min", **kw)
    with np.errstate(invalid="ignore"):
        return np.where(np.isfinite(m).any(axis=axis), np.nanmax(np.where(np.isfinite(m), m, -np.inf), axis=axis), np.nan)


def np_percent(singles, pollutant: str, *, axis: int = -1, **kw) -> np.ndarray:
    """НП: the percentage of valid single (20-min) concentrations above ПДК м.р., along *axis*."""
    m = multiples(singles, pollutant, "20min", **kw)
    valid = np.isfinite(m).sum(axis=axis)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(valid > 0, 100.0 * (m > 1).sum(axis=axis) / valid, np.nan)


def iza(means: dict, *, unit: str = "mg/m3", temperature_c: float | None = None,
        version: str | None = None) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """ИЗА5 from period means (*means*: pollutant -> mean concentration). Returns ``(iza5, terms)``;
    substances without a ПДК с.с. are left out (as the table records)."""
    std = _std(version)
    conf = std.data["iza"]
    terms = {}
    for p, mean in means.items():
        pid = tables.pollutant_id(p)
        if pid not in std.data["limits"]:
            raise AqiError(f"{std.name} has no ПДК for {pid}; it covers {', '.join(std.data['limits'])}")
        facts = std.data["limits"][pid]
        if facts["daily"] is None:
            continue
        c = conf["exponents"][str(facts["iza_class"])]
        terms[pid] = multiples(mean, pid, "mean", unit=unit, temperature_c=temperature_c, version=version) ** c
    if not terms:
        raise AqiError("ИЗА needs the period mean of at least one substance with a ПДК с.с.")
    stack = np.stack(np.broadcast_arrays(*terms.values()))
    ok = np.isfinite(stack).all(axis=0)
    top = -np.sort(-np.where(np.isfinite(stack), stack, 0.0), axis=0)[: conf["top"]]
    return np.where(ok, top.sum(axis=0), np.nan), terms


def grade(si=None, np_=None, iza=None, *, version: str | None = None) -> np.ndarray:
    """Pollution grade 1-4 (low, elevated, high, very high); 0 where no indicator is known.
    Each indicator is graded by the table's upper bounds (inclusive); the highest grade decides."""
    std = _std(version)
    grades = std.data["grades"]
    out = None
    for key, val in (("si", si), ("np", np_), ("iza", iza)):
        if val is None:
            continue
        v = np.asarray(val, dtype=float)
        bounds = np.array([g[key] for g in grades[:-1]], dtype=float)
        g = np.where(np.isfinite(v), np.searchsorted(bounds, v, side="left") + 1, 0)
        out = g if out is None else np.maximum(out, g)
    if out is None:
        raise AqiError("a grade needs at least one of СИ, НП or ИЗА")
    return out


def grade_names(g, *, version: str | None = None) -> np.ndarray:
    names = [""] + [x["name"] for x in _std(version).data["grades"]]
    return np.array(names, dtype=object)[np.asarray(g)]


@dataclass
class Assessment:
    """СИ, НП and ИЗА5 over an assessment period and the grade they give.

    ``per_pollutant`` maps pollutant -> {"si", "np", "exceedances"}; ``si``/``np`` are the largest
    over pollutants and ``si_by``/``np_by`` name it; ``official`` is False for sensor data."""

    si: float | None
    si_by: str | None
    np: float | None
    np_by: str | None
    iza: float | None
    iza_terms: dict
    grade: int
    per_pollutant: dict = field(default_factory=dict)
    official: bool = False
    label: str = ""

    def grade_name(self) -> str:
        return str(grade_names(self.grade))


def assess(singles: dict | None = None, means: dict | None = None, *, reference: bool = False,
           unit: str = "mg/m3", temperature_c: float | None = None, version: str | None = None) -> Assessment:
    """Assess a period: *singles* maps pollutant -> 1-D array of single (20-min) concentrations,
    *means* pollutant -> the period's mean. *reference* states the data come from reference
    instruments (otherwise the result is labelled unofficial)."""
    if not singles and not means:
        raise AqiError("nothing to assess: give single (20-min) concentrations and/or period means")
    kw = dict(unit=unit, temperature_c=temperature_c, version=version)
    per = {}
    for p, vals in (singles or {}).items():
        pid = tables.pollutant_id(p)
        m = multiples(np.ravel(vals), pid, "20min", **kw)
        per[pid] = {
            "si": float(si(np.ravel(vals), pid, **kw)),
            "np": float(np_percent(np.ravel(vals), pid, **kw)),
            "n": int(np.isfinite(m).sum()),
            "exceedances": {k: int(v) for k, v in exceedances(m, version=version).items()},
        }
    def top(key):
        vals = {p: d[key] for p, d in per.items() if np.isfinite(d[key])}
        if not vals:
            return None, None
        p = max(vals, key=vals.get)
        return vals[p], p
    s, s_by = top("si")
    n, n_by = top("np")
    z, terms = (None, {})
    if means:
        z_arr, terms = iza({p: np.asarray(v, dtype=float) for p, v in means.items()}, **kw)
        z = float(z_arr) if np.isfinite(z_arr) else None
        terms = {p: float(v) for p, v in terms.items()}
    g = int(grade(si=s if s is not None else np.nan, np_=n if n is not None else np.nan,
                  iza=z if z is not None else np.nan, version=version))
    std = _std(version)
    return Assessment(si=s, si_by=s_by, np=n, np_by=n_by, iza=z, iza_terms=terms, grade=g,
                      per_pollutant=per, official=bool(reference),
                      label="" if reference else std.data["official_note"])
