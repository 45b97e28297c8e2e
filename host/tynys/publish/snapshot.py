"""What a published site shows, computed once from the store: 24 hours of node and city values,
each standard's index, every node's data quality, and what is missing.

    from tynys.publish import snapshot
    snap = snapshot.take(store, city="oskemen", standards=("us-epa", "eea", "kz"), at=None)
    snap.hours                      # 24 hour starts (UTC), the last ending at snap.end
    snap.index["us-epa"].category   # nodes x 24: category number, -1 none (status says why)
    snap.area_index["kz"].index     # areas x 24 ("city" first, then each district): СИ
    snap.quality[0], snap.notes     # data quality per node; what is missing, as Note(key, params)

Rules (the site and the bulletin print them):

- Values are the pipeline's hourly means (:func:`tynys.pipeline.hourly`): calibrated where a
  profile corrects the channel, else raw; the city and districts are the median of at least
  ``rules.min_nodes`` outdoor nodes (:mod:`tynys.aqi.city`).
- Indices are the pipeline's (:func:`tynys.pipeline.node_columns`, :func:`~tynys.pipeline.city_columns`:
  the standard's own averaging, NowCast, the SO2 rules; a pollutant a node measures without a
  sub-index in an hour makes that hour ``incomplete``, never a category). Where a standard
  requires pollutants the nodes do not measure at all (the EEA's station index wants NO2 and O3),
  the site shows the highest of the measured pollutants' sub-indices (the EEA's own per-pollutant
  bands), incomplete where one of them lacks, and a note says which pollutants are missing.
- Kazakhstan: per hour the highest 20-min multiple of ПДК м.р. (СИ) and its grade, unofficial.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field

import numpy as np

from .. import pipeline
from ..aqi import city as aqi_city, tables
from ..aqi.breakpoints import INCOMPLETE, MISSING, OK, STATUS
from ..errors import TynysError
from ..pipeline.channels import pm10_tries
from ..sim import city as layouts
from ..store import Node, Store
from ..timeutil import iso

HOUR = 3600
HOURS = 24
SITE_STANDARDS = ("us-epa", "eea", "kz")  # always offered by the site's switcher
STALE_S = 2 * HOUR  # no value for longer than this before the end: "stale since"
BAD_FRACTION = 0.01  # a sensor rejecting more than this share of its frames is flagged
MISSING_FRACTION = 0.10  # ... or missing more than this share of its readings
POLLUTANTS = ("pm25", "so2")


class PublishError(TynysError):
    """A site, open data or bulletin cannot be made as asked (unknown city or standard, a folder
    holding files that are not the site's)."""


@dataclass(frozen=True)
class Note:
    """Something missing or worth saying, as a text key of the site's language files and its
    parameters; ``text`` is the English line the command prints."""

    key: str
    params: dict
    text: str


@dataclass
class Scored:
    """One standard's hourly result for rows x hours: the index number (СИ for kz), the category
    number into the standard's categories (-1 none), the status name and the main pollutant."""

    index: np.ndarray
    category: np.ndarray
    status: np.ndarray
    main: np.ndarray


@dataclass(frozen=True)
class StandardInfo:
    id: str
    version: str
    title: str
    categories: tuple  # ((name, colour), ...)
    measured: tuple  # pollutants scored
    missing: tuple = ()  # pollutants the standard requires that no node measures


@dataclass
class Snapshot:
    start: int
    end: int
    hours: np.ndarray
    generated: int
    city: layouts.City | None
    nodes: list[Node]
    located: np.ndarray
    values: dict  # pm25, pm25_raw, pm25_corrected, so2 [ppb]: nodes x 24; pm25_calibrated, so2_calibrated: bool;
    #               pm25_20min, so2_20min: nodes x 72 (Kazakhstan's single concentrations)
    index: dict  # standard -> Scored (nodes x 24)
    areas: list[str]
    area_values: dict  # pm25, so2, nodes, basis: areas x 24
    area_index: dict  # standard -> Scored (areas x 24)
    standards: list[StandardInfo]
    default: str
    rules: aqi_city.Rules
    quality: list[dict]
    notes: list[Note] = field(default_factory=list)
    channels: list[dict] = field(default_factory=list)  # per node: raw/corrected channel per pollutant
    sensors: dict = field(default_factory=dict)  # node -> {slot: sensor type} of its records in the 24 hours
    pm10: dict = field(default_factory=dict)  # channel -> NodeRows: PM10 windows read with the PM2.5 (open data)

    def standard(self, sid: str) -> StandardInfo:
        return next(s for s in self.standards if s.id == sid)


def choose_standards(standard: str) -> list[str]:
    """The switcher's standards: us-epa, eea, kz and *standard* if another; refuses one the site
    cannot score from PM2.5 and SO2 (a formula index such as Canada's AQHI)."""
    std = tables.load(standard)  # AqiError naming the known standards
    if std.kind == "formula":
        raise PublishError(f"{std.name} is a formula of {', '.join(std.pollutants())}, which these nodes do not measure "
                           f"together; publish with --standard us-epa, eea, kz, uk-daqi, india-naqi or china")
    out = list(SITE_STANDARDS)
    if std.id not in out:
        out.append(std.id)
    return out


def load_city(name: str | None) -> layouts.City | None:
    if name is None:
        return None
    try:
        return layouts.load(name)
    except layouts.CityError as e:
        raise PublishError(str(e)) from None


def take(store: Store, *, city: str | layouts.City | None = None, standard: str = "us-epa", at: int | None = None,
         rules: aqi_city.Rules = aqi_city.Rules(), now: int | None = None) -> Snapshot:
    """The 24 whole hours ending at or before *at* (default: the end of the newest stored window)
    for every node that is not retired."""
    names = choose_standards(standard)
    layout = load_city(city) if isinstance(city, (str, type(None))) else city
    notes: list[Note] = []
    nodes = [n for n in store.nodes() if n.active]
    if at is None:
        last = max((r["t1"] for r in store.latest(n.id for n in nodes)), default=None)
        if last is None:
            notes.append(Note("note.no_records", {}, "no records in the store yet: the site shows the nodes only"))
            last = int(time.time() if now is None else now)
        at = last
    end = int(at) // HOUR * HOUR  # the last complete hour ends here
    start = end - HOURS * HOUR
    if not nodes:
        return _empty(store, names, layout, start, end, rules, now, standard)
    # the open data's PM10 comes in the same pass over the windows as the PM2.5
    h = pipeline.hourly(store, start, end, nodes=[n.id for n in nodes], also=lambda c: pm10_tries(c["pm25"].raw)[:1])
    rep = h.reported
    vals, cal = {}, {}
    for q, name in ((h.pm25, "pm25"), (h.so2, "so2")):
        v, c = q.value()
        vals[name], cal[name] = v, c
    singles = slice(3 * h.start, 3 * len(h.hours))
    values = {"pm25": vals["pm25"][:, rep], "pm25_raw": h.pm25.raw[:, rep], "pm25_corrected": h.pm25.corrected[:, rep],
              "so2": vals["so2"][:, rep], "pm25_calibrated": cal["pm25"][:, rep], "so2_calibrated": cal["so2"][:, rep],
              "pm25_20min": h.pm25.value(True)[0][:, singles], "so2_20min": h.so2.value(True)[0][:, singles]}

    channel_notes = list(h.notes)  # the index columns add notes of their own: the snapshot words those itself
    cols = pipeline.node_columns(h, names)
    areas, acols = pipeline.city_columns(h, names, rules, districts=True)
    measured = tuple(q.pollutant for q in h.quantities if q.measured.any())
    infos, node_index, area_index = [], {}, {}
    for sid in names:
        std = tables.load(sid, at=end - 1)
        info = _info(std, measured)
        infos.append(info)
        node_index[sid], area_index[sid] = _scored(cols, std, info, rep), _scored(acols, std, info, rep)
        if info.missing and info.measured:
            notes.append(Note("note.partial_standard", {"standard": sid, "missing": list(info.missing),
                                                        "measured": list(info.measured)},
                              f"{std.title}: its overall index also needs {', '.join(info.missing)}, which the nodes do "
                              f"not measure; the site shows the index of {', '.join(info.measured)}"))
    area_values = {"pm25": acols["pm25"][:, rep], "so2": acols["so2_ppb"][:, rep], "nodes": acols["nodes"][:, rep],
                   "basis": np.asarray(acols["basis"])[:, rep]}

    located = np.array([n.lat is not None and n.lon is not None for n in nodes], dtype=bool)
    counts = store.sensor_counts(start, end)
    quality = _quality(store, h, values, counts, end)
    notes += _notes(store, h, nodes, located, values, area_values, rules, layout, start, end, channel_notes)
    sensors = {}
    for c in counts:
        sensors.setdefault(c["node"], {})[c["slot"]] = c["type"]
    channels = [{q.pollutant: {"channel": q.choices[i].channel, "raw": q.choices[i].raw, "corrected": q.choices[i].corrected}
                 for q in h.quantities} for i in range(len(nodes))]
    return Snapshot(start=start, end=end, hours=h.hours[rep], generated=int(time.time() if now is None else now),
                    city=layout, nodes=list(h.nodes), located=located, values=values, index=node_index, areas=areas,
                    area_values=area_values, area_index=area_index, standards=infos, default=tables.load(standard).id,
                    rules=rules, quality=quality, notes=notes, channels=channels, sensors=sensors, pm10=h.also)


def _empty(store, names, layout, start, end, rules, now, standard) -> Snapshot:
    """No active node: a site that says so."""
    hours = np.arange(start, end, HOUR, dtype=np.int64)
    nothing = lambda rows: Scored(np.full((rows, HOURS), np.nan), np.full((rows, HOURS), -1, np.int8),  # noqa: E731
                                  np.full((rows, HOURS), "missing", dtype=object), np.full((rows, HOURS), "", dtype=object))
    infos = [_info(tables.load(s, at=end - 1), ()) for s in names]
    nan = np.full((1, HOURS), np.nan)
    return Snapshot(start=start, end=end, hours=hours, generated=int(time.time() if now is None else now), city=layout,
                    nodes=[], located=np.zeros(0, bool),
                    values={k: np.full((0, HOURS), np.nan) for k in ("pm25", "pm25_raw", "pm25_corrected", "so2")}
                    | {k: np.zeros((0, HOURS), bool) for k in ("pm25_calibrated", "so2_calibrated")}
                    | {k: np.full((0, 3 * HOURS), np.nan) for k in ("pm25_20min", "so2_20min")},
                    index={s: nothing(0) for s in names}, areas=["city"],
                    area_values={"pm25": nan, "so2": nan, "nodes": np.zeros((1, HOURS), np.int64),
                                 "basis": np.full((1, HOURS), "too-few-nodes", dtype=object)},
                    area_index={s: nothing(1) for s in names}, standards=infos, default=tables.load(standard).id,
                    rules=rules, quality=[], notes=[Note("note.no_nodes", {}, f"no active nodes in {store.path}: "
                                                         "register them with tynys nodes add")])


def _info(std: tables.Standard, measured: tuple) -> StandardInfo:
    return StandardInfo(std.id, std.version, std.title, tuple((c.name, c.color) for c in std.categories), measured,
                        _missing(std, measured))


# --- indices ------------------------------------------------------------------------------

def _missing(std: tables.Standard, measured) -> tuple:
    """Pollutants the standard's overall index requires that no node measures."""
    req = std.data.get("overall", {}).get("requires", {})
    out = [p for p in req.get("all", []) if p not in measured]
    if req.get("any") and not set(measured) & set(req["any"]):
        out.append(" or ".join(req["any"]))
    return tuple(out)


def _category_numbers(names, std: tables.Standard) -> np.ndarray:
    pos = {c.name: k for k, c in enumerate(std.categories)}
    flat = [pos.get(x, -1) for x in np.ravel(names).tolist()]
    return np.array(flat, dtype=np.int8).reshape(np.shape(names))


def _scored(cols: dict, std: tables.Standard, info: StandardInfo, rep: slice) -> Scored:
    """A standard's hourly result from the pipeline's columns (rows x hours), the reported hours."""
    cut = lambda k: np.asarray(cols[k])[:, rep]  # noqa: E731
    if std.kind == "ratio":
        si = cut("kz_si").astype(float)
        status = np.where(np.isfinite(si), STATUS[OK], STATUS[MISSING]).astype(object)
        return Scored(si, _category_numbers(cut("kz_grade"), std), status, cut("kz_si_by"))
    p = pipeline.prefix(std.id)
    if not (info.missing and info.measured):
        return Scored(cut(p).astype(float), _category_numbers(cut(f"{p}_category"), std), cut(f"{p}_status"), cut(f"{p}_main"))
    # The requirement cannot be met by these nodes: the highest sub-index of the measured pollutants
    # (the standard's overall rule is the highest), incomplete where a measured one has none.
    assert std.data.get("overall", {}).get("rule", "max") == "max", std.name
    subs = np.stack([cut(f"{p}_{pol}").astype(float) for pol in info.measured])
    has = np.isfinite(subs)
    top = np.where(has.any(axis=0), np.nanmax(np.where(has, subs, -np.inf), axis=0), np.nan)
    lacking = cut(f"{p}_lacking") != ""
    top[lacking] = np.nan
    status = np.where(lacking, STATUS[INCOMPLETE], np.where(np.isfinite(top), STATUS[OK], STATUS[MISSING])).astype(object)
    main = np.where(np.isfinite(top), np.array(info.measured, dtype=object)[np.argmax(np.where(has, subs, -np.inf), axis=0)], "")
    return Scored(top, std.category_of(top), status, main)


# --- data quality and notes -----------------------------------------------------------------

def _quality(store: Store, h: pipeline.Hourly, values: dict, sensor_counts: list, end: int) -> list[dict]:
    """Per node: calibration (profile per pollutant), the last hour with a value and whether it is
    stale, sensor flags from the records' own counters, and placement."""
    rep = h.reported
    counts = {}
    for row in sensor_counts:
        counts.setdefault(row["node"], []).append(row)
    out = []
    hours = h.hours[rep]
    for i, n in enumerate(h.nodes):
        cal = {}
        for q in h.quantities:  # the channel and the newest profile used in the 24 hours ("barkjohn2021 v1")
            c, version = q.choices[i], int(q.version[i, rep].max(initial=0))
            cal[q.pollutant] = {"channel": c.corrected, "profile": c.profile(version)} if version else None
        has_value = {p: np.isfinite(values[p][i]).any() for p in POLLUTANTS}
        calibrated = [p for p in POLLUTANTS if cal[p] is not None]
        state = ("calibrated" if calibrated and all(cal[p] for p in POLLUTANTS if has_value[p]) else
                 "partly-calibrated" if calibrated else "uncalibrated")
        any_value = np.isfinite(values["pm25"][i]) | np.isfinite(values["so2"][i])
        last = int(hours[np.flatnonzero(any_value)[-1]]) + HOUR if any_value.any() else None
        if last is None:
            latest = store.latest([n.id])
            last_seen = latest[0]["t1"] if latest and latest[0]["t1"] <= end else None
        else:
            last_seen = last
        stale = last_seen if last_seen is None or end - last_seen > STALE_S else None
        flags = []
        for c in counts.get(n.id, []):
            readings = c["frames"] + c["bad"]
            if readings and c["bad"] / readings > BAD_FRACTION:
                flags.append({"key": "flag.bad_frames", "params": {"slot": c["slot"], "type": c["type"], "bad": c["bad"],
                                                                   "of": readings}})
            asked = c["frames"] + c["missing"]
            if asked and c["missing"] / asked > MISSING_FRACTION:
                flags.append({"key": "flag.missing_readings", "params": {"slot": c["slot"], "type": c["type"],
                                                                         "missing": c["missing"], "of": asked}})
        if n.placement != "outdoor":
            flags.append({"key": "flag.indoor", "params": {}})
        out.append({"state": state, "calibration": cal, "last": iso(last_seen), "stale": stale is not None or last_seen is None,
                    "stale_since": iso(last_seen) if stale is not None else None, "flags": flags})
    return out


def _notes(store, h, nodes, located, values, area_values, rules, layout, start, end, channel_notes) -> list[Note]:
    notes = []
    any_value = np.isfinite(values["pm25"]).any() or np.isfinite(values["so2"]).any()
    if not any_value:
        notes.append(Note("note.no_data", {"from": iso(start), "to": iso(end)},
                          f"no data between {iso(start)} and {iso(end)}: the site shows the nodes without values"))
    lost = [n.id for n, ok in zip(nodes, located) if not ok]
    if lost:
        notes.append(Note("note.no_location", {"nodes": lost},
                          f"{len(lost)} node(s) without a location are not on the map: {', '.join(lost)} "
                          f"(register the position: tynys nodes add ID --lat LAT --lon LON)"))
    raw = [n.id for i, n in enumerate(nodes) if all(q.choices[i].corrected is None for q in h.quantities)
           and (np.isfinite(values["pm25"][i]).any() or np.isfinite(values["so2"][i]).any())]
    if raw:
        notes.append(Note("note.no_profile", {"nodes": raw},
                          f"no calibration profile for {', '.join(raw)}: their values are raw sensor values "
                          f"(tynys calibrate apply --node ID --correction NAME)"))
    short = int((area_values["basis"][0] == "too-few-nodes").sum())
    if short and any_value:
        notes.append(Note("note.too_few_nodes", {"hours": short, "min": rules.min_nodes},
                          f"{short} of {HOURS} hours have no city value: fewer than {rules.min_nodes} nodes had one"))
    if layout is None:
        notes.append(Note("note.no_city", {}, "no --city given: the map has no districts"))
    else:
        unknown = sorted({n.district for n in nodes if n.district and n.district not in {d.name for d in layout.districts}})
        if unknown:
            notes.append(Note("note.unknown_district", {"districts": unknown, "city": layout.name},
                              f"district(s) {', '.join(unknown)} are not in the {layout.name} layout: not drawn"))
    return notes + _per_node(channel_notes, {n.id for n in nodes})


def _per_node(texts: list[str], ids: set[str]) -> list[Note]:
    """The pipeline's notes, those it writes per node ("osk-06: ...") gathered into one per kind
    (a city of a thousand nodes gets one line, not a thousand). A note with a text key
    (:class:`tynys.pipeline.channels.Text`) keeps it, with the nodes as ``nodes``: the page words
    it in its language; any other is shown as the English line (``note.text``)."""
    out, grouped = [], {}
    for text in texts:
        head, sep, rest = text.partition(": ")
        if sep and head in ids:
            key = getattr(text, "key", "note.text")
            params = {k: v for k, v in getattr(text, "params", {}).items() if k != "node"}
            kind = (rest.replace(head, "ID"), key, json.dumps(params, sort_keys=True))
            grouped.setdefault(kind, (params, []))[1].append(head)
        else:
            out.append(Note("note.text", {"text": text}, text))
    for (text, key, _), (params, nodes) in grouped.items():
        shown = ", ".join(nodes[:10]) + (f" and {len(nodes) - 10} more" if len(nodes) > 10 else "")
        out.append(Note(key, {"text": text} if key == "note.text" else {**params, "nodes": nodes}, f"{shown}: {text}"))
    return out
