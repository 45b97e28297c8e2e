"""The network's hourly series as per-node parts — on Dask workers with a cluster
(:mod:`tynys.cluster`) — stacked into the one :class:`~tynys.pipeline.hourly.Hourly` that
:func:`~tynys.pipeline.hourly.hourly` gives in one process. The NowCast, the indices and the
city's statistics are then computed from it as always: only reading and averaging each node's
windows (the part that grows with the network) is spread."""

from __future__ import annotations

import numpy as np

from ..cluster import map_parts
from ..store import Store, StoreError
from .hourly import Hourly, Quantity, hourly, period

_ARRAYS = ("raw", "corrected", "version", "singles_raw", "singles_corrected", "windows")


def hourly_parts(store: Store, t0: int | None = None, t1: int | None = None, nodes=None, *, cluster: str | None = None,
                 **kw) -> Hourly:
    """:func:`~tynys.pipeline.hourly.hourly`, each node a part on *cluster* (None: in this process, one call)."""
    if cluster is None:
        return hourly(store, t0, t1, nodes, **kw)
    chosen = [n for n in store.nodes() if nodes is None or n.id in set(nodes)]
    if nodes is not None and len(chosen) < len(set(nodes)):
        hourly(store, t0, t1, nodes, **kw)  # raises the single-process path's message for the unknown ids
    if not chosen:
        raise StoreError(f"no nodes in {store.path}: see tynys nodes list")
    # the whole network's period, fixed before the parts (each node alone would take its own newest hour)
    t0, t1 = period(store, chosen, t0, t1, some=nodes is not None)
    parts = map_parts(node_hourly, [n.id for n in chosen], str(store.location), t0, t1, kw, cluster=cluster)
    return stack(parts)


def node_hourly(node: str, location: str, t0: int, t1: int, kw: dict) -> Hourly:
    """One part: one node's hourly series (the database opened read-only by the worker)."""
    with Store.open(location, readonly=True) as s:
        return hourly(s, t0, t1, [node], **kw)


def stack(parts: list[Hourly]) -> Hourly:
    """One :class:`Hourly` of the parts' nodes, in their order."""
    def quantity(name: str) -> Quantity:
        qs = [getattr(p, name) for p in parts]
        return Quantity(qs[0].pollutant, qs[0].unit, [c for q in qs for c in q.choices],
                        *(np.concatenate([getattr(q, a) for q in qs]) for a in _ARRAYS))
    return Hourly(parts[0].hours, parts[0].start, [n for p in parts for n in p.nodes], quantity("pm25"), quantity("so2"),
                  notes=[n for p in parts for n in p.notes])
