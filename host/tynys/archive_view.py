"""The Parquet archive read as calibration reads a store: one node's windows, one site's
observations — so the fit and the drift watch run unchanged on an archive, on any machine that
sees its folder, with no database.

    with ArchiveView("/srv/archive") as src:
        w = src.windows("osk-01", ["pm.pm25_cf1", "th.rh"])          # the node's rows only
        ref = src.observations(src.site("csv:kazhydromet-1"), "pm25")

Every read is a ``pyarrow.dataset`` scan filtered on the node (or the site) and on the ``day=``
partitions of the period asked: the archive's files are sorted by node in row groups
(:data:`tynys.archive.ROW_GROUP`), so a reader of one node opens each day's footer and reads
only the row groups that can hold it, never the whole archive. The archive keeps no node
registry, no site ids and no site time zones: a node is any id with readings, a site is any
provider:id with observations, and a site's zone is unknown (24-h days need it named).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds

from . import archive
from .store.model import Observations, Site, StoreError, Windows
from .timeutil import iso

_OBS_COLS = ["provider", "site", "kind", "name", "lat", "lon", "parameter", "unit", "t0", "t1", "value", "qc"]


class ArchiveView:
    """Read-only access to a Tynys archive folder with the store's calibration reads. A node's
    rows and a site's observations are read once per view (a part opens its own view), whatever
    the number of reads the calibration makes of them."""

    def __init__(self, location, t0: int | None = None, t1: int | None = None):
        """*t0*, *t1*: read only periods starting in ``[t0, t1)`` (the files of those days)."""
        self.location = Path(location)
        self.period = (t0, t1)
        self._data = {t: archive.dataset(self.location, t) for t in ("readings", "observations")}  # refuses a non-archive
        self._sites: dict[int, Site] = {}
        self._site_obs: dict[int, pa.Table] = {}
        self._nodes: dict[str, pa.Table] = {}
        self._index: list[dict] | None = None

    def __enter__(self) -> ArchiveView:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self._sites.clear()
        self._site_obs.clear()
        self._nodes.clear()

    def _read(self, table: str, where, columns: list[str]) -> pa.Table:
        return archive.scan(self._data[table], self.location / table, table, filter=where, columns=columns)

    # nodes

    def _within(self, where):
        """*where* (None: every row), and only the days and periods of the view's period."""
        t0, t1 = self.period
        days = archive.day_filter(t0, t1)
        for extra in (days, None if t0 is None else ds.field("t0") >= int(t0), None if t1 is None else ds.field("t0") < int(t1)):
            if extra is not None:
                where = extra if where is None else where & extra
        return where

    def _node_rows(self, node: str) -> pa.Table:
        if node not in self._nodes:
            self._nodes[node] = self._read("readings", self._within(ds.field("node") == node),
                                           ["boot", "seq", "t0", "t1", "channel", "n", "mean"])
        return self._nodes[node]

    def node(self, node_id: str) -> str:
        """*node_id* when the archive holds readings of it (the archive has no registry)."""
        if not self._node_rows(node_id).num_rows:
            t0, t1 = self.period
            when = "" if t0 is None and t1 is None else f" between {iso(t0) or 'the start'} and {iso(t1) or 'the end'}"
            raise StoreError(f"no readings of node {node_id!r} in the archive {self.location}{when}: check the node id, "
                             "or export its days (tynys archive export)")
        return node_id

    def channel_names(self, node: str | None = None) -> list[str]:
        t = self._read("readings", None, ["channel"]) if node is None else self._node_rows(node)
        return sorted(pc.unique(t["channel"]).to_pylist())

    def windows(self, node: str, channels, t0: int | None = None, t1: int | None = None) -> Windows:
        """As :meth:`tynys.store.Store.windows`: one row per record of *node* starting in
        ``[t0, t1)`` (by t0, boot, seq), each channel's mean (NaN where absent) and n. Records are
        those with a value of any channel (the archive has no rows for a record without one);
        ``record`` numbers them in that order (the archive keeps no database ids)."""
        t = self._node_rows(node)
        if not t.num_rows:
            self.node(node)  # no readings at all: say so, rather than "none in this period"
        if t0 is not None or t1 is not None:
            t = t.filter(_between(t["t0"], t0, t1))
        boot, seq, start, stop = (t[c].to_numpy() for c in ("boot", "seq", "t0", "t1"))
        order = np.lexsort((seq, boot, start))  # by t0, boot, seq (the export's order already: then cheap)
        boot, seq, start, stop = boot[order], seq[order], start[order], stop[order]
        new = np.r_[True, (start[1:] != start[:-1]) | (boot[1:] != boot[:-1]) | (seq[1:] != seq[:-1])]
        row = np.empty(len(order), np.int64)
        row[order] = np.cumsum(new) - 1  # each archive row's record
        heads = np.flatnonzero(new)
        mean_all = t["mean"].to_numpy(zero_copy_only=False).astype(np.float64)
        n_all = t["n"].fill_null(0).to_numpy()
        mean, count = {}, {}
        for ch in channels:
            sel = pc.equal(t["channel"], ch).to_numpy(zero_copy_only=False)
            m, k = np.full(len(heads), np.nan), np.zeros(len(heads), np.int64)
            m[row[sel]], k[row[sel]] = mean_all[sel], n_all[sel]
            mean[ch], count[ch] = m, k
        return Windows(node, np.arange(len(heads), dtype=np.int64), start[heads], stop[heads], mean, count)

    # imported sites

    def site(self, ref: str) -> Site:
        """A site by ``provider:provider_id``, its provider id or its name (when unique)."""
        text = str(ref).strip()
        known = next((s for s in self._sites.values() if text in (s.ref, s.provider_id, s.name)), None)
        if known is not None:
            return known
        if self._index is None:  # the sites the archive names, once per view: lookups that miss cost no scan
            ids = self._read("observations", self._within(None), ["provider", "site", "name"])
            self._index = ids.group_by(["provider", "site", "name"], use_threads=False).aggregate([]).to_pylist()
        provider, _, pid = text.partition(":")
        found = sorted({(r["provider"], r["site"]) for r in self._index if (r["provider"], r["site"]) == (provider, pid)}
                       or {(r["provider"], r["site"]) for r in self._index if text in (r["site"], r["name"])})
        if not found:
            raise StoreError(f"no imported site {text!r} in the archive {self.location}: its observations are exported "
                             "with the database's days (tynys archive export), or add them (tynys archive add)")
        if len(found) > 1:
            raise StoreError(f"site {text!r} is ambiguous: {', '.join(f'{a}:{b}' for a, b in found)}; name it as provider:id")
        t = self._read("observations", self._within((ds.field("provider") == found[0][0]) & (ds.field("site") == found[0][1])),
                       _OBS_COLS)
        first = t.slice(0, 1).to_pylist()[0]
        s = Site(len(self._sites) + 1, first["provider"], first["site"], first["name"] or "", first["lat"], first["lon"],
                 first["kind"])
        self._sites[s.id], self._site_obs[s.id] = s, t
        return s

    def site_parameters(self, site_id: int) -> dict[str, dict]:
        site, t = self._sites[site_id], self._site_obs[site_id]
        out = {}
        for p in sorted(set(t["parameter"].to_pylist())):
            sub = t.filter(pc.equal(t["parameter"], p))
            units = sorted(set(sub["unit"].to_pylist()))
            if len(units) > 1:
                raise archive.ArchiveError(f"{self.location}: {site.ref} {p} is archived in {' and '.join(units)}: "
                                           "re-export it from one database")
            t0 = sub["t0"].to_numpy()
            out[p] = {"unit": units[0], "n": len(t0), "flagged": int(pc.sum(pc.not_equal(sub["qc"], "")).as_py() or 0),
                      "first": int(t0.min()), "last": int(t0.max())}
        return out

    def observations(self, site, parameter: str, t0: int | None = None, t1: int | None = None, *,
                     include_flagged: bool = False) -> Observations:
        """As :meth:`tynys.store.Store.observations`, by time. A period the archive holds twice
        (an export and a Sensor.Community file of the same values) counts once; the same
        period with two different values is refused, as no rule says which to take."""
        site = site if isinstance(site, Site) else self.site(site)
        params = self.site_parameters(site.id)
        if parameter not in params:
            raise StoreError(f"site {site.ref} has no {parameter!r}; it has {', '.join(params) or 'nothing'}")
        t = self._site_obs[site.id]
        keep = pc.and_(pc.equal(t["parameter"], parameter), _between(t["t0"], t0, t1))
        if not include_flagged:
            keep = pc.and_(keep, pc.equal(t["qc"], ""))
        t = t.filter(keep)
        start, stop = t["t0"].to_numpy(), t["t1"].to_numpy()
        value = t["value"].to_numpy(zero_copy_only=False).astype(np.float64)
        qc = np.asarray(t["qc"].to_pylist(), dtype=object)
        order = np.lexsort((value, stop, start))
        start, stop, value, qc = start[order], stop[order], value[order], qc[order]
        again = np.r_[False, (start[1:] == start[:-1]) & (stop[1:] == stop[:-1]) & (value[1:] == value[:-1])]
        start, stop, value, qc = start[~again], stop[~again], value[~again], qc[~again]
        clash = np.flatnonzero(start[1:] == start[:-1])
        if len(clash):
            raise archive.ArchiveError(f"{self.location}: {site.ref} {parameter} has {len(clash)} period(s) archived twice "
                                       "with different values (first at t0 = "
                                       f"{int(start[clash[0]])}): keep one of the files that hold them")
        return Observations(site, parameter, params[parameter]["unit"], start, stop, value, qc)


def _between(t0s: pa.ChunkedArray, t0: int | None, t1: int | None) -> pa.ChunkedArray:
    """Rows whose period starts in ``[t0, t1)`` (None: an open end)."""
    lo = pc.greater_equal(t0s, -(2**62) if t0 is None else int(t0))
    return pc.and_(lo, pc.less(t0s, 2**62 if t1 is None else int(t1)))
