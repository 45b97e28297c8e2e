"""The store: WAL, versioned migrations, the query API, the import ledger, backups."""

from __future__ import annotations

import contextlib
import hashlib
import sqlite3
import threading
import time

import numpy as np
import psycopg
import pytest
from conftest import VECTOR_T1, assert_sensor_hours_exact
from factory import KEY, make_body, make_line, sign_body

from tynys.store import schema as store_mod
from tynys.cli import main
from tynys.store import Store, StoreError

pytestmark = [pytest.mark.host, pytest.mark.backends]


def rows(store, sql, *args):
    return store.db.execute(sql, args).fetchall()


def test_wal_mode_and_full_sync(tmp_path):
    s = Store.open(tmp_path / "a.db")
    assert s.conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    assert s.conn.execute("PRAGMA synchronous").fetchone() == (2,)  # FULL
    other = sqlite3.connect(tmp_path / "a.db")
    assert other.execute("PRAGMA journal_mode").fetchone() == ("wal",)  # persistent in the file
    assert (tmp_path / "a.db-wal").exists()


def test_fresh_database_gets_every_migration_once(new_db):
    db = new_db("a")
    s = Store.open(db)
    assert s.schema_version() == store_mod.MIGRATIONS[-1][0]
    assert [r[0] for r in rows(s, "SELECT version FROM schema_migrations ORDER BY version")] == [m[0] for m in store_mod.MIGRATIONS]
    s.close()
    assert Store.open(db).migrate() == []


def test_a_new_migration_applies_to_an_existing_database_keeping_data(city, monkeypatch):
    city.ingestor().ingest([make_line("osk-03", KEY, 1, t0=VECTOR_T1 - 300)], "test")
    city.store.close()
    nxt = store_mod.MIGRATIONS[-1][0] + 1
    v2 = (nxt, "test: per-node notes table", ["CREATE TABLE node_notes (node TEXT NOT NULL REFERENCES nodes (id), note TEXT)",
                                            "INSERT INTO node_notes SELECT id, 'migrated' FROM nodes"])
    monkeypatch.setattr(store_mod, "MIGRATIONS", [*store_mod.MIGRATIONS, v2])
    s = Store.open(city.db)
    assert s.schema_version() == nxt
    assert rows(s, "SELECT COUNT(*) FROM node_notes") == [(3,)]
    assert rows(s, "SELECT COUNT(*) FROM records") == [(1,)]
    assert rows(s, "SELECT description FROM schema_migrations WHERE version=?", nxt) == [("test: per-node notes table",)]
    assert Store.open(city.db).migrate() == []


def test_a_failed_migration_leaves_the_database_as_it_was(city, monkeypatch):
    city.store.close()
    bad = (store_mod.MIGRATIONS[-1][0] + 1, "broken", ["CREATE TABLE half (x)", "THIS IS NOT SQL"])
    monkeypatch.setattr(store_mod, "MIGRATIONS", [*store_mod.MIGRATIONS, bad])
    with pytest.raises((sqlite3.OperationalError, psycopg.errors.SyntaxError)):
        Store.open(city.db)
    monkeypatch.undo()
    s = Store.open(city.db)
    assert s.schema_version() == store_mod.MIGRATIONS[-1][0]
    assert not s.db.has_table("half")


def test_a_newer_database_is_refused(new_db):
    db = new_db("a")
    s = Store.open(db)
    s.db.execute("INSERT INTO schema_migrations VALUES (99, 0, 'future')")
    s.close()
    with pytest.raises(StoreError, match=rf"schema version 99, newer than this tynys knows \({store_mod.MIGRATIONS[-1][0]}\): upgrade tynys"):
        Store.open(db)


def test_an_older_database_is_upgraded_keeping_its_data(new_db, monkeypatch):
    """A database made by an older tynys (schema version 2 here) gets the migrations it lacks
    the first time a writing command opens it; its rows stay."""
    db = new_db("old")
    monkeypatch.setattr(store_mod, "MIGRATIONS", store_mod.MIGRATIONS[:2])
    with Store.open(db) as s:
        assert s.schema_version() == 2
        s.db.execute("INSERT INTO nodes (id, added) VALUES ('osk-01', 0)")
    monkeypatch.undo()
    with Store.open(db) as s:
        assert s.schema_version() == store_mod.MIGRATIONS[-1][0]
        assert [n.id for n in s.nodes()] == ["osk-01"] and s.stats()["pending"] == 0


def test_missing_and_foreign_files(tmp_path):
    with pytest.raises(StoreError, match="no database at .*nope.db: register a node first"):
        Store.open(tmp_path / "nope.db", create=False)
    (tmp_path / "junk.db").write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError, match="cannot open .*junk.db as a SQLite database"):
        Store.open(tmp_path / "junk.db")


def test_series_latest_and_channels(city):
    ing = city.ingestor()
    t = VECTOR_T1 - 300 * 10
    lines = [make_line("osk-03", KEY, seq, t0=t + 300 * seq) for seq in (3, 0, 2, 1)]
    assert all(o.status == "stored" for o in ing.ingest(lines, "test"))
    s = city.store.series("osk-03", "pm.pm25_cf1")
    assert s.t0.tolist() == [t, t + 300, t + 600, t + 900] and s.t0.dtype == np.int64
    assert s.mean.tolist() == [8.0, 15.0, 22.0, 29.0] and s.n.tolist() == [270] * 4
    assert np.all(s.min <= s.mean) and np.all(s.mean <= s.max)
    part = city.store.series("osk-03", "pm.pm25_cf1", t + 300, t + 900)
    assert part.t0.tolist() == [t + 300, t + 600]
    assert len(city.store.series("osk-03", "no.such")) == 0
    assert len(city.store.series("osk-01", "pm.pm25_cf1")) == 0
    (latest,) = city.store.latest()
    assert (latest["node"], latest["seq"], latest["t1"], latest["values"]["pm.pm25_cf1"]) == ("osk-03", 3, t + 1200, 29.0)
    assert city.store.channel_names("osk-03") == ["pm.n0_3", "pm.pm10_cf1", "pm.pm1_cf1", "pm.pm25_atm", "pm.pm25_cf1",
                                                  "so2.ae_mv", "so2.we_mv", "th.rh", "th.t_c"]
    # the SO2 board taken out: a later window has no SO2, the channels of a span are that span's
    body = make_body("osk-03", 4, t0=t + 1200)
    del body["sensors"]["so2"]
    assert ing.ingest([sign_body(body, KEY)], "test")[0].status == "stored"
    assert city.store.channel_names("osk-03", t + 1200, t + 1500) == ["pm.n0_3", "pm.pm10_cf1", "pm.pm1_cf1", "pm.pm25_atm",
                                                                      "pm.pm25_cf1", "th.rh", "th.t_c"]
    assert city.store.channel_names("osk-03", t, t + 1500) == city.store.channel_names("osk-03")
    assert "so2.we_mv" in city.store.channel_names("osk-03") and city.store.channel_names("osk-03", t + 1500) == []


def test_newest_received_includes_a_pending_record(city):
    """tynys provision waits on it: a node's first record is often unsynced, held pending, and
    left out of latest() until a timed record re-times it."""
    assert city.store.newest_received("osk-03") is None
    ing = city.ingestor()
    assert ing.ingest([make_line("osk-03", KEY, 0, boot=2, t0=1_000_200, clock="unsynced")], "test")[0].status == "stored"
    assert city.store.latest(["osk-03"]) == []
    got = city.store.newest_received("osk-03")
    assert {k: got[k] for k in ("boot", "seq", "clock", "timing")} == {"boot": 2, "seq": 0, "clock": "unsynced",
                                                                       "timing": "pending"}


def test_sensor_hours_follow_every_write(city):
    """The sensors' counters summed per hour (what a publish reads) stay exact through each path
    that stores a record or moves its window: the bulk ingest, a single insert, a pending record,
    and re-timing into an hour, across hours and back to pending."""
    hour = VECTOR_T1 - VECTOR_T1 % 3600 - 3 * 3600
    store = city.store

    def body(seq, t0, clock="ntp", bad=0, missing=0):
        b = make_body("osk-03", seq, boot=1, t0=t0, clock=clock)
        b["sensors"]["pm"].update(bad=bad, missing=missing)
        return b

    lines = [sign_body(body(s, hour + 300 * s, bad=s, missing=s % 2), KEY) for s in range(14)]  # 12 + 2 in the next hour
    assert all(o.status == "stored" for o in city.ingestor().ingest(lines, "test"))
    with store.transaction():
        store.insert_record(body(14, hour + 300 * 14, bad=5), "", VECTOR_T1, "test", "")
        pend = store.insert_record(body(15, 1_000_000, clock="unsynced", bad=100), "", VECTOR_T1, "test", "")
    assert_sensor_hours_exact(store)
    pm = lambda t0, t1: [r for r in store.sensor_counts(t0, t1) if r["slot"] == "pm"]  # noqa: E731
    assert pm(hour, hour + 3600) == [{"node": "osk-03", "slot": "pm", "type": "pms5003", "records": 12, "frames": 12 * 270,
                                      "bad": sum(range(12)), "warmup": 0, "missing": 6}]
    assert pm(hour + 3600, hour + 7200)[0]["records"] == 3 and pm(hour + 3600, hour + 7200)[0]["bad"] == 12 + 13 + 5
    # the pending record counts nowhere until re-timed; then in its hour, then in another, then nowhere
    for t0, in_first, in_second in ((None, 12, 3), (hour + 100, 13, 3), (hour + 3600 + 200, 12, 4), (None, 12, 3)):
        with store.transaction():
            store.set_timing([("pending" if t0 is None else "retimed", t0, None if t0 is None else t0 + 300, None, "", pend)])
        assert_sensor_hours_exact(store)
        assert [pm(h, h + 3600)[0]["records"] for h in (hour, hour + 3600)] == [in_first, in_second]
    assert pm(hour + 3600, hour + 7200)[0]["bad"] == 12 + 13 + 5
    # a span not on the hour is counted from the windows themselves, the same numbers
    assert pm(hour - 1, hour + 3599) == pm(hour, hour + 3600)


def test_sensor_hours_of_a_rolled_back_savepoint_are_not_written(city):
    """The sums are written as the transaction commits: what a savepoint rolled back (the ingest's
    bulk insert that met a stored record) is not counted."""
    t = VECTOR_T1 - VECTOR_T1 % 3600 - 3600
    with city.store.transaction():
        with contextlib.suppress(RuntimeError), city.store.db.savepoint("part"):
            city.store.insert_record(make_body("osk-03", 0, t0=t), "", VECTOR_T1, "test", "")
            raise RuntimeError("rolled back")
        city.store.insert_record(make_body("osk-03", 1, t0=t + 300), "", VECTOR_T1, "test", "")
    assert [r[4] for r in assert_sensor_hours_exact(city.store)] == [1, 1, 1]


def test_two_writers_counting_the_same_hour_at_once(city):
    """Two writers at once, as two collectors of one city on PostgreSQL: one stores a window of
    osk-03 in an hour while the other re-times a pending window of osk-03 into that hour, then
    the first re-times another node's. Neither waits on the other in a cycle (the sums' rows are
    written last, in one order), and a window two writers re-time at once is moved once."""
    hour = VECTOR_T1 - VECTOR_T1 % 3600 - 3600
    a, b = city.store, Store.open(city.db)
    with a.transaction():
        p3 = a.insert_record(make_body("osk-03", 0, boot=5, t0=100, clock="unsynced"), "", VECTOR_T1, "test", "")
        p2 = a.insert_record(make_body("osk-02", 0, boot=5, t0=100, clock="unsynced"), "", VECTOR_T1, "test", "")
    outcome = {}

    def other(name, rows):
        try:
            with b.transaction():
                b.set_timing(rows)
            outcome[name] = "ok"
        except Exception as e:  # noqa: BLE001  the test reports it
            outcome[name] = repr(e)

    with a.transaction():
        a.insert_record(make_body("osk-03", 1, boot=1, t0=hour + 600), "", VECTOR_T1, "test", "")
        t = threading.Thread(target=other, args=("b", [("retimed", hour + 100, hour + 400, None, "", p3)]))
        t.start()
        time.sleep(0.5)  # b stores its move (PostgreSQL) or waits for SQLite's write lock
        a.set_timing([("retimed", hour + 900, hour + 1200, None, "", p2)])
        outcome["a"] = "ok"
    t.join()
    assert outcome == {"a": "ok", "b": "ok"}
    assert_sensor_hours_exact(a)
    # both move the same window at once: the second reads where the first put it
    with a.transaction():
        a.set_timing([("retimed", hour + 3600, hour + 3900, None, "", p3)])
        t = threading.Thread(target=other, args=("again", [("retimed", hour + 3600, hour + 3900, None, "", p3)]))
        t.start()
        time.sleep(0.5)  # b waits for the window's row (PostgreSQL) or the write lock (SQLite)
    t.join()
    b.close()
    assert outcome["again"] == "ok"
    pm = {(r[0], r[1]): r[4] for r in assert_sensor_hours_exact(a) if r[2] == "pm"}
    assert pm == {(hour, "osk-02"): 1, (hour, "osk-03"): 1, (hour + 3600, "osk-03"): 1}


def test_db_recount_mends_sums_an_older_collector_left_behind(city, capsys):
    """A collector of an older tynys stores into an upgraded database without keeping the sums:
    tynys db recount sums them again from the windows."""
    t = VECTOR_T1 - 300 * 10
    assert all(o.status == "stored" for o in city.ingestor().ingest(
        [make_line("osk-03", KEY, seq, t0=t + 300 * seq) for seq in range(4)], "test"))
    want = assert_sensor_hours_exact(city.store)
    with city.store.transaction():  # what the older collector's inserts leave: no sums for its windows
        city.store.db.execute("UPDATE sensor_hours SET records = records - 1, frames = frames - 1")
    with pytest.raises(AssertionError):
        assert_sensor_hours_exact(city.store)
    assert main(["db", "recount", "--db", str(city.db)]) == 0
    assert "the sensors' counters summed again from every stored window: 3 sums (by hour, node and sensor)" in capsys.readouterr().err
    assert assert_sensor_hours_exact(city.store) == want


def test_an_older_database_gets_its_sensor_hours_summed(city):
    """A database from before the hourly sums (schema 5) gets them from its stored windows."""
    t = VECTOR_T1 - 300 * 10
    assert all(o.status == "stored" for o in city.ingestor().ingest(
        [make_line("osk-03", KEY, seq, t0=t + 300 * seq) for seq in range(6)], "test"))
    want = assert_sensor_hours_exact(city.store)
    with city.store.transaction():
        city.store.db.execute("DROP TABLE sensor_hours")
        city.store.db.execute("DELETE FROM schema_migrations WHERE version = 6")
    city.store.close()
    with Store.open(city.db) as s:
        assert s.schema_version() == store_mod.MIGRATIONS[-1][0]
        assert assert_sensor_hours_exact(s) == want and sum(r[4] for r in want) == 18  # 6 windows x 3 sensors


def test_sensor_counts_sum_each_slot_over_a_period(city):
    t = VECTOR_T1 - 300 * 10
    lines = [make_line("osk-03", KEY, seq, t0=t + 300 * seq) for seq in range(3)]
    assert all(o.status == "stored" for o in city.ingestor().ingest(lines, "test"))
    rows = {r["slot"]: r for r in city.store.sensor_counts(t, t + 600)}  # the first two windows
    assert rows["pm"] == {"node": "osk-03", "slot": "pm", "type": "pms5003", "records": 2, "frames": 540, "bad": 0,
                          "warmup": 0, "missing": 0}
    assert set(rows) == {"pm", "th", "so2"} and rows["so2"]["type"] == "isb"
    assert city.store.sensor_counts(t + 900) == []


def test_stats(city, record_vectors):
    city.ingestor().ingest([v.encode() for v in record_vectors["valid"]] + [b"junk"], "test")
    s = city.store.stats()
    assert {k: s[k] for k in ("nodes", "records", "rejected", "rejected_by_reason", "imports")} == \
        {"nodes": 3, "records": 2, "rejected": 1, "rejected_by_reason": {"malformed": 1}, "imports": 0}
    assert s["first"] == "2026-11-27T21:00:00Z" and s["schema_version"] == store_mod.MIGRATIONS[-1][0]


def test_import_ledger_lands_a_file_once(new_db):
    s = Store.open(new_db("a"))
    digest = hashlib.sha256(b"file content").hexdigest()
    assert s.imported(digest) is None
    with s.transaction():
        assert s.record_import(digest, "a.csv", "sensor.community", 12, rows=3)
    with s.transaction():
        assert not s.record_import(digest, "copy-of-a.csv", "sensor.community", 12, rows=3)
    entry = s.imported(digest)
    assert (entry["name"], entry["rows"]) == ("a.csv", 3)
    assert s.stats()["imports"] == 1


def test_online_backup(sqlite_city, tmp_path):
    city = sqlite_city
    city.ingestor().ingest([make_line("osk-03", KEY, 1, t0=VECTOR_T1 - 300)], "test")
    dest = city.store.backup(tmp_path / "backup.db")
    b = Store.open(dest)
    assert b.stats()["records"] == 1 and b.raw_lines("osk-03") == city.store.raw_lines("osk-03")
    with pytest.raises(StoreError, match="exists: choose a new file name"):
        city.store.backup(dest)


def _vm_steps(store, fn) -> int:
    """SQLite virtual-machine steps *fn* costs: the work a lookup does, whatever the machine's speed."""
    steps = [0]

    def count():
        steps[0] += 1

    store.conn.set_progress_handler(count, 1)
    try:
        fn()
    finally:
        store.conn.set_progress_handler(None, 1)
    return steps[0]


def test_node_and_site_lookups_do_not_grow_with_the_registry(tmp_path):
    s = Store.open(tmp_path / "a.db")
    with s.transaction():
        s.conn.execute("INSERT INTO nodes (id, added) VALUES ('osk-01', 0)")
        s.conn.execute("INSERT INTO sites (provider, provider_id, name, kind, added) VALUES ('aqs', '1', 'One', 'reference', 0)")
    small = _vm_steps(s, lambda: s.node("osk-01")), _vm_steps(s, lambda: s.site("aqs:1"))
    with s.transaction():
        s.conn.executemany("INSERT INTO nodes (id, added) VALUES (?, 0)", [(f"n{i:04d}",) for i in range(2000)])
        s.conn.executemany("INSERT INTO node_sensors (node, slot, type) VALUES (?, 'pm', 'pms5003')",
                           [(f"n{i:04d}",) for i in range(2000)])
        s.conn.executemany("INSERT INTO sites (provider, provider_id, kind, added) VALUES ('aqs', ?, 'reference', 0)",
                           [(f"x{i}",) for i in range(2000)])
    large = _vm_steps(s, lambda: s.node("osk-01")), _vm_steps(s, lambda: s.site("aqs:1"))
    assert large[0] < 2 * small[0] + 50 and large[1] < 2 * small[1] + 50  # indexed lookups, not scans of 2000 rows
    assert s.node("n0007").sensors[0].type == "pms5003" and s.site("One").ref == "aqs:1"
    assert s.site("aqs:x5").provider_id == "x5" and s.site(1).ref == "aqs:1"
    with pytest.raises(StoreError, match="no node 'nope'"):
        s.node("nope")
    with pytest.raises(StoreError, match="no imported site 'nope'"):
        s.site("nope")


def test_only_the_dialect_modules_speak_an_engines_dialect():
    """Every store module but store/sqlite.py and store/postgres.py writes SQL both engines run."""
    from pathlib import Path

    import tynys.store

    pkg = Path(tynys.store.__file__).parent
    marks = ("sqlite3", "PRAGMA", "sqlite_master", "rowid", "INSERT OR ", "BEGIN IMMEDIATE", "WITHOUT ROWID",
             "psycopg", "%s", "::int", "::bigint", "::text", "pg_", "ILIKE", "COPY ", "SERIAL")
    for mod in sorted(pkg.glob("*.py")):
        if mod.name in ("sqlite.py", "postgres.py", "schema.py"):  # schema: released migrations, passed through ddl()
            continue
        text = mod.read_text()
        assert not [m for m in marks if m in text], f"{mod.name} speaks one engine's dialect"


def _damaged(city) -> str:
    """The city's database with every page but the first (header and schema) overwritten: the
    tables are garbage, the file still opens."""
    city.ingestor().ingest([make_line("osk-03", KEY, s, t0=VECTOR_T1 - 300 * (s + 1)) for s in range(20)], "test")
    city.store.close()
    data = bytearray((city.db).read_bytes())
    page = int.from_bytes(data[16:18], "big")
    data[page:] = bytes((i * 7 + 3) % 251 for i in range(len(data) - page))
    city.db.write_bytes(bytes(data))
    return str(city.db)


def test_a_damaged_database_is_named_with_what_to_do(sqlite_city, tmp_path):
    db = _damaged(sqlite_city)
    with pytest.raises(StoreError, match=r"city.db is damaged .*restore it from a backup .*sqlite3 FILE .recover"):
        Store.open(db, check=True)
    with pytest.raises(StoreError, match="is damaged"):
        Store.open(db, readonly=True).stats()
    with pytest.raises(StoreError, match="is damaged"):
        Store.open(db, readonly=True).backup(tmp_path / "copy.db")
    assert list(tmp_path.glob("*copy.db*")) == []  # no damaged or partial copy left behind


def test_a_backup_whose_copy_fails_its_check_leaves_nothing(sqlite_city, tmp_path, monkeypatch):
    """Damage the quick check on the source misses is caught in the copy: nothing is left at DEST."""
    from tynys.store.sqlite import SQLite

    db = _damaged(sqlite_city)
    monkeypatch.setattr(SQLite, "check", lambda self: None)
    with pytest.raises(StoreError, match="failed its integrity check|is damaged"):
        Store.open(db, readonly=True).backup(tmp_path / "b.db")
    assert list(tmp_path.glob("*b.db*")) == []


def test_a_database_in_a_folder_that_does_not_exist_is_named(tmp_path):
    with pytest.raises(StoreError, match=r"x\.db cannot be made: its folder .*/nowhere does not exist; create it"):
        Store.open(tmp_path / "nowhere" / "x.db")
    assert not (tmp_path / "nowhere").exists()
