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

_SITE_COLS = ["provider", "site", "kind", "name", "lat", "lon"]


class ArchiveView:
    """Read-only access to a Tynys archive folder with the store's calibration reads."""

    def __init__(self, location):
        self.location = Path(location)
        archive.dataset(self.location, "readings")  # refuses a folder that is not a Tynys archive, now
        self._sites: dict[int, Site] = {}

    def __enter__(self) -> ArchiveView:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self._sites.clear()

    def _read(self, table: str, where, columns: list[str]) -> pa.Table:
        return archive.read_table(self.location, table, filter=where, columns=columns)

    # nodes

    def node(self, node_id: str) -> str:
        """*node_id* when the archive holds readings of it (the archive has no registry)."""
        data = archive.dataset(self.location, "readings")
        if data is None or not data.scanner(filter=ds.field("node") == node_id, columns=["node"]).head(1).num_rows:
            raise StoreError(f"no readings of node {node_id!r} in the archive {self.location}: check the node id, "
                             "or export its days (tynys archive export)")
        return node_id

    def channel_names(self, node: str | None = None) -> list[str]:
        where = None if node is None else ds.field("node") == node
        return sorted(pc.unique(self._read("readings", where, ["channel"])["channel"]).to_pylist())

    def windows(self, node: str, channels, t0: int | None = None, t1: int | None = None) -> Windows:
        """As :meth:`tynys.store.Store.windows`: one row per record of *node* starting in
        ``[t0, t1)`` (by t0, boot, seq), each channel's mean (NaN where absent) and n. Records are
        those with a value of any channel (the archive has no rows for a record without one);
        ``record`` numbers them in that order (the archive keeps no database ids)."""
        where = ds.field("node") == node
        days = archive.day_filter(t0, t1)
        if days is not None:
            where = where & days
        if t0 is not None:
            where = where & (ds.field("t0") >= int(t0))
        if t1 is not None:
            where = where & (ds.field("t0") < int(t1))
        t = self._read("readings", where, ["boot", "seq", "t0", "t1", "channel", "n", "mean"])
        if not t.num_rows:
            self.node(node)  # no readings at all: say so, rather than "none in this period"
        boot, seq, start = (t[c].to_numpy() for c in ("boot", "seq", "t0"))
        key = np.stack([start, boot, seq], axis=1)
        heads, first, row = np.unique(key, axis=0, return_index=True, return_inverse=True)  # sorted by t0, boot, seq
        row = row.reshape(-1)
        stop = t["t1"].to_numpy()[first]
        channel = np.asarray(t["channel"].to_pylist(), dtype=object)
        mean_all = t["mean"].to_numpy(zero_copy_only=False).astype(np.float64)
        n_all = t["n"].fill_null(0).to_numpy()
        mean, count = {}, {}
        for ch in channels:
            sel = channel == ch
            m, k = np.full(len(heads), np.nan), np.zeros(len(heads), np.int64)
            m[row[sel]], k[row[sel]] = mean_all[sel], n_all[sel]
            mean[ch], count[ch] = m, k
        return Windows(node, np.arange(len(heads), dtype=np.int64), heads[:, 0].copy(), stop, mean, count)

    # imported sites

    def site(self, ref: str) -> Site:
        """A site by ``provider:provider_id``, its provider id or its name (when unique)."""
        text = str(ref).strip()
        provider, _, pid = text.partition(":")
        found = self._site_rows((ds.field("provider") == provider) & (ds.field("site") == pid)) if pid else []
        if not found:
            found = self._site_rows((ds.field("site") == text) | (ds.field("name") == text))
        if len(found) == 1:
            s = Site(len(self._sites) + 1, **found[0])
            known = next((k for k, v in self._sites.items() if v.ref == s.ref), None)
            if known is None:
                self._sites[s.id] = s
                return s
            return self._sites[known]
        if not found:
            raise StoreError(f"no imported site {text!r} in the archive {self.location}: its observations are exported "
                             "with the database's days (tynys archive export), or add them (tynys archive add)")
        raise StoreError(f"site {text!r} is ambiguous: {', '.join(f['provider'] + ':' + f['provider_id'] for f in found)}; "
                         "name it as provider:id")

    def _site_rows(self, where) -> list[dict]:
        t = self._read("observations", where, _SITE_COLS)
        if not t.num_rows:
            return []
        rows = t.group_by(_SITE_COLS, use_threads=False).aggregate([]).to_pylist()
        seen: dict = {}
        for r in sorted(rows, key=lambda r: (r["provider"], r["site"])):
            seen.setdefault((r["provider"], r["site"]), {
                "provider": r["provider"], "provider_id": r["site"], "name": r["name"] or "", "lat": r["lat"],
                "lon": r["lon"], "kind": r["kind"]})
        return list(seen.values())

    def _where_site(self, site: Site):
        return (ds.field("provider") == site.provider) & (ds.field("site") == site.provider_id)

    def site_parameters(self, site_id: int) -> dict[str, dict]:
        site = self._sites[site_id]
        t = self._read("observations", self._where_site(site), ["parameter", "unit", "t0", "qc"])
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
        where = self._where_site(site) & (ds.field("parameter") == parameter)
        days = archive.day_filter(t0, t1)
        if days is not None:
            where = where & days
        if t0 is not None:
            where = where & (ds.field("t0") >= int(t0))
        if t1 is not None:
            where = where & (ds.field("t0") < int(t1))
        if not include_flagged:
            where = where & (ds.field("qc") == "")
        t = self._read("observations", where, ["t0", "t1", "value", "qc"])
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
