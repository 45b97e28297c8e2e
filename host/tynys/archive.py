"""The Parquet archive: a network's data as Hive-partitioned Parquet files that pyarrow, pandas,
DuckDB, Spark and Dask read directly, on a shared disk or an object store.

    from tynys.archive import export, import_archive, add_sensor_community
    export(store, "archive", city="oskemen")       # every day in the store; again: same files
    add_sensor_community("archive", ["2024-01-01_sds011_sensor_1234.csv"], city="oskemen")
    import_archive(other_store, "archive")         # the observations, into another database

Layout (``DIR/_tynys_archive.json`` says it is one)::

    DIR/readings/city=oskemen/day=2026-01-01/export.parquet       node, boot, seq, t0, t1, timing, channel, n, mean, sd, min, max
    DIR/corrected/city=oskemen/day=2026-01-01/export.parquet      node, boot, seq, t0, t1, channel, value, version, model
    DIR/observations/city=oskemen/day=2026-01-01/export.parquet   provider, site, kind, name, lat, lon, parameter, t0, t1,
                                                                  value, unit, qc
    DIR/observations/city=oskemen/day=2024-01-01/sensor-community-<sha256[:16]>.parquet

A day is a UTC day of the period's start. Exporting a day again replaces its ``export.parquet``
atomically (written beside it under a dot-name, then renamed over it): a reader sees the old
file or the new one, and an export that fails leaves the old one. A Sensor.Community file adds
its own file per day (named by its content), so adding it again replaces it with the same rows.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from . import importers
from .errors import TynysError, first_line
from .imports import ImportResult, sha256_of
from .store import Store
from .store.archive import DAY, TABLES
from .timeutil import iso, recording_interval

MANIFEST = "_tynys_archive.json"
FORMAT = {"format": "tynys-archive", "version": 1}
EXPORT_FILE = "export.parquet"
_TEXT, _INT, _REAL = pa.string(), pa.int64(), pa.float64()
SCHEMAS = {
    "readings": pa.schema([("node", _TEXT), ("boot", _INT), ("seq", _INT), ("t0", _INT), ("t1", _INT), ("timing", _TEXT),
                           ("channel", _TEXT), ("n", _INT), ("mean", _REAL), ("sd", _REAL), ("min", _REAL), ("max", _REAL)]),
    "corrected": pa.schema([("node", _TEXT), ("boot", _INT), ("seq", _INT), ("t0", _INT), ("t1", _INT), ("channel", _TEXT),
                            ("value", _REAL), ("version", _INT), ("model", _TEXT)]),
    "observations": pa.schema([("provider", _TEXT), ("site", _TEXT), ("kind", _TEXT), ("name", _TEXT), ("lat", _REAL),
                               ("lon", _REAL), ("parameter", _TEXT), ("t0", _INT),
                               ("t1", _INT), ("value", _REAL), ("unit", _TEXT), ("qc", _TEXT)]),
}
assert all(tuple(SCHEMAS[t].names) == TABLES[t][1] for t in TABLES)
# Rows per row group of an exported day: its rows are sorted by node, so each group's statistics
# name a narrow range of nodes and a reader filtering on one node skips the other groups.
ROW_GROUP = 1 << 16
_CITY = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
_FIRST_DAY, _END = -62135596800, 253402300800  # 0001-01-01 and 10000-01-01: days a date can name


class ArchiveError(TynysError):
    """The folder is not a Tynys archive, or cannot be written or read as asked."""


def export(store: Store, out, *, city: str = "unknown", t0: int | None = None, t1: int | None = None) -> dict:
    """Write every UTC day of *store* from the one holding *t0* through the one holding *t1*
    (default: all; always whole days) under *out*; returns counts (``days``, rows per table,
    ``skipped_days`` whose date no calendar names)."""
    _check_city(city)
    out = _archive_dir(out, create=True)
    lo = -(2**62) if t0 is None else int(t0) // DAY * DAY
    hi = 2**62 if t1 is None else int(t1) // DAY * DAY + DAY
    days = store.archive_days(lo, hi)
    counts = {"days": 0, "skipped_days": 0, **dict.fromkeys(TABLES, 0)}
    for day in days:
        if not _FIRST_DAY <= day < _END:
            counts["skipped_days"] += 1
            continue
        for table in TABLES:
            cols = store.archive_rows(table, day)
            n = len(cols[TABLES[table][1][0]])
            if n:
                write_atomic(pa.table(cols, schema=SCHEMAS[table]), _partition(out, table, city, day) / EXPORT_FILE,
                             row_group_size=ROW_GROUP)
                counts[table] += n
        counts["days"] += 1
    return counts


def write_atomic(table: pa.Table, dest: Path, *, row_group_size: int | None = None) -> None:
    """*table* as the Parquet file *dest*: written beside it under a dot-name (readers skip those),
    flushed to disk, then renamed over it; on any failure *dest* is as it was and the dot-file gone."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.{os.getpid()}.tmp")
    try:
        pq.write_table(table, tmp, compression="zstd", row_group_size=row_group_size)
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())
        os.replace(tmp, dest)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_dir(dest.parent)


def add_sensor_community(out, files, *, city: str = "unknown") -> dict:
    """Sensor.Community archive CSVs straight into the archive's observations (no database on the
    way: a researcher's first step over months of files); returns counts. The files of one call
    go into one Parquet file per day, named by their contents: adding the same files again
    replaces it with the same rows (adding other files, or some of them again in another call,
    adds files beside it; ``tynys import parquet`` stores each value once either way)."""
    _check_city(city)
    out = _archive_dir(out, create=True)
    counts = {"files": 0, "rows": 0, "sites": 0}
    tables, digests = [], []
    for path in files:
        digests.append(sha256_of(path)[0])
        table = importers.read(path, "sensor_community", keep_flagged=True)
        parts = [(s, table.select(s)) for s in table.sites()] if table.site is not None else [(table.meta.get("site"), table)]
        for site, sub in parts:
            if not site:
                raise ArchiveError(f"{path}: the file names no sensor id: is it a Sensor.Community archive file?")
            step = recording_interval(sub.time) or 3600
            info = table.meta.get("sites", {}).get(str(site), {})
            for param, values in sub.columns.items():
                keep = np.isfinite(values)
                k = int(keep.sum())
                t = sub.time[keep]
                same = {"provider": "sensor-community", "site": str(site), "kind": "sensor", "name": info.get("name") or "",
                        "lat": info.get("lat"), "lon": info.get("lon"), "parameter": param, "unit": sub.units[param], "qc": ""}
                varying = {"t0": t, "t1": t + step, "value": values[keep]}
                tables.append(pa.table({f.name: varying[f.name] if f.name in varying else pa.repeat(pa.scalar(same[f.name], f.type), k)
                                        for f in SCHEMAS["observations"]}, schema=SCHEMAS["observations"]))
            counts["sites"] += 1
        counts["files"] += 1
    if not tables:
        return counts
    whole = pa.concat_tables(tables)
    name = "sensor-community-" + hashlib.sha256("\n".join(sorted(digests)).encode()).hexdigest()[:16] + ".parquet"
    day = whole["t0"].to_numpy() // DAY * DAY
    for d in np.unique(day):
        part = whole.filter(pa.array(day == d))
        write_atomic(part, _partition(out, "observations", city, int(d)) / name)
        counts["rows"] += part.num_rows
    return counts


def read_table(out, table: str, *, filter=None, columns=None) -> pa.Table:
    """One table of the archive at *out* (``city`` and ``day`` as columns), optionally filtered
    (a ``pyarrow.dataset`` expression, e.g. ``ds.field("node") == "osk-01"``: only the files and
    row groups whose partition or statistics can match are read) and cut to *columns*."""
    return scan(dataset(out, table), Path(out) / table, table, filter=filter, columns=columns)


def scan(data: ds.Dataset | None, root: Path, table: str, *, filter=None, columns=None) -> pa.Table:
    """*data* (:func:`dataset`, of the table *table* under *root*) read as :func:`read_table` reads it."""
    if data is None:
        empty = SCHEMAS[table].empty_table()
        return empty if columns is None else empty.select(columns)
    try:
        return data.to_table(filter=filter, columns=columns)
    except (pa.ArrowInvalid, OSError) as e:
        raise ArchiveError(f"{root}: a file there is not readable as this archive's Parquet ({first_line(e)}): "
                           "move it out of the archive, or re-export its day with tynys archive export") from None


def dataset(out, table: str) -> ds.Dataset | None:
    """The archive's *table* as a Hive-partitioned ``pyarrow.dataset`` (None when it has no such table)."""
    out = _archive_dir(out)
    root = out / table
    if not root.is_dir():
        return None
    part = ds.partitioning(pa.schema([("city", pa.string()), ("day", pa.string())]), flavor="hive")
    try:
        data = ds.dataset(root, format="parquet", partitioning=part)
    except (pa.ArrowInvalid, OSError) as e:
        raise ArchiveError(f"{root}: not readable as this archive's Parquet ({first_line(e)}): re-export it with tynys archive export") from None
    missing = [n for n in SCHEMAS[table].names if n not in data.schema.names]
    if missing:
        raise ArchiveError(f"{root}: files without the columns {', '.join(missing)} of a Tynys {table} table "
                           "(written by another tool?): keep only tynys archive files under it")
    return data


def day_filter(t0: int | None, t1: int | None):
    """The partitions (``day=``) that can hold periods starting in ``[t0, t1)``, as a dataset
    expression on the partition column (None: every day)."""
    f = None
    if t0 is not None:
        f = ds.field("day") >= iso(max(int(t0), _FIRST_DAY) // DAY * DAY)[:10]
    if t1 is not None:
        last = ds.field("day") <= iso(min(int(t1) - 1, _END - 1) // DAY * DAY)[:10]
        f = last if f is None else f & last
    return f


def import_archive(store: Store, out) -> ImportResult:
    """The archive's observations (reference stations, other networks' sensors) into *store*,
    each value once, as ``tynys import`` stores files: the whole folder in one transaction, and
    the same content twice lands once. Node readings are not imported: a node's records enter a
    database only through the signed ingest path."""
    out = _archive_dir(out)
    digest = _content_digest(out)
    earlier = store.imported(digest)
    if earlier is not None:
        return ImportResult(str(out), "parquet", digest, "already imported",
                            earlier={"name": earlier["name"], "format": earlier["kind"], "imported": iso(earlier["imported"]),
                                     "values": earlier["rows"], "detail": earlier["detail"]})
    obs = read_table(out, "observations")
    res = ImportResult(str(out), "parquet", digest, "imported")
    if read_table(out, "readings").num_rows:
        res.notes.append(f"{out}: node readings are not imported (a node's records enter a database only through "
                         "the signed ingest); read them with pyarrow or pandas (docs/scale.md)")
    with store.transaction():
        import_id = store.record_import(digest, out.name, "parquet", 0, 0)
        if import_id is None:
            return ImportResult(str(out), "parquet", digest, "already imported")
        keys = ["provider", "site", "kind", "name", "lat", "lon", "parameter", "unit"]
        groups = obs.group_by(keys, use_threads=False).aggregate([]).to_pylist() if obs.num_rows else []
        by_site: dict = {}
        for g in sorted(groups, key=lambda g: [g[k] for k in keys]):
            sel = obs.filter(_match(obs, g, keys))
            st, created = store.ensure_site(g["provider"], g["site"], kind=g["kind"], name=g["name"] or "",
                                            lat=g["lat"], lon=g["lon"])
            stored = store.observation_unit(st.id, g["parameter"])
            if stored is not None and stored != g["unit"]:
                raise ArchiveError(f"{out}: {st.ref} {g['parameter']} is stored in {stored}, the archive gives {g['unit']}: "
                                   "import it into another database")
            row = by_site.setdefault(st.ref, {"site": st.ref, "name": st.name, "kind": st.kind, "created": created,
                                              "interval_s": None, "parameters": {}})
            t0, t1 = sel["t0"].to_numpy(), sel["t1"].to_numpy()
            order = np.argsort(t0, kind="stable")
            t0, t1, value = t0[order], t1[order], sel["value"].to_numpy()[order]
            qc = np.asarray(sel["qc"].to_pylist(), dtype=str)[order]
            got = dict.fromkeys(("new", "duplicate", "differing", "repeated"), 0)
            for start in range(0, len(t0), 10_000):
                part = slice(start, start + 10_000)
                c = store.insert_observations(import_id, st.id, g["parameter"], t0[part], t1[part], value[part], g["unit"], qc[part])
                for k in got:
                    got[k] += c[k]
            row["interval_s"] = int(np.median(t1 - t0)) if len(t0) else None
            row["parameters"][g["parameter"]] = {"unit": g["unit"], **got, "flagged": int((qc != "").sum()),
                                                 "first": iso(t0.min()), "last": iso(t0.max())}
            res.values += len(t0)
            for k in got:
                setattr(res, k, getattr(res, k) + got[k])
        res.sites = list(by_site.values())
        store.finish_import(import_id, res.new, f"{len(res.sites)} site(s): {res.values} values, {res.new} new, "
                                                f"{res.duplicate} already stored ({res.differing} differing)")
    return res


def _match(t: pa.Table, g: dict, keys) -> pa.Array:
    """Rows of *t* whose *keys* are those of group *g* (a missing coordinate matches a missing one)."""
    mask = None
    for k in keys:
        m = pc.is_null(t[k]) if g[k] is None else pc.fill_null(pc.equal(t[k], g[k]), False)
        mask = m if mask is None else pc.and_(mask, m)
    return mask



def _archive_dir(out, *, create: bool = False) -> Path:
    out = Path(out)
    manifest = out / MANIFEST
    if manifest.is_file():
        try:
            doc = json.loads(manifest.read_text())
        except (ValueError, OSError) as e:
            raise ArchiveError(f"{manifest}: not readable ({e}): restore it or export into a new folder") from None
        if doc.get("format") != FORMAT["format"]:
            raise ArchiveError(f"{out}: {MANIFEST} is not a Tynys archive's: export into a new folder")
        if doc.get("version") != FORMAT["version"]:
            raise ArchiveError(f"{out} is a Tynys archive of version {doc.get('version')}; this tynys writes and reads "
                               f"version {FORMAT['version']}: use the tynys that wrote it, or export into a new folder")
        return out
    if out.is_dir() and any(out.iterdir()):
        what = "Parquet files of another tool" if any(out.rglob("*.parquet")) else "files"
        raise ArchiveError(f"{out} holds {what} but no {MANIFEST}: it is not a Tynys archive; "
                           f"{'export into an empty or new folder' if create else 'name a folder written by tynys archive export'}")
    if not create:
        raise ArchiveError(f"{out}: no Tynys archive there: write one with tynys archive export --db DB --out {out}")
    out.mkdir(parents=True, exist_ok=True)
    write_atomic_text(manifest, json.dumps(FORMAT, indent=1) + "\n")
    return out


def write_atomic_text(dest: Path, text: str) -> None:
    tmp = dest.with_name(f".{dest.name}.{os.getpid()}.tmp")
    tmp.write_text(text)
    os.replace(tmp, dest)


def _partition(out: Path, table: str, city: str, day: int) -> Path:
    return out / table / f"city={city}" / f"day={iso(day)[:10]}"


def _check_city(city: str) -> None:
    if not _CITY.fullmatch(city):
        raise ArchiveError(f"--city {city!r}: write it as lowercase letters, digits, - and _ (e.g. oskemen, almaty)")


def _content_digest(out: Path) -> str:
    """The import ledger's key of an archive: its observation files' names and contents (the same
    archive, or a copy of it, lands once; a day exported again since is a new import)."""
    h = hashlib.sha256(b"tynys-archive\n")
    for p in sorted((out / "observations").rglob("*.parquet")):
        if not p.name.startswith("."):
            h.update(f"{p.relative_to(out)}\t{sha256_of(p)[0]}\n".encode())
    return h.hexdigest()


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
