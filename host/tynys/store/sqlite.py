"""The one layer of the store that speaks a SQL dialect: SQLite (the embedded default).

Everything above it (the concern modules of ``tynys.store``) writes SQL both SQLite and
PostgreSQL run unchanged — ``?`` placeholders, ``INSERT … ON CONFLICT … DO NOTHING/UPDATE``,
``RETURNING``, ``CASE`` instead of summing booleans, no ``rowid``, no ``INSERT OR …`` — and
asks this layer for what differs between engines:

- opening a database (a file here; a URL for PostgreSQL), read-only opening, pragmas;
- transactions and their write lock (``BEGIN IMMEDIATE``), savepoints;
- the migrations' DDL (:meth:`SQLite.ddl`: released SQLite DDL passes unchanged; another engine
  maps ``INTEGER PRIMARY KEY``, ``BLOB``, ``WITHOUT ROWID`` to its own);
- whether a table exists; ids for a bulk insert (:meth:`SQLite.reserve_ids`);
- integrity checks and online backup;
- which driver errors are problems in the world (busy, damaged, read-only, disk full) rather
  than bugs: :meth:`SQLite.translate` turns those into a :class:`StoreError` saying what to do.

:class:`tynys.store.postgres.PostgreSQL` has the same methods for a server database.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import time
from pathlib import Path
from typing import Iterable, Iterator

from .deferred import Deferred
from .model import StoreDamaged, StoreError


_BUSY = {"SQLITE_BUSY", "SQLITE_LOCKED"}
_DAMAGED = {"SQLITE_CORRUPT", "SQLITE_NOTADB"}
_READONLY = {"SQLITE_READONLY", "SQLITE_CANTOPEN", "SQLITE_PERM", "SQLITE_AUTH"}
_FULL = {"SQLITE_FULL", "SQLITE_IOERR"}


def _wal(conn: sqlite3.Connection, timeout: float) -> str:
    """Switch *conn*'s database to WAL; returns the journal mode it has. On a new file several
    openers race to switch it, and SQLite answers the losers SQLITE_BUSY at once, without its busy
    handler: those try again within *timeout* (seen as 1 failure in ~40 runs of 12 threads)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
        except sqlite3.OperationalError as e:
            if _code(e) not in _BUSY or time.monotonic() > deadline:
                raise
            time.sleep(0.01)


def _code(e: BaseException) -> str:
    """``SQLITE_BUSY`` for ``SQLITE_BUSY_SNAPSHOT`` too (the extended codes share the primary's name)."""
    name = getattr(e, "sqlite_errorname", "") or ""
    parts = name.split("_")
    return "_".join(parts[:2])


class SQLite:
    """One connection to one SQLite file, in WAL mode. Not shared between threads."""

    name = "sqlite"
    Error = sqlite3.Error
    IntegrityError = sqlite3.IntegrityError

    def __init__(self, conn: sqlite3.Connection, path: Path, readonly: bool = False):
        self.conn = conn
        self.path = self.location = path
        self.readonly = readonly
        self.deferred = Deferred(self)

    @classmethod
    def open(cls, path: str | os.PathLike, *, create: bool = True, timeout: float = 10.0,
             synchronous: str = "FULL", readonly: bool = False, check: bool = False) -> "SQLite":
        """Open the file at *path* (created when *create* and absent, unless *readonly*).

        ``synchronous=FULL`` makes every commit durable against power loss, not only against a
        killed process; commits are batched, so it costs one fsync per batch. *check* runs
        ``PRAGMA quick_check`` first (a long-running collector or a backup must not start on a
        damaged file). *readonly* opens without writing anything (a database on read-only media,
        or owned by another user): no journal mode change, no migration.
        """
        path = Path(path)
        if (readonly or not create) and not path.exists():
            raise StoreError(f"no database at {path}: register a node first (tynys nodes add --db {path} ...) or pass --db")
        try:
            if readonly:
                conn = cls._read_only(path, timeout)
            else:
                conn = sqlite3.connect(path, timeout=timeout, isolation_level=None, check_same_thread=False)
                mode = _wal(conn, timeout)
                if mode.lower() != "wal":
                    raise StoreError(f"{path}: SQLite refused WAL mode ({mode}); is it on a network file system? Use a local disk")
        except sqlite3.DatabaseError as e:
            if _code(e) in _READONLY | _BUSY | {"SQLITE_CORRUPT"}:
                raise cls(None, path).translate(e) from None
            raise StoreDamaged(f"cannot open {path} as a SQLite database ({e}): {_RESTORE}") from None
        db = cls(conn, path, readonly)
        if not readonly:
            conn.execute(f"PRAGMA synchronous={synchronous}")
        conn.execute("PRAGMA foreign_keys=ON")
        if check:
            db.check()
        return db

    @staticmethod
    def _read_only(path: Path, timeout: float) -> sqlite3.Connection:
        """A connection that writes nothing. A WAL database in a folder we may not write, whose
        -wal/-shm files are gone (no writer is running), can only be read as immutable: then it
        is read as the snapshot it is."""
        uri = path.absolute().as_uri()
        for mode in ("?mode=ro", "?mode=ro&immutable=1"):
            conn = sqlite3.connect(uri + mode, uri=True, timeout=timeout, isolation_level=None, check_same_thread=False)
            try:
                conn.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
                return conn
            except sqlite3.OperationalError as e:
                conn.close()
                if _code(e) not in _READONLY or "immutable" in mode:
                    raise
        raise AssertionError("unreachable")

    def close(self) -> None:
        self.conn.close()

    # -- statements ----------------------------------------------------------------------------

    def execute(self, sql: str, args: Iterable = ()) -> sqlite3.Cursor:
        return self.conn.execute(sql, args)

    def executemany(self, sql: str, rows: Iterable) -> sqlite3.Cursor:
        return self.conn.executemany(sql, rows)

    def bulk_insert(self, table: str, columns: tuple[str, ...], rows: Iterable[tuple], *, on_conflict_skip: bool = False) -> int:
        """Insert many rows at once (PostgreSQL: ``COPY``, or a staged insert with
        *on_conflict_skip*); returns how many went in (with *on_conflict_skip*, rows whose
        unique key is taken are skipped)."""
        skip = " ON CONFLICT DO NOTHING" if on_conflict_skip else ""
        cur = self.conn.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))}){skip}", rows)
        return cur.rowcount

    def ddl(self, sql: str) -> str:
        """A migration's statement for this engine (migrations are written in SQLite's DDL)."""
        return sql

    def has_table(self, name: str) -> bool:
        return self.conn.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name=?", (name,)).fetchone() is not None

    def reserve_ids(self, table: str, n: int) -> range:
        """*n* unused ids of *table* for a bulk insert, inside the caller's write transaction (which
        holds SQLite's only write lock, so nobody else takes them)."""
        top = self.conn.execute(f"SELECT COALESCE(MAX(id), 0) FROM {table}").fetchone()[0]
        return range(top + 1, top + 1 + n)

    def may_write(self) -> bool:
        """May this user write the file (and its folder, for the -wal and -shm files)?"""
        return os.access(self.path, os.W_OK) and os.access(self.path.parent, os.W_OK)

    def size(self) -> int:
        """Bytes on disk: the file and its write-ahead log."""
        return sum(p.stat().st_size for p in (self.path, Path(f"{self.path}-wal")) if p.exists())

    # -- transactions --------------------------------------------------------------------------

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """``BEGIN IMMEDIATE`` … ``COMMIT`` (rolled back on any exception). When it returns, the
        commit is on disk: only then may a caller acknowledge what it wrote."""
        try:
            self.conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as e:
            raise self.translate(e) from None
        self.deferred.begin()
        try:
            yield self.conn
            self.deferred.write()
        except BaseException:
            self.deferred.clear()
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
            raise
        else:
            try:
                self.conn.execute("COMMIT")
            except sqlite3.Error as e:
                if self.conn.in_transaction:
                    self.conn.execute("ROLLBACK")
                raise self.translate(e) from None

    def lock(self, name: str) -> None:
        """Inside a transaction: hold *name* until it ends (``BEGIN IMMEDIATE`` already holds
        SQLite's only write lock, so there is nothing more to take)."""

    def lock_rows(self, table: str, ids: list[int]) -> None:
        """Inside a transaction: hold rows *ids* of *table* until it ends (nothing to take, as :meth:`lock`)."""

    def lock_table(self, table: str) -> None:
        """Inside a transaction: keep other writers out of *table* until it ends (as :meth:`lock`)."""

    @contextlib.contextmanager
    def savepoint(self, name: str = "part") -> Iterator[None]:
        """Inside a transaction: undo only what the block wrote if it raises."""
        self.conn.execute(f"SAVEPOINT {name}")
        mark = self.deferred.mark()
        try:
            yield
        except BaseException:
            self.conn.execute(f"ROLLBACK TO {name}")
            self.conn.execute(f"RELEASE {name}")
            self.deferred.undo(mark)
            raise
        self.conn.execute(f"RELEASE {name}")

    # -- problems in the world -----------------------------------------------------------------

    def translate(self, e: BaseException) -> BaseException:
        """A :class:`StoreError` that says what to do for an error of the world (busy, damaged,
        read-only, full disk); any other error (a bug: bad SQL, a broken constraint) unchanged."""
        code, p = _code(e), self.path
        if code in _BUSY:
            return StoreError(f"{p} is busy ({e}): another program holds the write lock; retry")
        if code in _DAMAGED:
            return StoreDamaged(f"{p} is damaged ({e}): {_RESTORE}")
        if code in _READONLY and not Path(p).parent.is_dir():
            return StoreError(f"{p} cannot be made: its folder {Path(p).parent} does not exist; create it or give another path")
        if code in _READONLY:
            return StoreError(f"{p} cannot be written ({e}): check the file's and its folder's permissions "
                              "(the folder must be writable for SQLite's -wal and -shm files), or use a read-only command")
        if code in _FULL:
            return StoreError(f"{p}: the disk failed or is full ({e}): free space on it; nothing of this write was kept")
        return e

    def check(self) -> None:
        """``PRAGMA quick_check``: raise :class:`StoreDamaged` (with what to do) unless the file is sound."""
        try:
            problems = [r[0] for r in self.conn.execute("PRAGMA quick_check(5)")]
        except sqlite3.DatabaseError as e:
            raise StoreDamaged(f"{self.path} is damaged ({e}): {_RESTORE}") from None
        if problems != ["ok"]:
            raise StoreDamaged(f"{self.path} is damaged ({'; '.join(problems)}): {_RESTORE}")

    # -- backup --------------------------------------------------------------------------------

    def backup(self, dest: str | os.PathLike) -> Path:
        """A consistent copy while ingest keeps running (SQLite's online backup), written beside
        *dest* and renamed into place only once its integrity check passed: *dest* is never a
        damaged or partial copy."""
        dest = Path(dest)
        if dest.exists():
            raise StoreError(f"{dest} exists: choose a new file name for the backup")
        self.check()
        part = dest.with_name(f".{dest.name}.part")
        part.unlink(missing_ok=True)
        try:
            target = sqlite3.connect(part)
            try:
                self.conn.backup(target)
                problems = [r[0] for r in target.execute("PRAGMA integrity_check(5)")]
            finally:
                target.close()
            if problems != ["ok"]:
                raise StoreDamaged(f"backup of {self.path} failed its integrity check ({'; '.join(problems)}): "
                                   f"nothing was written to {dest}; {_RESTORE}")
            with open(part, "rb") as f:
                os.fsync(f.fileno())
            os.replace(part, dest)
        except sqlite3.Error as e:
            raise self.translate(e) from None
        finally:
            part.unlink(missing_ok=True)
        return dest


_RESTORE = ("restore it from a backup (tynys db backup makes checked copies), or salvage what is readable with "
            "sqlite3 FILE .recover | sqlite3 NEW.db")
