"""Calibration over a whole network: every node fitted, or every sensor watched for drift, as
independent parts — in this process or on a Dask cluster (:mod:`tynys.cluster`) — by the same
functions that fit one node or watch one sensor, so the results are the same either way.

    from tynys.calibrate import network
    rows = network.fit_nodes(store, ["osk-01", "osk-02"], "csv:kazhydromet-1:pm25", model="mlr_rh", cluster="local:4")
    watched = network.watch_sensors(data, cluster="local:4", baseline_days=30)

A worker opens the database itself (a SQLite file on shared storage, or the PostgreSQL URL) and
only reads; the profiles are stored by the caller once every part came back.
"""

from __future__ import annotations

import dataclasses

from ..cluster import map_parts
from ..errors import TynysError
from ..store import Store
from . import stored
from .inputs import Colocated


def fit_nodes(store: Store, nodes, reference: str, *, channel: str | None = None, cluster: str | None = None,
              **fit_kw) -> list[dict]:
    """Fit each of *nodes* against *reference* (:func:`tynys.calibrate.stored.fit_profile_from_store`
    per node), then store each fitted profile as its node's next version, in the nodes' order.
    Returns per node ``{"node", "id", "profile", "summary"}``, or ``{"node", "error"}`` for a node
    that could not be fitted (the others are still stored)."""
    parts = map_parts(fit_one, list(nodes), str(store.location), reference, channel, fit_kw, cluster=cluster)
    out = []
    for node, profile, summary, error in parts:
        if error is not None:
            out.append({"node": node, "error": error})
            continue
        if profile.fitted_on.get("sensor_kind") == "site":
            out.append({"node": node, "error": f"{node} is an imported site, not a node: fit it alone with --profiles DIR"})
            continue
        s = stored.save(store, profile)
        out.append({"node": node, "id": s.id, "profile": s.profile, "summary": summary})
    return out


def fit_one(node: str, location: str, reference: str, channel: str | None, fit_kw: dict):
    """One part: ``(node, profile, summary, None)``, or ``(node, None, None, message)`` when the
    node cannot be fitted (a message, not an exception: the other nodes go on)."""
    try:
        with Store.open(location, readonly=True) as s:
            profile, summary = stored.fit_profile_from_store(s, node, channel, reference, **fit_kw)
    except TynysError as e:
        return node, None, None, str(e)
    return node, profile, summary, None


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
