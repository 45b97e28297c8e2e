"""`tynys sim` end to end: virtual nodes (firmware as .mpy on the unix port) into the host's store."""

from __future__ import annotations

import json
import sqlite3
import stat

import pytest

from tynys import sim
from tynys.broker import mosquitto_binary
from tynys.cli import main

pytestmark = pytest.mark.e2e
START = 1795737600  # 2026-11-27 00:00 UTC


def test_five_nodes_two_hours_over_http_are_120_records(tmp_path, capsys):
    db = str(tmp_path / "city.db")
    assert main(["sim", "--city", "oskemen", "--nodes", "5", "--hours", "2", "--transport", "http", "--db", db,
                 "--start", "2026-11-27T00:00Z", "--workdir", str(tmp_path / "nodes")]) == 0
    out, err = capsys.readouterr()
    # none crashed, not even after its last record (in 96 KB each did, checking the last reply)
    assert [p.read_text().count("crashed (") for p in sorted((tmp_path / "nodes").glob("*/console.log"))] == [0] * 5
    assert "tynys: 5 virtual node(s) in Oskemen (Ust-Kamenogorsk), scenario inversion, over http" in err
    assert "tynys: 02:00 UTC (07:00 local) reached by all 5 nodes; " in err
    assert "120 records from 5 nodes stored in" in out and "(expected 120); rejects: none" in out
    assert "restarted during the run" not in err
    assert sum(line.startswith("osk-0") for line in out.splitlines()) == 5
    assert main(["db", "stats", "--db", db, "--json"]) == 0
    stats = json.loads(capsys.readouterr().out)
    assert (stats["nodes"], stats["records"], stats["rejected"]) == (5, 120, 0)

    c = sqlite3.connect(db)
    per_node = c.execute("SELECT node, COUNT(*), MIN(t0), MAX(t1), MIN(seq), MAX(seq) FROM records GROUP BY node").fetchall()
    assert [r[0] for r in per_node] == [f"osk-0{i}" for i in range(1, 6)]
    for node, n, t0, t1, s0, s1 in per_node:
        # switched on 37 s into the first window: it is partial, and the run's first of 24
        assert (n, s0, s1, t1) == (24, 0, 23, START + 7200) and START + 37 <= t0 < START + 300
    assert {r for (r,) in c.execute("SELECT DISTINCT clock FROM records")} == {"ntp"}
    assert c.execute("SELECT COUNT(*) FROM records WHERE t1 % 300 != 0").fetchone()[0] == 0
    district = dict(c.execute("SELECT id, district FROM nodes"))
    assert district["osk-05"] == "Zashchita" and district["osk-01"] == "Centre"
    # the scenario shows through the sensors: Zashchita's stoves under the morning inversion
    pm = dict(c.execute("SELECT r.node, AVG(v.mean) FROM records r JOIN channel_values v ON v.record = r.id"
                        " WHERE v.channel = 'pm.pm25_cf1' GROUP BY r.node"))
    c.close()
    true = [sum(p.world["pm25"][:13]) / 13 for p in sim.plan("oskemen", 5, 2, "inversion", "http", start=START)]
    assert true[4] > 1.3 * true[0] and pm["osk-05"] > 1.3 * pm["osk-01"]


def test_mixed_transports_share_one_collector(tmp_path, need_service):
    need_service("mosquitto", mosquitto_binary() is not None, "apt-get install mosquitto; scripts/system-deps.sh does it")
    rows = []
    s = sim.run(city="karaganda", nodes=3, hours=1, scenario="plume", transport="mixed", db=tmp_path / "k.db",
                start=START, workdir=tmp_path / "nodes", on_record=rows.append)
    assert (s["records"], s["expected_records"], s["nodes"]) == (36, 36, 3)
    assert [(r["node"], r["transport"], r["records"]) for r in s["per_node"]] == [
        ("kar-01", "serial", 12), ("kar-02", "http", 12), ("kar-03", "mqtt", 12)]
    assert len(rows) == 36 and {r["transport"] for r in rows} == {"serial", "http", "mqtt"}
    assert all(r["record"]["seq"] == r["seq"] and r["record"]["node"] == r["node"] for r in rows)
    assert set(s["rejected_by_reason"]) <= {"replay"}  # resends only
    assert (tmp_path / "nodes" / "kar-03" / "console.log").exists() and s["workdir"] == str(tmp_path / "nodes")
    held = [*(tmp_path / "nodes").glob("*/config.json"), *(tmp_path / "nodes").glob("*/flash.img")]
    assert len(held) == 6 and all(stat.S_IMODE(f.stat().st_mode) == 0o600 for f in held)  # the node keys: private
    assert all(r["heap_free_min"] > 4096 for r in s["per_node"])
    assert [r["resets"] for r in s["per_node"]] == [["soft"]] * 3  # once, to run the checked config; no crash


def test_a_node_that_cannot_run_is_named(tmp_path):
    with pytest.raises(sim.SimError, match=r"(?s)osk-01 stopped measuring \(its console: .*/osk-01/console.log\); last lines:.*MemoryError"):
        sim.run(nodes=1, hours=1, heap="48K", db=tmp_path / "x.db", start=START, timeout=60, workdir=tmp_path / "n")


def test_a_city_into_postgresql(pg_server, tmp_path, capsys):
    """--db postgresql://… goes through the store like a file: the nodes registered, every record
    stored once, the summary read back from the server."""
    url = pg_server.new_schema("sim_e2e")
    args = ["sim", "--nodes", "2", "--hours", "1", "--transport", "http", "--db", url, "--start", "2026-11-27T00:00Z"]
    assert main(args) == 2
    assert "with a PostgreSQL database, name the key file: --keys FILE" in capsys.readouterr().err
    assert main([*args, "--keys", str(tmp_path / "city.keys")]) == 0
    out = capsys.readouterr().out
    assert "24 records from 2 nodes stored in" in out and "(expected 24); rejects: none" in out
    assert main(["db", "stats", "--db", url, "--json"]) == 0
    stats = json.loads(capsys.readouterr().out)
    assert (stats["nodes"], stats["records"], stats["rejected"]) == (2, 24, 0)
