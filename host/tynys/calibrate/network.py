"""Calibration over a whole network: every node fitted, or every sensor watched for drift, as
independent parts — in this process or on a Dask cluster (:mod:`tynys.cluster`) — by the same
functions that fit one node or watch one sensor, so the results are the same either way.

    from tynys.calibrate import network
    rows = network.fit_nodes(store, ["osk-01", "osk-02"], "csv:kazhydromet-1:pm25", model="mlr_rh", cluster="local:4")
    watched = network.watch_sensors(data, cluster="local:4", baseline_days=30)

    rows = network.fit_nodes(store, nodes, "csv:kazhydromet-1:pm25", archive="/srv/archive", cluster="tcp://sched:8786")
    watched = network.watch_nodes(nodes, "csv:kazhydromet-1:pm25", archive="/srv/archive", cluster="local:4")

A part is sent a node id and where to read (the database's location, or the archive's folder),
never data: the worker opens the database itself (a SQLite file on shared storage, or the
PostgreSQL URL), or reads only its node's rows of the Parquet archive
(:class:`tynys.archive_view.ArchiveView`), and only reads; the profiles are stored by the
caller once every part came back.
"""

from __future__ import annotations

import contextlib
import dataclasses

import numpy as np

from ..cluster import map_parts
from ..errors import TynysError
from ..store import Store
from . import stored
from .inputs import Colocated
from .profiles import ProfileStore


def fit_nodes(store: Store | None, nodes, reference: str, *, channel: str | None = None, cluster: str | None = None,
              archive=None, folder=None, **fit_kw) -> list[dict]:
    """Fit each of *nodes* against *reference* (:func:`tynys.calibrate.stored.fit_profile_from_store`
    per node), reading *store*, or the Parquet archive folder *archive* when named; then store
    each fitted profile as its node's next version in *store*, or write it to the profile folder
    *folder* when named, in the nodes' order. Returns per node ``{"node", "id" or "path",
    "profile", "summary"}``, or ``{"node", "error"}`` for a node that could not be fitted (the
    others are still kept)."""
    source = _source(store, archive)
    parts = map_parts(fit_one, list(nodes), source, reference, channel, fit_kw, cluster=cluster)
    files = ProfileStore(folder) if folder is not None else None
    out = []
    for node, profile, summary, error in parts:
        if error is not None:
            out.append({"node": node, "error": error})
        elif files is not None:
            profile = files.save(profile)
            out.append({"node": node, "path": str(files.path(profile)), "profile": profile, "summary": summary})
        elif profile.fitted_on.get("sensor_kind") == "site":
            out.append({"node": node, "error": f"{node} is an imported site, not a node: fit it alone with --profiles DIR"})
        else:
            s = stored.save(store, profile)
            out.append({"node": node, "id": s.id, "profile": s.profile, "summary": summary})
    return out


def _source(store: Store | None, archive) -> tuple[str, str]:
    """What the parts read; an archive folder is checked here, once, before any part is sent."""
    if archive is None:
        return "db", str(store.location)
    from ..archive_view import ArchiveView
    ArchiveView(archive).close()
    return "archive", str(archive)


@contextlib.contextmanager
def reading(source: tuple[str, str], t0: int | None = None, t1: int | None = None):
    """What a part reads: ``("db", location)`` a database, ``("archive", folder)`` the Parquet
    archive (only the days of periods starting in ``[t0, t1)``)."""
    kind, location = source
    if kind == "archive":
        from ..archive_view import ArchiveView
        with ArchiveView(location, t0, t1) as a:
            yield a
    else:
        with Store.open(location, readonly=True) as s:
            yield s


def fit_one(node: str, source: tuple[str, str], reference: str, channel: str | None, fit_kw: dict):
    """One part: ``(node, profile, summary, None)``, or ``(node, None, None, message)`` when the
    node cannot be fitted (a message, not an exception: the other nodes go on)."""
    try:
        with reading(source, fit_kw.get("t0"), fit_kw.get("t1")) as s:
            profile, summary = stored.fit_profile_from_store(s, node, channel, reference, **fit_kw)
    except TynysError as e:
        return node, None, None, str(e)
    return node, profile, summary, None


def watch_nodes(nodes, reference: str, *, store: Store | None = None, archive=None, channel: str | None = None,
                cluster: str | None = None, read_kw: dict | None = None, **watch_kw) -> list:
    """:func:`tynys.calibrate.watch.watch` for each of *nodes*, co-located with *reference*
    (:func:`tynys.calibrate.stored.colocated_from_store`, *read_kw* its interval, period, RH/T,
    zone), read from *store* or from the archive folder *archive*, each node a part; a node
    that cannot be read or watched is reported among several (:attr:`Watch.problem`), refused
    alone, as :func:`watch_sensors` does for files."""
    nodes = list(nodes)
    source = _source(store, archive)
    parts = map_parts(watch_node, nodes, source, reference, channel, read_kw or {}, watch_kw, len(nodes) == 1,
                      cluster=cluster)
    return [w for ws in parts for w in ws]


def watch_node(node: str, source: tuple[str, str], reference: str, channel: str | None, read_kw: dict, watch_kw: dict,
               alone: bool) -> list:
    """One part: one node read where *source* says, co-located and watched."""
    from .watch import Watch, watch

    try:
        with reading(source, read_kw.get("t0"), read_kw.get("t1")) as s:
            data = stored.colocated_from_store(s, node, channel, reference, **read_kw)
        if not len(data):
            raise TynysError(f"{node}: no co-located {data.interval} intervals with {data.reference}: check the node "
                             "and the reference overlap in time")
        return watch(data, alone=alone, **watch_kw)
    except TynysError as e:
        if alone:
            raise
        return [Watch(node, read_kw.get("interval", "1h"), "", (0, 0), 0, {}, 0, 0, problem=str(e))]


def colocate_nodes(nodes, reference: str, *, store: Store | None = None, archive=None, channel: str | None = None,
                   cluster: str | None = None, read_kw: dict | None = None) -> Colocated:
    """*nodes* co-located with *reference* (:func:`tynys.calibrate.stored.colocated_from_store`),
    each node read as a part from *store* or the archive folder *archive*, pooled into one
    :class:`~tynys.calibrate.inputs.Colocated` (a node's rows labelled by its id), as
    ``tynys calibrate compare`` pools co-located sensor files."""
    nodes = list(nodes)
    parts = map_parts(colocate_node, nodes, _source(store, archive), reference, channel, read_kw or {}, cluster=cluster)
    first = parts[0]
    for node, p in zip(nodes, parts):
        if (p.pollutant, p.unit) != (first.pollutant, first.unit):
            raise TynysError(f"{node} measures {p.pollutant} [{p.unit}], {nodes[0]} {first.pollutant} [{first.unit}]: "
                             "compare nodes of one pollutant (--channel)")
    cat = lambda f: None if any(f(p) is None for p in parts) else np.concatenate([f(p) for p in parts])  # noqa: E731
    notes = [f"{node}: no co-located {first.interval} intervals with the reference" for node, p in zip(nodes, parts) if not len(p)]
    return dataclasses.replace(first, x=cat(lambda p: p.x), y=cat(lambda p: p.y), rh=cat(lambda p: p.rh),
                               t_c=cat(lambda p: p.t_c), time=cat(lambda p: p.time), site=cat(lambda p: p.site),
                               sensors=nodes, notes=notes)


def colocate_node(node: str, source: tuple[str, str], reference: str, channel: str | None, read_kw: dict) -> Colocated:
    """One part: one node read where *source* says, co-located with the reference."""
    try:
        with reading(source, read_kw.get("t0"), read_kw.get("t1")) as s:
            return stored.colocated_from_store(s, node, channel, reference, **read_kw)
    except TynysError as e:
        raise TynysError(f"{node}: {e}") from None


def watch_sensors(data: Colocated, *, cluster: str | None = None, **watch_kw) -> list:
    """:func:`tynys.calibrate.watch.watch` for each sensor of *data* as its own part (its own
    baseline, alarms and refit, as the pooled call gives them; a sensor that cannot be watched
    is reported among several, refused alone, as there)."""
    from .watch import watch

    if len(data.sensors) <= 1 or not len(data):
        return watch(data, **watch_kw)
    parts = map_parts(watch_one, [sensor_part(data, s) for s in data.sensors], watch_kw, cluster=cluster)
    return [w for ws in parts for w in ws]


def watch_one(part: Colocated, watch_kw: dict) -> list:
    """One part: one sensor watched as one of several."""
    from .watch import watch

    return watch(part, alone=False, **watch_kw)


def sensor_part(data: Colocated, sensor: str) -> Colocated:
    """The rows of one sensor of *data* (its own arrays: a part sent to a worker carries only them)."""
    sel = data.site == sensor
    pick = lambda a: None if a is None else a[sel]  # noqa: E731 - boolean indexing copies
    return dataclasses.replace(data, x=pick(data.x), y=pick(data.y), rh=pick(data.rh), t_c=pick(data.t_c),
                               time=pick(data.time), site=pick(data.site), sensors=[sensor])
