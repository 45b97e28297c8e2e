"""The hourly pipeline over the store: node windows (raw and corrected) -> hourly means -> indices
per node and for the city and each district. ``tynys aqi node/city`` and the demo call it.

    from tynys import pipeline
    h = pipeline.hourly(store, t0, t1)               # nodes x hours: PM2.5 raw/corrected, SO2 ppb, 20-min means
    pipeline.node_rows(h, ("us-epa", "kz"))          # per node and hour: values, NowCast, AQI, main pollutant, KZ grade
    pipeline.city_rows(h, ("us-epa", "kz"))          # per area ("city", then each district) and hour
    pipeline.node_summary(h)                         # per node over the period (the demo's table)
    pipeline.city_summary(store, t0, t1)             # city_rows(hourly(store, t0, t1))

Rules, in order:

- **Hourly means** come from the stored windows with :func:`tynys.aqi.averaging.window_means`:
  an hour counts when its valid windows cover at least 75 % of it (9 of 12 five-minute windows).
  Windows are weighted by time (each counts for its length), not by their number of sensor
  frames: a window with fewer frames still stands for the same five minutes of air; frames
  decide only whether a window has a value at all (n > 0). Kazakhstan's single concentrations
  are 20-minute means made the same way (3 of 4 windows).
- **Corrected values** (``tynys calibrate apply``) are averaged the same way. Per node and hour the
  value used is the corrected mean where there is one (``calibrated``), else the raw mean.
- **PM2.5**: the raw channel is the one a profile corrects (so raw and corrected describe the same
  signal), else the first of ``pm25_atm``, ``pm25``, ``pm25_cf1`` the node reports.
- **SO2** in ppb: the corrected values of a profiled SO2 channel (an ISB's WE/AE mV through its
  AAN 803 calibration sheet, a profile), or a sensor that reports ppb itself (``so2_ppb``: ZE03, DGS).
  An ISB without a sheet has no SO2 value (a note says so).
- **Indices** use each standard's own averaging of the hourly series (:func:`tynys.aqi.series.hourly`:
  the PM NowCast for the US AQI, SO2 1-h/24-h with the "= 200" rule); the main pollutant is the one
  with the highest sub-index. Kazakhstan: per hour the highest 20-min multiple of ПДК м.р. (СИ) over
  PM2.5 and SO2 and the grade it gives, **unofficial** (sensor data); over a period :func:`node_summary`
  gives СИ, НП and the grade. SO2 ppb -> mg/m³ at *temperature_c* (20 °C unless told: the ПДК's
  reference temperature is not stated in any source read).
- **City and districts** (:func:`tynys.aqi.city.city_values`): outdoor nodes only; per hour at least
  ``min_nodes`` usable nodes (3), their median; calibrated values preferred (only they are used when
  at least ``min_nodes`` have one; ``basis`` says calibrated/mixed/raw). The index is then computed on
  the city's hourly series.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .aqi import averaging, city, index, kz, series, units as aqi_units
from .aqi.breakpoints import STATUS
from .aqi.tables import AqiError
from .calibrate.stored import pollutant_of, profiles
from .store import Node, Store, StoreError
from .timeutil import iso

HOUR = 3600
SINGLE = 1200  # Kazakhstan's single (разовая) concentration: a 20-min mean
LOOKBACK = 24 * HOUR  # hours before the first reported one: NowCast needs 12, the US SO2 24-h mean 24
PM25_RAW = ("pm25_atm", "pm25", "pm25_cf1")
UNITS = {"pm25": "ug/m3", "so2": "ppb"}
KZ_TEMPERATURE_C = 20.0
SHORT = {"us-epa": "aqi", "eea": "eaqi"}  # column prefix per standard; others use their id


@dataclass
class Quantity:
    """One pollutant of every node: hourly means ``raw``/``corrected`` (nodes x hours, NaN where an
    hour is incomplete), the profile ``version`` used (highest in the hour; 0 none), 20-min means
    ``singles_raw``/``singles_corrected`` (nodes x 3·hours), and the channels read per node."""

    pollutant: str
    unit: str
    channel: list
    corrected_channel: list
    raw: np.ndarray
    corrected: np.ndarray
    version: np.ndarray
    singles_raw: np.ndarray
    singles_corrected: np.ndarray
    windows: np.ndarray  # per node: windows with a value in the reported hours

    def value(self, singles: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """``(value, calibrated)``: the corrected mean where there is one, else the raw mean."""
        raw, cor = (self.singles_raw, self.singles_corrected) if singles else (self.raw, self.corrected)
        cal = np.isfinite(cor)
        return np.where(cal, cor, raw), cal


@dataclass
class Hourly:
    """Hourly node values over ``hours`` (int64 hour starts, UTC); rows are reported from ``start``
    (the hours before it only feed the NowCast and running means)."""

    hours: np.ndarray
    start: int
    nodes: list[Node]
    pm25: Quantity
    so2: Quantity
    notes: list[str] = field(default_factory=list)

    @property
    def reported(self) -> slice:
        return slice(self.start, len(self.hours))


def hourly(store: Store, t0: int | None = None, t1: int | None = None, nodes=None, *, lookback: int = LOOKBACK,
           min_fraction: float = 0.75) -> Hourly:
    """Hourly means of every node (or *nodes*) for hours starting in ``[t0, t1)``; by default the
    last 24 hours of stored data."""
    chosen = [n for n in store.nodes() if nodes is None or n.id in set(nodes)]
    if nodes is not None and len(chosen) < len(set(nodes)):
        unknown = sorted(set(nodes) - {n.id for n in chosen})
        raise StoreError(f"no node {', '.join(unknown)} in {store.path}: see tynys nodes list")
    if t1 is None:
        last = max((r["t1"] for r in store.latest(n.id for n in chosen)), default=None)
        if last is None:
            raise StoreError(f"no records in {store.path} for {'these nodes' if nodes else 'any node'} yet")
        t1 = -(-last // HOUR) * HOUR
    t1 = -(-int(t1) // HOUR) * HOUR
    t0 = t1 - 24 * HOUR if t0 is None else int(t0) // HOUR * HOUR
    if t0 >= t1:
        raise StoreError(f"the period {iso(t0)} .. {iso(t1)} is empty: --from must be before --to")
    lo = t0 - lookback // HOUR * HOUR
    hours = np.arange(lo, t1, HOUR, dtype=np.int64)
    start = (t0 - lo) // HOUR
    notes: list[str] = []
    pm, so2 = [], []
    for n in chosen:
        latest = store.latest([n.id])
        have = set(latest[0]["values"]) if latest else set()
        prof = {s.profile.sensor for s in profiles(store, n.id)}
        pm.append(_channels(n.id, "pm25", have, prof, notes))
        so2.append(_channels(n.id, "so2", have, prof, notes))
    return Hourly(hours, start, chosen, _quantity(store, chosen, hours, start, "pm25", pm, min_fraction),
                  _quantity(store, chosen, hours, start, "so2", so2, min_fraction), notes)


def _channels(node: str, pollutant: str, have: set, prof: set, notes: list) -> tuple[str | None, str | None]:
    """(raw channel, corrected channel) of *pollutant* for one node."""
    corrected = sorted(c for c in prof if pollutant_of(c) == pollutant)
    corrected = corrected[0] if corrected else None
    if pollutant == "pm25":
        raw = corrected or next((c for name in PM25_RAW for c in sorted(have) if c.partition(".")[2] == name), None)
        return raw, corrected
    raw = next((c for c in sorted(have) if c.partition(".")[2] == "so2_ppb"), None)
    if corrected is None and raw is None and any(c.endswith(".we_mv") for c in have):
        notes.append(f"{node}: SO2 WE/AE in mV without a calibration sheet: no SO2 value "
                     f"(tynys calibrate apply --node {node} --correction aan803_alg4 --params sheet.json)")
    return raw, corrected


def _quantity(store: Store, nodes: list[Node], hours: np.ndarray, start: int, pollutant: str, chans: list,
              min_fraction: float) -> Quantity:
    n, k = len(chans), len(hours)
    lo, hi = int(hours[0]), int(hours[-1]) + HOUR
    q = Quantity(pollutant, UNITS[pollutant], [c[0] for c in chans], [c[1] for c in chans],
                 np.full((n, k), np.nan), np.full((n, k), np.nan), np.zeros((n, k), np.int64),
                 np.full((n, 3 * k), np.nan), np.full((n, 3 * k), np.nan), np.zeros(n, np.int64))
    first = int(hours[start])
    for i, (node, (raw, cor)) in enumerate(zip(nodes, chans)):
        if raw is not None:
            s = store.series(node.id, raw, lo, hi)
            q.raw[i], q.singles_raw[i] = _means(s.t0, s.t1, s.mean, lo, k, min_fraction)
            q.windows[i] = int((np.isfinite(s.mean) & (s.t0 >= first)).sum())
        if cor is not None:
            c = store.corrected(node.id, cor, lo, hi)
            q.corrected[i], q.singles_corrected[i] = _means(c.t0, c.t1, c.value, lo, k, min_fraction)
            slot = (c.t0 - lo) // HOUR
            np.maximum.at(q.version[i], slot, c.version)
            q.windows[i] = max(q.windows[i], int((np.isfinite(c.value) & (c.t0 >= first)).sum()))
    return q


def _means(t0, t1, values, lo: int, hours: int, min_fraction: float) -> tuple[np.ndarray, np.ndarray]:
    """Hourly and 20-min means of windows on the axis starting at *lo* (time-weighted, 75 % rule)."""
    out_h, out_s = np.full(hours, np.nan), np.full(3 * hours, np.nan)
    ok = np.isfinite(values)
    if not ok.any():
        return out_h, out_s
    t, inv = np.unique(t0, return_inverse=True)  # a window sent twice (two boots) counts once
    cnt = np.bincount(inv, weights=ok, minlength=len(t))
    with np.errstate(invalid="ignore"):
        v = np.bincount(inv, weights=np.where(ok, values, 0.0), minlength=len(t)) / cnt
    step = int(np.bincount(np.asarray(t1 - t0, np.int64)).argmax())
    for width, out in ((HOUR, out_h), (SINGLE, out_s)):
        if step > width or width % step:
            continue  # windows longer than 20 min, or not dividing it: no 20-min means
        starts, means, _ = averaging.window_means(t, v, width, sample_s=step, min_fraction=min_fraction)
        at = (starts - lo) // width
        inside = (at >= 0) & (at < len(out))
        out[at[inside]] = means[inside]
    return out_h, out_s


# --- indices ------------------------------------------------------------------------------

def prefix(standard: str) -> str:
    """Column prefix of a standard's index columns: ``aqi`` (US EPA), ``eaqi`` (EEA), else its id."""
    return SHORT.get(standard, standard.replace("-", "_"))


def breakpoint_indices(hours, values: dict, standard: str, notes: list | None = None) -> dict:
    """Hourly index columns (``rows x hours`` arrays) of a breakpoint standard from hourly
    ``{pollutant: rows x hours}`` values (PM2.5 µg/m³, SO2 ppb): sub-indices, the overall index,
    its category, status and main pollutant, and (US) the NowCast concentration used."""
    p = prefix(standard)
    subs = {}
    for pol, v in values.items():
        if not np.isfinite(v).any() and pol != "pm25":
            continue
        try:
            subs[pol] = series.hourly(hours, v, pol, standard, unit=UNITS[pol])
        except AqiError as e:
            if notes is not None:
                notes.append(f"{standard}: no {pol} index ({e})")
    o = index.overall(subs, standard)
    cols = {p: o.index, f"{p}_category": o.category_names(), f"{p}_main": o.main,
            f"{p}_status": np.array(STATUS, dtype=object)[o.status]}
    for pol, s in o.subs.items():
        cols[f"{p}_{pol}"] = s.index
    if "pm25" in o.subs and o.standard.data.get("hourly", {}).get("pm25") == ["nowcast"]:
        cols["nowcast_pm25"] = o.subs["pm25"].concentration
    return cols


def kz_indices(singles: dict, temperature_c: float = KZ_TEMPERATURE_C) -> dict:
    """Per hour, from 20-min means ``{pollutant: rows x 3·hours}`` (PM2.5 µg/m³, SO2 ppb): the highest
    multiple of ПДК м.р. per pollutant, СИ (the highest over them), which pollutant, and the grade."""
    cols, tops = {}, []
    for pol, v in singles.items():
        m = kz.multiples(v, pol, "20min", unit=UNITS[pol], temperature_c=temperature_c)
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
    cols["kz_grade"] = kz.grade_names(kz.grade(si=si))
    return cols


def _indices(h: Hourly, values: dict, singles: dict, standards, temperature_c) -> dict:
    cols = {}
    for std in standards:
        if std == "kz":
            cols.update(kz_indices(singles, temperature_c))
        else:
            cols.update(breakpoint_indices(h.hours, values, std, h.notes))
    return cols


# --- rows ---------------------------------------------------------------------------------

def node_columns(h: Hourly, standards=("us-epa", "kz"), temperature_c: float = KZ_TEMPERATURE_C) -> dict:
    """Per node and hour (``nodes x hours`` arrays over ``h.hours``): values and index columns."""
    pm, pm_cal = h.pm25.value()
    so2, so2_cal = h.so2.value()
    version = lambda v: np.where(v > 0, v, None)  # noqa: E731  (0: no profile)
    cols = {"pm25_raw": h.pm25.raw, "pm25_corrected": h.pm25.corrected, "pm25_profile": version(h.pm25.version),
            "pm25": pm, "pm25_calibrated": pm_cal, "so2_ppb": so2, "so2_calibrated": so2_cal,
            "so2_profile": version(h.so2.version)}
    cols.update(_indices(h, {"pm25": pm, "so2": so2}, {"pm25": h.pm25.value(True)[0], "so2": h.so2.value(True)[0]},
                         standards, temperature_c))
    return cols


def node_rows(h: Hourly, standards=("us-epa", "kz"), temperature_c: float = KZ_TEMPERATURE_C) -> list[dict]:
    """One row per node and reported hour (node-major)."""
    cols = node_columns(h, standards, temperature_c)
    ids = [{"node": n.id, "district": n.district, "pm25_channel": h.pm25.channel[i],
            "pm25_corrected_channel": h.pm25.corrected_channel[i],
            "so2_channel": h.so2.corrected_channel[i] or h.so2.channel[i]} for i, n in enumerate(h.nodes)]
    return _rows(h, ids, cols, standards)


def city_columns(h: Hourly, standards=("us-epa", "kz"), rules: city.Rules = city.Rules(), districts: bool = True,
                 temperature_c: float = KZ_TEMPERATURE_C) -> tuple[list[str], dict]:
    """Per area and hour (``areas x hours``): the city (and district) values and index columns;
    outdoor nodes only."""
    out = np.array([n.placement == "outdoor" for n in h.nodes], dtype=bool)
    dist = np.array([n.district for n in h.nodes], dtype=object)[out] if districts else None
    def area_values(q: Quantity, singles: bool) -> city.CityValue:
        v, cal = q.value(singles)
        return city.city_values(v[out], calibrated=cal[out], districts=dist, rules=rules)

    pm, so2 = area_values(h.pm25, False), area_values(h.so2, False)
    cols = {"nodes": pm.nodes, "calibrated": pm.calibrated, "basis": pm.basis_names(), "pm25": pm.value,
            "pm25_lo": pm.lo, "pm25_hi": pm.hi, "so2_ppb": so2.value, "so2_nodes": so2.nodes, "so2_basis": so2.basis_names()}
    singles = {q.pollutant: area_values(q, True).value for q in (h.pm25, h.so2)} if "kz" in standards else {}
    cols.update(_indices(h, {"pm25": pm.value, "so2": so2.value}, singles, standards, temperature_c))
    return pm.areas, cols


def city_rows(h: Hourly, standards=("us-epa", "kz"), rules: city.Rules = city.Rules(), districts: bool = True,
              temperature_c: float = KZ_TEMPERATURE_C) -> list[dict]:
    """One row per area ("city" first, then each district) and reported hour (area-major)."""
    areas, cols = city_columns(h, standards, rules, districts, temperature_c)
    return _rows(h, [{"area": a} for a in areas], cols, standards)


def city_summary(store: Store, t0: int | None = None, t1: int | None = None, *, standards=("us-epa", "kz"),
                 rules: city.Rules = city.Rules(), districts: bool = True) -> list[dict]:
    """The city's (and each district's) hourly rows for ``[t0, t1)``, straight from the store."""
    return city_rows(hourly(store, t0, t1), standards, rules, districts)


def _rows(h: Hourly, ids: list[dict], cols: dict, standards) -> list[dict]:
    rep = h.reported
    hours = [iso(t) for t in h.hours[rep].tolist()]
    flat = {k: np.asarray(v)[:, rep].tolist() for k, v in cols.items()}
    whole = {k for s in standards if s != "kz" for k in cols
             if k == prefix(s) or k in (f"{prefix(s)}_pm25", f"{prefix(s)}_so2")}  # index numbers: integers
    out = []
    for i, head in enumerate(ids):
        for j, hour in enumerate(hours):
            row = {**head, "hour": hour}
            for k, v in flat.items():
                x = v[i][j]
                if isinstance(x, float):
                    x = None if x != x else int(x) if k in whole else x
                row[k] = (x or None) if isinstance(x, str) else x
            if "kz" in standards:
                row["kz_official"] = False
            out.append(row)
    return out


def node_summary(h: Hourly, standards=("us-epa", "kz"), temperature_c: float = KZ_TEMPERATURE_C) -> list[dict]:
    """One row per node over the reported hours: windows, mean PM2.5 raw/corrected and SO2, the
    latest and highest index of each standard, and Kazakhstan's СИ, НП and grade over the period."""
    cols = node_columns(h, [s for s in standards if s != "kz"], temperature_c)
    rep = h.reported
    out = []
    with np.errstate(all="ignore"):
        for i, n in enumerate(h.nodes):
            row = {"node": n.id, "district": n.district, "placement": n.placement,
                   "windows": int(max(h.pm25.windows[i], h.so2.windows[i])),
                   "hours": int(np.isfinite(cols["pm25"][i, rep]).sum()),
                   "pm25_raw": _mean(h.pm25.raw[i, rep]), "pm25_corrected": _mean(h.pm25.corrected[i, rep]),
                   "pm25_profile": int(h.pm25.version[i, rep].max(initial=0)) or None,
                   "so2_ppb": _mean(cols["so2_ppb"][i, rep]), "so2_profile": int(h.so2.version[i, rep].max(initial=0)) or None}
            for std in standards:
                if std == "kz":
                    row.update(_kz_period(h, i, temperature_c))
                    continue
                p = prefix(std)
                idx = cols[p][i, rep]
                last = np.flatnonzero(np.isfinite(idx))
                row[p] = int(idx[last[-1]]) if len(last) else None
                row[f"{p}_category"] = cols[f"{p}_category"][i, rep][last[-1]] if len(last) else None
                row[f"{p}_max"] = int(np.nanmax(idx)) if len(last) else None
            out.append(row)
    return out


def _kz_period(h: Hourly, i: int, temperature_c: float) -> dict:
    singles = {}
    for q in (h.pm25, h.so2):
        v = q.value(True)[0][i, 3 * h.start:]
        if np.isfinite(v).any():
            singles[q.pollutant] = v
    if not singles:
        return {"kz_si": None, "kz_si_by": None, "kz_np": None, "kz_np_by": None, "kz_grade": None, "kz_official": False}
    units = {p: UNITS[p] for p in singles}
    a = _assess(singles, units, temperature_c)
    return {"kz_si": a.si, "kz_si_by": a.si_by, "kz_np": a.np, "kz_np_by": a.np_by, "kz_grade": a.grade_name() or None,
            "kz_official": False}


def _assess(singles: dict, units: dict, temperature_c: float):
    # kz.assess takes one unit for all: bring each pollutant to mg/m3 first.
    mg = {p: aqi_units.convert(v, p, units[p], "mg/m3", temperature_c=temperature_c) for p, v in singles.items()}
    return kz.assess(mg, unit="mg/m3")


def _mean(v) -> float | None:
    v = v[np.isfinite(v)]
    return float(v.mean()) if len(v) else None
