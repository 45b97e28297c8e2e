"""Calibration over the store: profiles kept in the database, a node channel co-located with an
imported reference, and corrected series written beside the raw values.

    from tynys.calibrate import stored
    s = stored.fit(store, "osk-01", "pm.pm25_cf1", "csv:kazhydromet-1:pm25", model="mlr_rh")   # the next version
    stored.use_correction(store, "osk-01", "pm.pm25_cf1", "barkjohn2021")     # a published correction
    stored.use_correction(store, "osk-01", "so2.we_mv", "aan803_alg4", params=sheet)   # the ISB's calibration sheet
    stored.apply(store)                          # corrected_values for every profiled node channel
    stored.profiles(store, "osk-01")             # [Stored(id, profile)], oldest version first

Profiles are the documents of :mod:`tynys.calibrate.profiles` (``tynys-calibration-profile/1``),
stored in the ``calibration_profiles`` table rather than as loose files: every corrected value
names its profile by id (a foreign key, so provenance cannot dangle); versions are numbered
inside a transaction (two fits at once cannot both become v3); and one ``tynys db backup`` keeps
raw data, profiles and corrected values together. :func:`export` writes them as the JSON files
``ProfileStore`` reads.

An Alphasense sensor's calibration sheet (WE/AE zero offsets, sensitivity) is a profile too —
``correction:aan803_alg<N>`` with the sheet as ``params`` — not node metadata: it belongs to one
physical sensor and stops being valid when the sensor is replaced (a new version with its own
validity interval), and a later fit against a reference can supersede it the same way.

Corrected values are stored under the raw channel they correct (``pm.pm25_cf1``, ``so2.we_mv``)
in the profile's ``unit`` (µg/m³ for PM, ppb for SO2). For each window the highest version whose
validity interval covers the window's start is used (:func:`tynys.calibrate.profiles.apply_profiles`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from ..aqi import tables as aqi_tables, units as aqi_units
from ..errors import TynysError
from ..store import Store, StoreError
from ..timeutil import iso
from . import corrections, models
from .colocation import INTERVALS, Pairs, colocate
from .fitting import fit_profile
from .inputs import Colocated
from .profiles import Profile, ProfileStore, apply_profiles, now_iso, seconds

# Units of corrected values, by pollutant (the units the AQI tables take without a temperature).
UNITS = {"pm1": "µg/m³", "pm25": "µg/m³", "pm10": "µg/m³", "so2": "ppb"}
_EPOCH = "1970-01-01T00:00:00Z"


@dataclass(frozen=True)
class Stored:
    """A profile as stored: its database ``id`` and the :class:`Profile` (with its ``version``)."""

    id: int
    profile: Profile


def pollutant_of(channel: str) -> str | None:
    """The pollutant a raw channel measures: ``pm.pm25_cf1`` -> pm25, ``so2.we_mv`` -> so2."""
    slot, _, name = channel.partition(".")
    stem = name.split("_")[0]
    if stem in UNITS:
        return stem
    return "so2" if name.startswith("so2") or slot.startswith("so2") else None


def find_channel(store: Store, node: str, name: str, near: str | None = None) -> str | None:
    """The node's channel called *name* (``rh``, ``t_c``): in slot *near* if it has one, else any slot."""
    found = [c for c in store.channel_names(node) if c.partition(".")[2] == name]
    same = [c for c in found if near and c.startswith(near + ".")]
    return (same or sorted(found) or [None])[0]


def profiles(store: Store, node: str | None = None, channel: str | None = None) -> list[Stored]:
    return [Stored(r["id"], Profile(**r["doc"])) for r in store.profiles(node, channel)]


def save(store: Store, profile: Profile) -> Stored:
    """Store *profile* as the next version of its node channel."""
    profile.created = profile.created or now_iso()
    pid, profile.version = store.add_profile(profile.node, profile.sensor, asdict(profile), model=profile.model,
                                             unit=profile.unit, valid_from=seconds(profile.valid_from),
                                             valid_to=seconds(profile.valid_to))
    return Stored(pid, profile)


def export(store: Store, root, node: str | None = None) -> list:
    """Write the stored profiles as ``<root>/<node>/<channel>/v<N>.json`` (never overwriting)."""
    files = ProfileStore(root)
    return [files.write(s.profile) for s in profiles(store, node)]


def use_correction(store: Store, node: str, channel: str, name: str, *, params: dict | None = None,
                   rh: str | None = None, t_c: str | None = None, valid_from: int | None = None,
                   valid_to: int | None = None, allow_unverified: bool = False) -> Stored:
    """Make the published correction *name* a profile of *node*'s *channel* (its inputs taken from
    the node's own channels: RH for the PurpleAir corrections, AE and T for AAN 803), unless the
    newest profile of that channel is already the same. Checks it applies before storing it."""
    doc = corrections.get(name)
    slot = channel.partition(".")[0]
    have = store.channel_names(node)
    if channel not in have:
        raise TynysError(f"node {node} has no channel {channel}; it has {', '.join(have) or 'no records yet'}")
    coefficients: dict = {}
    if doc["form"] == "aan803":
        if not params:
            raise TynysError(f"{name} needs the sensor's calibration sheet (sensor_model, we_e_mv, ae_e_mv, we_0_mv, "
                             "ae_0_mv, sensitivity_mv_ppb): pass --params sheet.json or --param KEY=VALUE")
        inputs = {"we_mv": channel, "ae_mv": f"{slot}.ae_mv", "t_c": t_c or find_channel(store, node, "t_c", slot)}
        coefficients["params"] = dict(params)
        fitted = {"source": "sensor calibration sheet (Alphasense)", "sheet": dict(params)}
    else:
        inputs = {"x": channel}
        if "rh" in doc["inputs"]:
            inputs["rh"] = rh or find_channel(store, node, "rh", slot)
        coefficients["basis"] = next((b for b in corrections.BASES if channel.endswith("_" + b)), None)
        if doc["basis"] in corrections.BASES and coefficients["basis"] is None:
            raise corrections.BasisError(f"{name} is for {corrections.BASES[doc['basis']]} values (channels "
                                         f"named *_{doc['basis']}); {channel} is not one")
        fitted = {"source": "published correction", "citation": doc["citation"], "doi": doc.get("doi")}
    missing = [k for k, ch in inputs.items() if ch not in have]
    if missing:
        raise TynysError(f"{name} needs {', '.join(missing)} from node {node}, which has no such channel "
                         f"(it has {', '.join(have)}): name one with --rh/--t")
    if allow_unverified:
        coefficients["allow_unverified"] = True
    p = Profile(node=node, sensor=channel, model=f"correction:{name}", coefficients=coefficients,
                valid_from=iso(valid_from) if valid_from is not None else _EPOCH,
                valid_to=iso(valid_to) if valid_to is not None else None, inputs=inputs, fitted_on=fitted,
                unit=UNITS.get(doc["pollutant"], ""))
    p.apply({k: np.ones(1) for k in inputs})  # refuses now (wrong basis, incomplete sheet) rather than at apply
    return _unless_same(store, p)


def adopt(store: Store, profile: Profile, *, node: str | None = None, channel: str | None = None,
          rh: str | None = None, t_c: str | None = None, source: str = "") -> Stored:
    """Store a profile fitted elsewhere — from files (``tynys calibrate fit --sensor … --profiles``)
    or on an imported sensor site — as the next version of *node*'s *channel* (default: the
    profile's own), its inputs renamed to the node's channels (``rh``/``t_c`` default to the
    node's own). Where it came from is kept in ``fitted_on.adopted_from``."""
    node = node or profile.node
    try:
        store.node(node)
    except StoreError:
        raise TynysError(f"the profile is for {node!r}, which is not a registered node: name the node to apply it "
                         "to with --node (tynys nodes list)") from None
    channel = channel or profile.sensor
    have = store.channel_names(node)
    slot = channel.partition(".")[0]
    inputs = {"x": channel}
    for k, given in (("rh", rh), ("t_c", t_c)):
        if k in profile.inputs:
            inputs[k] = given or find_channel(store, node, k, slot)
    missing = [f"{k} ({ch})" for k, ch in inputs.items() if ch not in have]
    if missing:
        raise TynysError(f"node {node} has no channel for {', '.join(missing)} (it has {', '.join(have) or 'no records yet'}): "
                         "name them with --channel/--rh/--t")
    doc = asdict(profile)
    doc.update(node=node, sensor=channel, inputs=inputs, version=0, created="")
    doc["fitted_on"] = dict(profile.fitted_on, adopted_from={"node": profile.node, "channel": profile.sensor,
                                                             "version": profile.version, "source": source})
    return save(store, Profile(**doc))


# Which channel a published correction reads by default, by its input basis.
DEFAULT_CHANNEL = {"cf1": "pm.pm25_cf1", "atm": "pm.pm25_atm", "we_ae_mv": "so2.we_mv"}


def add_correction(store: Store, name: str, *, node: str | None = None, channel: str | None = None,
                   **options) -> list[tuple[str, str, Stored | None]]:
    """Make the published correction *name* a profile of *node* — or of every node with the channel
    it corrects (default by its basis) and no profile of its own for that channel yet: a node's own
    profile is superseded only when the node is named. *options* go to :func:`use_correction`.
    Returns ``(node, channel, stored)`` per node, ``stored`` None where a node's profile was kept."""
    doc = corrections.get(name)
    channel = channel or DEFAULT_CHANNEL.get(doc["basis"])
    nodes = [node] if node else [n.id for n in store.nodes() if channel in store.channel_names(n.id)]
    if not nodes:
        raise TynysError(f"no node has a {channel} channel to apply {name} to: name one with --channel")
    out = []
    for nid in nodes:
        if not node and profiles(store, nid, channel):
            out.append((nid, channel, None))
            continue
        out.append((nid, channel, use_correction(store, nid, channel, name, **options)))
    return out


def _unless_same(store: Store, p: Profile) -> Stored:
    have = profiles(store, p.node, p.sensor)
    if have:
        last = have[-1].profile
        same = ("model", "coefficients", "inputs", "valid_from", "valid_to", "unit")
        if all(getattr(last, k) == getattr(p, k) for k in same):
            return have[-1]
    return save(store, p)


def split_reference(store: Store, spec: str) -> tuple[object, str | None]:
    """``SITE[:PARAMETER]`` -> (site, parameter or None); site ids may themselves hold colons."""
    try:
        return store.site(spec), None
    except StoreError:
        site, sep, param = spec.rpartition(":")
        if not sep:
            raise
        return store.site(site), param


def fit(store: Store, node: str, channel: str, reference: str, *, model: str = "ols", rh: str | None = None,
        t_c: str | None = None, interval: str = "1h", t0: int | None = None, t1: int | None = None,
        valid_from: int | None = None, valid_to: int | None = None, include_flagged: bool = False,
        tz: str | None = None) -> tuple[Stored, dict]:
    """Fit *model* on *node*'s *channel* co-located with the imported *reference* (``SITE[:PARAMETER]``,
    the parameter defaulting to the channel's pollutant), store it as the next profile version and
    return it with a summary (pairs, span, raw and corrected scores, and what a day was).

    24-h intervals are days of *tz*'s standard time, by default the zone the reference site was
    imported with (``tynys db sites``); UTC days when neither names one. An imported sensor site
    (not a node) is fitted by :func:`fit_profile_from_store`; its profile goes to a folder."""
    p, summary = fit_profile_from_store(store, node, channel, reference, model=model, rh=rh, t_c=t_c, interval=interval,
                                        t0=t0, t1=t1, valid_from=valid_from, valid_to=valid_to,
                                        include_flagged=include_flagged, tz=tz)
    if p.fitted_on.get("sensor_kind") == "site":
        raise TynysError(f"{node} is an imported site, not a node: its profile cannot be kept in the database (profiles "
                         "belong to nodes); write it to a folder with --profiles DIR, then apply it to a node with "
                         "tynys calibrate apply --profile FILE --node NODE")
    return save(store, p), summary


def is_site(store: Store, name: str) -> bool:
    """True when *name* is an imported site and not a registered node (``sensortoolkit:…``, ``csv:…``)."""
    try:
        store.node(name)
        return False
    except StoreError:
        pass
    try:
        store.site(name)
        return True
    except StoreError:
        return False


def fit_profile_from_store(store: Store, node: str, channel: str | None, reference: str, *, model: str = "ols",
                           rh: str | None = None, t_c: str | None = None, interval: str = "1h", t0: int | None = None,
                           t1: int | None = None, valid_from: int | None = None, valid_to: int | None = None,
                           include_flagged: bool = False, tz: str | None = None) -> tuple[Profile, dict]:
    """The fit of :func:`fit` without storing it. *node* is a node's id, or an imported sensor site
    (``sensortoolkit:Ramphastos Toco 01``) whose *channel* is one of its parameters (default: the
    reference's); RH and T then come from the site's own ``rh`` and ``t_c``. *store* may also be
    a :class:`tynys.archive_view.ArchiveView` (the same reads, from the Parquet archive)."""
    pairs, on = colocate_from_store(store, node, channel, reference, need=models.NEEDS.get(model, ()), why=f"model {model}",
                                    rh=rh, t_c=t_c,
                                    interval=interval, t0=t0, t1=t1, include_flagged=include_flagged, tz=tz)
    data = {"x": pairs.sensor, "rh": pairs.extras.get("rh"), "t_c": pairs.extras.get("t_c")}
    site = on["site"]
    p, summary = fit_profile(model, data, pairs.reference, pairs.time, node=on["node"], channel=on["channel"],
                             inputs=on["names"], reference=f"{site.ref}:{on['param']}", interval=interval,
                             unit=on["unit"], day_tz=on["tz"], valid_from=valid_from, valid_to=valid_to)
    p.fitted_on.update({"reference_name": site.name, "reference_kind": site.kind,
                        "sensor_kind": "site" if on["on_site"] else "node"})
    return p, summary


def colocated_from_store(store: Store, node: str, channel: str | None, reference: str, *, rh: str | None = None,
                         t_c: str | None = None, interval: str = "1h", t0: int | None = None, t1: int | None = None,
                         include_flagged: bool = False, tz: str | None = None) -> Colocated:
    """*node*'s *channel* (and RH, T when named) co-located with *reference* as the
    :class:`~tynys.calibrate.inputs.Colocated` of one sensor that the drift watch reads."""
    need = tuple(k for k, given in (("rh", rh), ("t_c", t_c)) if given)
    pairs, on = colocate_from_store(store, node, channel, reference, need=need, why="the watch", rh=rh, t_c=t_c, interval=interval,
                                    t0=t0, t1=t1, include_flagged=include_flagged, tz=tz)
    return Colocated(on["pollutant"], on["unit"], interval, on["tz"], pairs.sensor, pairs.reference,
                     pairs.extras.get("rh"), pairs.extras.get("t_c"), pairs.time.astype(np.int64),
                     np.full(len(pairs), on["node"]), [on["node"]],
                     reference=f"{on['site'].ref}:{on['param']}")


def colocate_from_store(store: Store, node: str, channel: str | None, reference: str, *, need=(), why: str = "",
                        rh: str | None = None,
                        t_c: str | None = None, interval: str = "1h", t0: int | None = None, t1: int | None = None,
                        include_flagged: bool = False, tz: str | None = None) -> tuple[Pairs, dict]:
    """*node*'s *channel* and the extras in *need* (``rh``, ``t_c``) co-located with *reference*,
    and what was read: ``site``, ``param``, ``pollutant``, ``channel``, ``names`` (input -> channel),
    ``unit``, ``node`` (its label), ``tz`` (the 24-h days' zone) and ``on_site``. *why* names
    what needs the extras, for the message when the node has none."""
    if interval not in INTERVALS:
        raise TynysError(f"unknown averaging interval {interval!r}; use one of {', '.join(INTERVALS)}")
    site, param = split_reference(store, reference)
    on_site = is_site(store, node)
    channel = channel or (param if on_site else "pm.pm25_cf1")
    if channel is None:
        have = ", ".join(store.site_parameters(store.site(node).id))
        raise TynysError(f"which parameter of {node} to fit? name it with --channel (it has: {have}) or as "
                         "--reference SITE:PARAMETER")
    pollutant = pollutant_of(channel) or (channel if channel in UNITS else None)
    param = param or pollutant
    if param is None:
        raise TynysError(f"cannot tell which pollutant {channel} measures: name the reference parameter as SITE:PARAMETER")
    ref = store.observations(site, param, t0, t1, include_flagged=include_flagged)
    target = UNITS.get(pollutant or param, ref.unit)
    y = _in_unit(ref.value, param, ref.unit, target, site.ref)
    names = {"x": channel}
    if on_site:
        sensor = store.site(node)
        have = store.site_parameters(sensor.id)
        if channel not in have:
            raise TynysError(f"site {sensor.ref} has no {channel!r}; it has {', '.join(have)}: name one with --channel")
        for k, given in (("rh", rh), ("t_c", t_c)):
            if k in need:
                names[k] = given or (k if k in have else None)
        series = {k: store.observations(sensor, p_, t0, t1) for k, p_ in names.items() if p_ is not None}
        tx, x = series["x"].t0, _in_unit(series["x"].value, channel, series["x"].unit, target, sensor.ref)
        extras = {k: (o.t0, o.value) for k, o in series.items() if k != "x"}
        node = sensor.ref
    else:
        if "rh" in need:
            names["rh"] = rh or find_channel(store, node, "rh", channel.partition(".")[0])
        if "t_c" in need:
            names["t_c"] = t_c or find_channel(store, node, "t_c", channel.partition(".")[0])
        w = store.windows(node, [c for c in names.values() if c], t0, t1)
        if not np.isfinite(w.mean[channel]).any():
            raise TynysError(f"node {node} has no {channel} values{_between(t0, t1)}: check the node id and channel "
                             f"(tynys db latest {node})")
        tx, x = w.t0, w.mean[channel]
        extras = {k: (w.t0, w.mean[ch]) for k, ch in names.items() if k != "x" and ch}
    missing = [k for k, ch in names.items() if ch is None]
    if missing:
        raise TynysError(f"{why} needs {', '.join(missing)} and {node} has no such channel: name one with --rh/--t")
    tz = tz or site.tz or None
    pairs = colocate(tx, x, ref.t0, y, interval, extras=extras, tz=tz)
    return pairs, {"site": site, "param": param, "pollutant": pollutant or param, "channel": channel, "names": names,
                   "unit": target, "node": node, "tz": tz, "on_site": on_site}


def _in_unit(values, pollutant: str, unit: str, target: str, where: str) -> np.ndarray:
    if aqi_tables.normalise_unit(unit) == aqi_tables.normalise_unit(target):
        return values
    if aqi_units.needs_temperature(unit, target):
        raise TynysError(f"{where} gives {pollutant} in {unit}; the node's values are in {target}, and converting "
                         "needs a temperature: import the reference in a mixing ratio (ppb/ppm) or a mass unit to match")
    return aqi_units.convert(values, pollutant, unit, target)


def _between(t0, t1) -> str:
    return "" if t0 is None and t1 is None else f" between {iso(t0) or 'the start'} and {iso(t1) or 'now'}"


def apply(store: Store, node: str | None = None, channel: str | None = None, t0: int | None = None,
          t1: int | None = None) -> list[dict]:
    """Correct every window (starting in ``[t0, t1)``) of every profiled node channel and store the
    values in ``corrected_values`` with the profile used; raw values are not touched. Returns one
    summary per node channel: windows, corrected, without a value, not covered, versions used."""
    groups: dict[tuple[str, str], list[Stored]] = {}
    for s in profiles(store, node, channel):
        groups.setdefault((s.profile.node, s.profile.sensor), []).append(s)
    if not groups:
        what = " ".join(x for x in (node, channel) if x) or "any node"
        raise TynysError(f"no calibration profile for {what}: add one with tynys calibrate fit or "
                         "tynys calibrate apply --correction NAME")
    out = []
    for (nid, ch), stored in groups.items():
        needed = sorted({c for s in stored for c in s.profile.inputs.values()})
        w = store.windows(nid, needed, t0, t1)
        value = np.full(len(w), np.nan)
        used = np.zeros(len(w), np.int64)
        for s in stored:  # oldest first: later versions win where they overlap
            data = {k: w.mean[c] for k, c in s.profile.inputs.items()}
            try:
                v, version = apply_profiles(w.t0, data, [s.profile])
            except TynysError as e:
                raise TynysError(f"{nid} {ch} profile v{s.profile.version}: {e}") from None
            hit = version > 0
            value[hit], used[hit] = v[hit], s.id
        covered = used > 0
        with store.transaction():
            store.put_corrected(w.record[covered], ch, value[covered], used[covered])
        version_of = {s.id: s.profile.version for s in stored}
        ids, counts = np.unique(used[covered], return_counts=True)
        out.append({"node": nid, "channel": ch, "unit": stored[-1].profile.unit, "windows": len(w),
                    "corrected": int(np.isfinite(value[covered]).sum()),
                    "no_value": int((~np.isfinite(value[covered])).sum()), "not_covered": int((~covered).sum()),
                    "versions": {f"v{version_of[i]}": int(n) for i, n in zip(ids.tolist(), counts.tolist())}})
    return out
