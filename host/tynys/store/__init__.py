"""The host's store: a narrow, engine-neutral schema in one SQLite file (WAL mode; the embedded
default) or in a PostgreSQL database (``postgresql://…``: a network's collectors on several
machines writing at once).

A package by concern; :class:`Store` is a thin facade whose methods are the functions of:

- ``schema``: the versioned migrations (docs/host.md section 7 has the tables);
- ``nodes``: the registry (keys live outside the database, see ``tynys.keys``);
- ``records``: the record lines as received (never rewritten) with their sensors and channels;
- ``timing``: what re-timing unsynced records reads and writes (``tynys.retime`` holds the rule);
- ``rejects``: refused lines with their reasons;
- ``ledger``: the import ledger that makes an imported file land once;
- ``sites``: imported sites and observations (data that did not come from a Tynys node);
- ``profiles``: calibration profiles and the corrected values beside the raw ones;
- ``queries``: series, aligned windows, latest records, raw lines (by effective window time);
- ``stats``: counts for ``tynys db stats``;
- ``archive``: one UTC day of readings, corrected values and observations for ``tynys archive export``;
- ``sqlite`` and ``postgres``: the only modules that speak a SQL dialect (connections,
  transactions, locks, DDL, bulk loads, backup, integrity checks, which errors mean
  busy/damaged/read-only/unreachable). Everything above them is plain SQL both engines run;
  :meth:`Store.open` picks the engine from what ``--db`` names (a file or a URL).

Query API for the rest of the toolkit::

    store = Store.open("city.db")              # or Store.open("postgresql://tynys:…@db.example.org/tynys")
    s = store.series("osk-01", "pm.pm25_cf1", t0, t1)   # numpy arrays: s.t0, s.mean, s.n, ...
    store.latest()                                       # newest record per node, with channel means
    w = store.windows("osk-01", ["pm.pm25_cf1", "th.rh"])  # channels aligned on records
    ref = store.observations("airnowtech:370630099", "pm25") # imported values: ref.t0, ref.value, ref.unit
    c = store.corrected("osk-01", "pm.pm25_cf1")          # corrected values with profile id/version
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

from . import archive as _archive
from . import counters as _counters
from . import ledger as _ledger
from . import nodes as _nodes
from . import profiles as _profiles
from . import queries as _queries
from . import records as _records
from . import rejects as _rejects
from . import schema as _schema
from . import sites as _sites
from . import stats as _stats
from . import timing as _timing
from .model import Corrected, Node, NodeRows, NodeSensor, Observations, Series, Site, StoreDamaged, StoreError, Windows
from .rejects import REJECT_RAW_MAX
from .schema import MIGRATIONS
from .sqlite import SQLite

URL_SCHEMES = ("postgresql://", "postgres://")


def is_url(db: str | os.PathLike) -> bool:
    """Does *db* name a server database (``postgresql://…``) rather than a file?"""
    return str(db).startswith(URL_SCHEMES)


def shown(db: str | os.PathLike) -> str:
    """*db* as messages show it: a URL without its password."""
    if is_url(db):
        from .postgres import display

        return display(str(db))
    return str(db)


def _engine(db: str | os.PathLike):
    if is_url(db):
        from .postgres import PostgreSQL  # the driver loaded only for a server database

        return PostgreSQL
    return SQLite

__all__ = ["Store", "is_url", "shown", "StoreError", "StoreDamaged", "Node", "NodeRows", "NodeSensor", "Series", "Site", "Observations", "Windows",
           "Corrected", "MIGRATIONS", "REJECT_RAW_MAX"]


def _on_db(fn):
    """A facade method: *fn* called with the store's database connection, errors of the world
    (busy, damaged, read-only, disk full) turned into a StoreError that says what to do."""

    @functools.wraps(fn)
    def method(self, *args, **kw):
        try:
            return fn(self.db, *args, **kw)
        except self.db.Error as e:
            err = self.db.translate(e)
            if err is e:
                raise
            raise err from None

    return method


class Store:
    """A connection to one database. Not shared between threads: open one per thread."""

    def __init__(self, db):
        self.db = db

    @property
    def path(self) -> Path | str:
        """Where the data are, for messages: the file, or the URL without its password."""
        return self.db.path

    @property
    def location(self) -> Path | str:
        """What :meth:`open` takes to open this database again (a URL keeps its password)."""
        return self.db.location

    @property
    def conn(self):
        """The driver's connection, for tests and one-off SQL (library code goes through the modules)."""
        return self.db.conn

    @classmethod
    def open(cls, path: str | os.PathLike, *, create: bool = True, timeout: float = 10.0,
             synchronous: str = "FULL", readonly: bool = False, check: bool = False) -> "Store":
        """Open (and create or migrate) the database at *path*: a SQLite file, or a PostgreSQL URL.

        *readonly*: write nothing (for commands that only read; works on a file the user may not
        write). *check*: run a quick integrity check first (``serve``, ``ingest``, ``db backup``).
        ``synchronous=FULL``: every commit is on disk when it returns (see :meth:`SQLite.open`).
        """
        engine = _engine(path)
        db = engine.open(path, create=create, timeout=timeout, synchronous=synchronous, readonly=readonly, check=check)
        try:
            if not readonly:
                _schema.migrate(db)
            elif _schema.version(db) < _schema.latest() and db.may_write():
                db.close()  # an older schema in a database we may write: upgrade it once, then read
                cls.open(path, create=False, timeout=timeout).close()
                db = engine.open(path, timeout=timeout, readonly=True)
            if readonly:
                _readable(db)
        except BaseException as e:
            db.close()
            if isinstance(e, engine.Error) and db.translate(e) is not e:
                raise db.translate(e) from None
            raise
        return cls(db)

    def close(self) -> None:
        self.db.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def transaction(self):
        """``with store.transaction():`` one atomic commit, on disk when the block ends (rolled
        back on any exception); only then may a caller acknowledge what it wrote."""
        return self.db.transaction()

    def backup(self, dest: str | os.PathLike) -> Path:
        """A consistent, checked copy while ingest keeps running; *dest* is never left damaged."""
        return self.db.backup(dest)

    # schema
    schema_version = _on_db(_schema.version)
    migrate = _on_db(_schema.migrate)
    # registry
    registry_rev = _on_db(_nodes.registry_rev)
    add_node = _on_db(_nodes.add_node)
    retire_node = _on_db(_nodes.retire_node)
    nodes = _on_db(_nodes.nodes)
    node = _on_db(_nodes.node)
    has_node = _on_db(_nodes.has_node)
    retirements = _on_db(_nodes.retirements)
    # records (the ingest path, inside its transaction)
    insert_record = _on_db(_records.insert_record)
    insert_records = _on_db(_records.insert_records)
    stored_record = _on_db(_records.stored_record)
    existing = _on_db(_records.existing)
    newest_received = _on_db(_records.newest_received)
    # re-timing
    clock_anchors = _on_db(_timing.clock_anchors)
    clocked_before = _on_db(_timing.clocked_before)
    untimed = _on_db(_timing.untimed)
    set_windows = _on_db(_timing.set_windows)
    set_timing = _on_db(_timing.set_timing)
    # refusals
    insert_reject = _on_db(_rejects.insert_reject)
    add_rejects = _on_db(_rejects.add_rejects)
    rejects = _on_db(_rejects.rejects)
    reject_counts = _on_db(_rejects.reject_counts)
    # import ledger
    imported = _on_db(_ledger.imported)
    record_import = _on_db(_ledger.record_import)
    finish_import = _on_db(_ledger.finish_import)
    # imported sites and observations
    sites = _on_db(_sites.sites)
    site = _on_db(_sites.site)
    ensure_site = _on_db(_sites.ensure_site)
    observation_unit = _on_db(_sites.observation_unit)
    insert_observations = _on_db(_sites.insert_observations)
    observations = _on_db(_sites.observations)
    site_parameters = _on_db(_sites.site_parameters)
    # calibration profiles and corrected values
    add_profile = _on_db(_profiles.add_profile)
    profiles = _on_db(_profiles.profiles)
    put_corrected = _on_db(_profiles.put_corrected)
    corrected = _on_db(_profiles.corrected)
    # queries by window time
    series = _on_db(_queries.series)
    series_many = _on_db(_queries.series_many)
    channels_many = _on_db(_queries.channels_many)
    windows = _on_db(_queries.windows)
    channel_names = _on_db(_queries.channel_names)
    latest = _on_db(_queries.latest)
    sensor_counts = _on_db(_queries.sensor_counts)
    recount_sensor_hours = _on_db(_counters.recount)
    raw_lines = _on_db(_queries.raw_lines)
    last_arrival = _on_db(_queries.last_arrival)
    arrived_after = _on_db(_queries.arrived_after)
    node_totals = _on_db(_queries.node_totals)
    stats = _on_db(_stats.stats)
    # the Parquet archive's day slices
    archive_days = _on_db(_archive.archive_days)
    archive_rows = _on_db(_archive.archive_rows)


def _readable(db) -> None:
    """A database opened read-only must already have this tynys's schema (it cannot be migrated)."""
    have = _schema.version(db)
    if have == _schema.latest():
        return
    if have > _schema.latest():
        raise StoreError(f"{db.path} has schema version {have}, newer than this tynys knows ({_schema.latest()}): upgrade tynys")
    raise StoreError(f"{db.path} has schema version {have}; this tynys reads version {_schema.latest()} and cannot "
                     "upgrade a database it may not write: let its owner run any writing tynys command on it once "
                     "(tynys serve, tynys nodes add, tynys import)")
