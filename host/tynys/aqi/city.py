"""A city's (and each district's) hourly value from many cheap nodes, with explicit rules.

    >>> from tynys.aqi import city
    >>> pm = city.city_values(pm25,                       # nodes x hours, hourly means [ug/m3]
    ...                       calibrated=is_calibrated,   # nodes x hours (or per node) bool
    ...                       qa=qa_flags,                # nodes x hours int, 0 = passed QA
    ...                       districts=["Ulba", "Ulba", "Centre", ...],
    ...                       rules=city.Rules(min_nodes=3, statistic="median"))
    >>> pm.areas, pm.value[0], pm.basis_names()[0]        # "city" first, then the districts
    >>> areas, overall = city.city_index(hours, {"pm25": pm, "so2": so2}, "us-epa")
    >>> overall.index, overall.main                        # areas x hours; main = dominant pollutant

Rules, per area and hour (:class:`Rules`):

1. a value counts only if it is finite, not negative and its QA flags have none of the bits in
   ``qa_reject`` (default: any flag rejects);
2. calibrated values are preferred: when at least ``min_nodes`` nodes have a calibrated value,
   only those are used (basis ``calibrated``); otherwise calibrated and raw values together, if
   ``allow_raw`` (basis ``mixed``, or ``raw`` when none is calibrated);
3. with fewer than ``min_nodes`` usable nodes (default 3) the city has no value (basis
   ``too-few-nodes``); a district needs ``district_min_nodes`` (default 1: a district is often
   one or two volunteers' nodes, and ``nodes`` says how many each value rests on — 1 is that
   node's own value; ``None`` applies ``min_nodes`` to districts too);
4. the value is the ``statistic`` of the usable nodes: ``median`` (default, robust to a stuck or
   drifting sensor), ``trimmed`` (mean after cutting ``trim`` of the nodes at each end), ``mean``,
   or ``max`` (the TAD's "highest monitor in the reporting area").

The index is then computed on the city's hourly series with the standard's own averaging
(:func:`city_index`; e.g. the NowCast of the city median), so the dominant pollutant is the one
with the highest sub-index. Pure numpy over ``nodes x hours`` arrays.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import index, series
from .tables import AqiError

BASIS = ("too-few-nodes", "calibrated", "mixed", "raw")
STATISTICS = ("median", "trimmed", "mean", "max")


@dataclass(frozen=True)
class Rules:
    min_nodes: int = 3
    statistic: str = "median"
    trim: float = 0.1
    prefer_calibrated: bool = True
    allow_raw: bool = True
    qa_reject: int = -1  # QA bits that reject a value; -1: any non-zero flag
    district_min_nodes: int | None = 1  # None: min_nodes

    def check(self) -> None:
        if self.statistic not in STATISTICS:
            raise AqiError(f"unknown statistic {self.statistic!r}; use one of {', '.join(STATISTICS)}")
        for name in ("min_nodes", "district_min_nodes"):
            if getattr(self, name) is not None and getattr(self, name) < 1:
                raise AqiError(f"{name} {getattr(self, name)} must be at least 1")
        if not 0 <= self.trim < 0.5:
            raise AqiError(f"trim {self.trim} must be in [0, 0.5): the fraction cut from each end")

    def minimum(self, district: bool) -> int:
        """The fewest usable nodes for a value of the city, or of a district."""
        return self.district_min_nodes if district and self.district_min_nodes is not None else self.min_nodes


@dataclass
class CityValue:
    """Per area (``areas[0]`` is the whole city) and hour: ``value``, ``nodes`` used,
    ``calibrated`` among them, ``lo``/``hi`` the lowest and highest value used, ``basis`` code."""

    areas: list[str]
    value: np.ndarray
    nodes: np.ndarray
    calibrated: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    basis: np.ndarray
    rules: Rules

    def basis_names(self) -> np.ndarray:
        return np.array(BASIS, dtype=object)[self.basis]


def city_values(values, *, calibrated=None, qa=None, districts=None, rules: Rules = Rules()) -> CityValue:
    """The city's and each district's value per hour from ``nodes x hours`` *values*."""
    rules.check()
    v = np.asarray(values, dtype=float)
    if v.ndim != 2:
        raise AqiError(f"values must be nodes x hours (2-D); got shape {v.shape}")
    n_nodes = v.shape[0]
    cal = _per_value(calibrated, v.shape, "calibrated", default=False).astype(bool)
    ok = np.isfinite(v) & (v >= 0)
    if qa is not None:
        flags = _per_value(qa, v.shape, "qa", default=0).astype(np.int64)
        ok &= (flags & rules.qa_reject) == 0
    if districts is None:
        groups = [("city", np.ones(n_nodes, dtype=bool))]
    else:
        d = np.asarray(districts, dtype=object)
        if d.shape != (n_nodes,):
            raise AqiError(f"districts must name one district per node ({n_nodes}); got {d.shape[0] if d.ndim else 0}")
        names = sorted({str(x) for x in d if x is not None and str(x)})
        groups = [("city", np.ones(n_nodes, dtype=bool))] + [(n, d == n) for n in names]
    parts = [_area(v[m], ok[m], cal[m], rules, rules.minimum(k > 0)) for k, (_, m) in enumerate(groups)]
    stack = lambda k: np.stack([p[k] for p in parts])  # noqa: E731
    return CityValue(areas=[g for g, _ in groups], value=stack(0), nodes=stack(1), calibrated=stack(2),
                     lo=stack(3), hi=stack(4), basis=stack(5).astype(np.int8), rules=rules)


def _per_value(x, shape, name, default):
    if x is None:
        return np.full(shape, default)
    a = np.asarray(x)
    if a.shape == shape[:1]:
        return np.broadcast_to(a[:, None], shape)
    if a.shape != shape:
        raise AqiError(f"{name} must be per node ({shape[0]},) or per value {shape}; got {a.shape}")
    return a


def _area(v, ok, cal, rules: Rules, least: int):
    hours = v.shape[1]
    n_cal = (ok & cal).sum(axis=0)
    only_cal = rules.prefer_calibrated & (n_cal >= least)
    usable = ok & (cal | rules.allow_raw)
    use = np.where(only_cal[None, :], ok & cal, usable)
    n = use.sum(axis=0)
    enough = n >= least
    x = np.where(use, v, np.nan)
    s = np.sort(x, axis=0)  # NaN last
    k = np.arange(hours)
    with np.errstate(invalid="ignore", divide="ignore"):
        if rules.statistic == "median":
            lo_i, hi_i = np.maximum((n - 1) // 2, 0), np.maximum(n // 2, 0)
            val = (s[lo_i, k] + s[hi_i, k]) / 2 if s.shape[0] else np.full(hours, np.nan)
        elif rules.statistic == "max":
            val = s[np.maximum(n - 1, 0), k] if s.shape[0] else np.full(hours, np.nan)
        else:
            cut = np.floor(rules.trim * n).astype(int) if rules.statistic == "trimmed" else np.zeros(hours, int)
            cs = np.vstack([np.zeros(hours), np.cumsum(np.nan_to_num(s), axis=0)])
            val = (cs[n - cut, k] - cs[cut, k]) / (n - 2 * cut)
    val = np.where(enough, val, np.nan)
    lo = np.where(enough, np.nanmin(np.where(use, v, np.inf), axis=0) if v.shape[0] else np.nan, np.nan)
    hi = np.where(enough, np.nanmax(np.where(use, v, -np.inf), axis=0) if v.shape[0] else np.nan, np.nan)
    used_cal = (use & cal).sum(axis=0)
    basis = np.where(~enough, 0, np.where(used_cal == n, 1, np.where(used_cal > 0, 2, 3)))
    return val, n, used_cal, lo, hi, basis


def city_index(times, cities: dict[str, CityValue], standard: str = index.DEFAULT_STANDARD, *,
               strict: bool = True, **kw) -> tuple[list[str], index.Overall]:
    """Hourly index per area from city values of several pollutants (pollutant -> CityValue, same
    areas): each pollutant's hourly index by the standard's averaging, then the overall index and
    the dominant (main) pollutant. Returns ``(areas, Overall)`` with ``areas x hours`` arrays."""
    if not cities:
        raise AqiError("no pollutants given for the city index")
    areas = next(iter(cities.values())).areas
    for p, c in cities.items():
        if c.areas != areas:
            raise AqiError(f"{p} was aggregated over areas {c.areas}, not {areas}: use the same districts")
    subs = {p: series.hourly(times, c.value, p, standard, **kw) for p, c in cities.items()}
    return areas, index.overall(subs, standard, strict=strict)
