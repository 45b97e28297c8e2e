"""Host fixtures: a registered city in a temporary database, of either engine.

A test module marked ``pytest.mark.backends`` runs every test that uses ``backend`` (through
``city``, ``new_db`` or directly) on SQLite and on PostgreSQL (a real server, ``pg_server``);
elsewhere ``backend`` is SQLite.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import sqlite3
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # factory.py

from factory import KEY  # noqa: E402

from tynys.ingest import Ingestor  # noqa: E402
from tynys.keys import KeyFile  # noqa: E402
from tynys.registry import add_node, parse_sensor  # noqa: E402
from tynys.store import Store  # noqa: E402

VECTOR_T1 = 1795813500  # window end of the shared vectors


BACKENDS = ("sqlite", "postgresql")
_names = itertools.count()


def pytest_generate_tests(metafunc):
    if "backend" in metafunc.fixturenames and metafunc.definition.get_closest_marker("backends"):
        metafunc.parametrize("backend", BACKENDS, indirect=True, scope="module")


@pytest.fixture(scope="session")
def backend(request) -> str:
    return getattr(request, "param", "sqlite")


class Databases:
    """Fresh databases of one engine: a file in a folder, or a schema (cheap) or a whole database
    (copyable) in the session's PostgreSQL server."""

    def __init__(self, backend: str, request):
        self.backend = backend
        self.pg = request.getfixturevalue("pg_server") if backend == "postgresql" else None

    def new(self, root: Path, name: str = "city", *, copyable: bool = False):
        if self.pg is None:
            return root / f"{name}.db"
        unique = f"t{os.getpid()}_{next(_names)}_{name}".lower()
        return self.pg.new_database(unique) if copyable else self.pg.new_schema(unique)

    def copy(self, src, root: Path, name: str):
        """A private copy of a database made with ``copyable=True`` (closed by everyone)."""
        if self.pg is None:
            with Store.open(src) as s:
                return s.backup(root / f"{name}.db")
        return self.pg.new_database(f"t{os.getpid()}_{next(_names)}_{name}".lower(), template=src)


@pytest.fixture(scope="session")
def dbs(backend, request) -> Databases:
    return Databases(backend, request)


@pytest.fixture
def new_db(dbs, tmp_path):
    """``new_db(name="city")``: the location of a new, empty database (a path or a URL)."""
    return lambda name="city": dbs.new(tmp_path, name)


class City:
    """A database with osk-01 (the shared vectors' key), osk-02 (same key) and osk-03 (its own key)."""

    def __init__(self, root: Path, vector_key: bytes, db=None):
        self.db = root / "city.db" if db is None else db
        self.keys = KeyFile(root / "city.keys")
        self.store = Store.open(self.db)
        add_node(self.store, self.keys, "osk-01", name="School 12", lat=49.948, lon=82.628, height_m=3, district="Ulba",
                 sensors=[parse_sensor("pm=pms5003"), parse_sensor("so2=isb:so2-b4"), parse_sensor("th=sht3x")], key=vector_key)
        add_node(self.store, self.keys, "osk-02", key=vector_key)
        self.key3 = add_node(self.store, self.keys, "osk-03", key=KEY)[1]

    def ingestor(self, **kw) -> Ingestor:
        kw.setdefault("now", lambda: VECTOR_T1 + 30)
        return Ingestor(self.store, self.keys, **kw)


@pytest.fixture
def sqlite_city(tmp_path, record_vectors) -> City:
    """The city in a SQLite file (tests of what only a file has: WAL, damage, backups)."""
    c = City(tmp_path, bytes.fromhex(record_vectors["key"]))
    yield c
    c.store.close()


@pytest.fixture
def city(tmp_path, record_vectors, new_db) -> City:
    c = City(tmp_path, bytes.fromhex(record_vectors["key"]), new_db())
    yield c
    c.store.close()


def assert_sensor_hours_exact(store) -> list[tuple]:
    """The hourly sums of the sensors' counters (``sensor_hours``, kept by every write) equal a
    count over every stored window; returns them ``(hour, node, slot, type, records, frames,
    bad, warmup, missing)``."""
    kept = store.db.execute("SELECT hour, node, slot, type, records, frames, bad, warmup, missing FROM sensor_hours"
                            " WHERE records != 0 ORDER BY hour, node, slot, type").fetchall()
    counted = store.db.execute(
        "SELECT r.eff_t0 - r.eff_t0 % 3600 AS h, r.node, s.slot, s.type, COUNT(*), SUM(s.frames), SUM(s.bad), SUM(s.warmup),"
        " SUM(s.missing) FROM records r JOIN record_sensors s ON s.record = r.id WHERE r.eff_t0 IS NOT NULL"
        " GROUP BY h, r.node, s.slot, s.type ORDER BY h, r.node, s.slot, s.type").fetchall()
    assert [tuple(r) for r in kept] == [tuple(r) for r in counted]
    assert not store.db.execute("SELECT 1 FROM sensor_hours WHERE records < 0 OR (records = 0 AND frames + bad + warmup"
                                " + missing != 0)").fetchall()
    return [tuple(r) for r in kept]


@contextlib.contextmanager
def writer_holding_the_lock(db):
    """Another program in the middle of a write that blocks ours (SQLite: its only write lock;
    PostgreSQL: a table lock on records)."""
    if isinstance(db, str) and db.startswith("postgresql://"):
        import psycopg

        with psycopg.connect(db, autocommit=True) as conn:
            conn.execute("BEGIN")
            conn.execute("LOCK TABLE records IN EXCLUSIVE MODE")
            yield
            conn.execute("ROLLBACK")
        return
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
    finally:
        conn.execute("ROLLBACK")
        conn.close()
