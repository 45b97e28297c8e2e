"""What only the server engine has: URLs that cannot be used (unreachable, wrong password, no such
database) named with the fix and never with the password, logins that may not write, collectors
opening one empty database at once, and the tools a server database is backed up with."""

from __future__ import annotations

import threading

import pytest
from factory import KEY, make_line

from tynys.broker import free_port
from tynys.cli import main
from tynys.store import Node, Store, StoreError
from tynys.store import schema as schema_mod

pytestmark = [pytest.mark.host, pytest.mark.service]


def test_unreachable_wrong_password_and_missing_database_are_named_with_the_fix(pg_server):
    secret = "hunter2-not-the-password"
    cases = [
        (f"postgresql://tynys:{secret}@127.0.0.1:{free_port()}/tynys",
         r"cannot reach PostgreSQL at postgresql://tynys@127.0.0.1:\d+/tynys \(.*Connection refused.*\): start the server, "
         r"or fix the host and port in --db"),
        (pg_server.url(password=secret),
         r"PostgreSQL at postgresql://tynys@127.0.0.1:\d+/tynys refused the login \(password authentication failed for user "
         r"\"tynys\"\): check the user and password in --db"),
        (pg_server.url(database="nosuch"),
         r"postgresql://tynys@127.0.0.1:\d+/nosuch: database \"nosuch\" does not exist: create it \(createdb"),
    ]
    for url, message in cases:
        with pytest.raises(StoreError, match=message) as e:
            Store.open(url)
        assert secret not in str(e.value) and pg_server.password not in str(e.value)


def test_the_cli_says_it_in_one_line_and_asks_for_the_key_file(pg_server, capsys):
    bad = pg_server.url(password="wrong")
    assert main(["db", "stats", "--db", bad]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "refused the login" in err and "wrong" not in err
    assert main(["serve", "--db", pg_server.new_schema("nokeys"), "--port", "0"]) == 2
    assert "with a PostgreSQL database, name the key file: --keys FILE" in capsys.readouterr().err


def test_an_empty_database_is_not_read_as_a_city(pg_server):
    with pytest.raises(StoreError, match=r"no Tynys tables in postgresql://tynys@127.0.0.1:\d+/tynys: register a node first"):
        Store.open(pg_server.new_schema("empty"), readonly=True)


def test_a_login_that_may_not_write_reads_but_cannot_upgrade(pg_server, monkeypatch):
    url = pg_server.new_schema("ro")
    monkeypatch.setattr(schema_mod, "MIGRATIONS", schema_mod.MIGRATIONS[:2])
    Store.open(url).close()
    monkeypatch.undo()
    import psycopg

    with psycopg.connect(pg_server.url(), autocommit=True) as conn:
        conn.execute("DROP ROLE IF EXISTS reader")
        conn.execute("CREATE ROLE reader LOGIN PASSWORD 'r'")
        conn.execute("GRANT USAGE ON SCHEMA ro TO reader")
        conn.execute("GRANT SELECT ON ALL TABLES IN SCHEMA ro TO reader")
    reader = url.replace(f"tynys:{pg_server.password}@", "reader:r@")
    with pytest.raises(StoreError, match=r"has schema version 2; this tynys reads version \d+ and cannot upgrade a database "
                                         r"it may not write: let its owner run any writing tynys command"):
        Store.open(reader, readonly=True)
    with Store.open(url, readonly=True) as s:  # its owner may: upgraded once, then read
        assert s.schema_version() == schema_mod.latest()
    with Store.open(reader, readonly=True) as s:
        assert s.nodes() == []
        with pytest.raises(StoreError, match="cannot be written .*read-only"):
            s.add_node(Node("osk-09"))


def test_collectors_opening_one_empty_database_at_once_migrate_it_once(pg_server):
    url = pg_server.new_schema("race")
    errors, stores = [], []

    def open_it():
        try:
            stores.append(Store.open(url))
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=open_it) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    versions = stores[0].db.execute("SELECT version FROM schema_migrations ORDER BY version").fetchall()
    assert [v for (v,) in versions] == [m[0] for m in schema_mod.MIGRATIONS]
    for s in stores:
        s.close()


def test_a_collector_survives_a_lost_connection(pg_server, tmp_path):
    """The server ends the session (a restart, a network cut): the collector's next transaction
    connects again and stores its batch."""
    import psycopg

    from tynys.ingest import Ingestor
    from tynys.keys import KeyFile
    from tynys.registry import add_node

    url = pg_server.new_schema("lost")
    store, keys = Store.open(url), KeyFile(tmp_path / "k.keys")
    add_node(store, keys, "osk-03", key=KEY)
    ing = Ingestor(store, keys, max_past=None)
    assert ing.ingest([make_line("osk-03", KEY, 1)], "test")[0].status == "stored"
    pid = store.db.execute("SELECT pg_backend_pid()").fetchone()[0]
    with psycopg.connect(pg_server.url(), autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
    assert ing.ingest([make_line("osk-03", KEY, 2)], "test")[0].status == "stored"
    assert store.stats()["records"] == 2


def test_backups_of_a_server_database_name_pg_dump(pg_server, tmp_path):
    with Store.open(pg_server.new_schema("bk")) as s, pytest.raises(StoreError, match="back it up with the server's tools, e.g. pg_dump -Fc"):
        s.backup(tmp_path / "b.db")


def test_publish_reads_a_server_database(pg_server, tmp_path, capsys):
    """tynys publish over a PostgreSQL URL: the site and the open data from the same store API."""
    import json

    import numpy as np
    from factory import fill

    from tynys.keys import KeyFile

    url = pg_server.new_schema("pub")
    with Store.open(url) as s:
        keys = KeyFile(tmp_path / "k.keys")
        for i in range(3):
            fill(s, keys, f"osk-0{i}", 1_767_225_600, {"pm.pm25_atm": 20 + 5 * np.random.default_rng(i).random(288)})
    site = tmp_path / "site"
    assert main(["publish", "--db", url, "--out", str(site), "--city", "oskemen", "--json"]) == 0
    out = capsys.readouterr().out
    assert pg_server.password not in out
    assert (site / "index.html").is_file() and (site / "open-data" / "README.md").is_file()
    assert json.loads(out)
