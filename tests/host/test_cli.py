"""The host commands end to end through ``tynys.cli.main`` and, for the long-running ones, as processes."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from factory import KEY, FakeNode, make_line
from ptys import PtyNode

from tynys.cli import main

pytestmark = pytest.mark.host
REPO = Path(__file__).resolve().parents[2]
CLI = [sys.executable, "-c", "import sys; from tynys.cli import main; sys.exit(main(sys.argv[1:]))"]


def run(capsys, *args) -> tuple[int, str, str]:
    rc = main(list(args))
    out = capsys.readouterr()
    return rc, out.out, out.err


def test_db_stats_json_and_friends(city, capsys, record_vectors, tmp_path):
    city.ingestor().ingest([v.encode() for v in record_vectors["valid"]] + [b"{junk"], "test")
    db = str(city.db)
    rc, out, _ = run(capsys, "db", "stats", "--db", db, "--json")
    doc = json.loads(out)
    assert rc == 0 and (doc["nodes"], doc["records"], doc["rejected"]) == (3, 2, 1)
    rc, out, _ = run(capsys, "db", "stats", "--db", db)
    assert "rejected  1 (malformed 1)" in out
    rc, out, _ = run(capsys, "db", "rejects", "--db", db, "--since", "100000d", "--nl")
    (r,) = [json.loads(x) for x in out.splitlines()]
    assert (r["reason"], r["raw"]) == ("malformed", "{junk")
    rc, out, _ = run(capsys, "db", "latest", "osk-01", "--db", db)
    assert out.splitlines()[0].startswith("osk-01  boot 3 seq 4711  2026-11-27T21:00:00Z .. 2026-11-27T21:05:00Z  clock ntp")
    assert "  pm.pm25_cf1      12.41" in out
    rc, out, err = run(capsys, "db", "backup", str(tmp_path / "b.db"), "--db", db)
    assert rc == 0 and "integrity ok" in err
    rc, _, err = run(capsys, "db", "stats", "--db", str(tmp_path / "none.db"))
    assert rc == 2 and err.startswith("tynys: error: no database at")


def test_nodes_list_and_retire(city, capsys):
    db = str(city.db)
    rc, out, _ = run(capsys, "nodes", "retire", "osk-02", "--at", "2026-11-01", "--reason", "moved", "--db", db)
    assert rc == 0 and out.strip() == "osk-02: outdoor; sensors (none listed); RETIRED 2026-11-01T00:00:00Z (moved)"
    rc, out, _ = run(capsys, "nodes", "list", "--active", "--db", db, "--csv")
    assert [ln.split(",")[0] for ln in out.splitlines()] == ["id", "osk-01", "osk-03"]
    rc, _, err = run(capsys, "nodes", "retire", "osk-02", "--db", db)
    assert rc == 2 and "already retired" in err


def test_ingest_serial_command(city, tmp_path):
    node = PtyNode(tmp_path / "ttyNODE", KEY)
    log = tmp_path / "ingest.log"
    with open(log, "wb") as f:
        p = subprocess.Popen([*CLI, "ingest", "serial", str(node.link), "--db", str(city.db), "--nl"],
                             stdout=subprocess.PIPE, stderr=f)
    try:
        fake = FakeNode("osk-03", KEY)
        assert node.wait_for(lambda: b"ttyNODE: connected" in log.read_bytes(), 20)
        node.write(b"\n".join(fake.produce(3)) + b"\nnoise\n")
        assert node.wait_for(lambda: sorted(node.acked()) == [0, 1, 2])
    finally:
        p.send_signal(signal.SIGINT)
        out, _ = p.communicate(timeout=20)
        err = log.read_bytes()
        node.close()
    assert p.returncode == 0
    assert [json.loads(x)["status"] for x in out.splitlines()] == ["stored"] * 3
    assert re.search(rb"ttyNODE: acked 3, .*noise 1, opened 1, records 3", err), err
    assert b"outcomes: stored 3" in err


@pytest.mark.service
def test_ingest_mqtt_command(city, mosquitto):
    import paho.mqtt.client as mqtt

    p = subprocess.Popen([*CLI, "ingest", "mqtt", "--host", mosquitto.host, "--port", str(mosquitto.port),
                          "--db", str(city.db)], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    acks = []
    c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="node-osk-03")
    c.on_message = lambda c, u, m: acks.extend(json.loads(m.payload)["ack"])
    c.connect(mosquitto.host, mosquitto.port)
    c.subscribe("tynys/osk-03/ack", qos=1)
    c.loop_start()
    try:
        deadline = time.monotonic() + 20
        seq = 0
        while not acks and time.monotonic() < deadline:  # until the collector is subscribed
            c.publish("tynys/osk-03/records", make_line("osk-03", KEY, seq), qos=1)
            seq += 1
            time.sleep(0.3)
        assert acks
    finally:
        c.loop_stop()
        c.disconnect()
        p.send_signal(signal.SIGTERM)
        out, err = p.communicate(timeout=20)
    assert p.returncode == 0
    assert out.decode().count(" stored") >= 1 and b"outcomes: stored" in err


def test_every_host_command_is_documented():
    doc = (REPO / "docs" / "host.md").read_text()
    for cmd in ("nodes add", "nodes list", "nodes show", "nodes retire", "db stats", "db rejects", "db latest", "db backup",
                "ingest serial", "ingest mqtt", "serve", "monitor"):
        assert f"tynys {cmd}" in doc, cmd


@pytest.mark.parametrize("option,value,says", [
    ("--port", "99999", "99999 is not in the range 0<=x<=65535"),
    ("--max-clients", "-1", "-1 is not in the range x>=1"),
    ("--max-records", "0", "0 is not in the range x>=1"),
    ("--max-body", "-5", "cannot read size '-5': use a positive number of bytes"),
    ("--max-body", "inf", "cannot read size 'inf'"),
])
def test_serve_refuses_impossible_limits_in_one_line(city, capsys, option, value, says):
    rc, out, err = run(capsys, "serve", "--db", str(city.db), option, value)
    assert rc == 2 and "Traceback" not in err
    (line,) = [ln for ln in err.splitlines() if ln.startswith("Error:")]  # after click's usage and help hint
    assert says in line


def _damage(db: Path) -> None:
    data = bytearray(db.read_bytes())
    page = int.from_bytes(data[16:18], "big")
    data[page:] = bytes((i * 7 + 3) % 251 for i in range(len(data) - page))
    db.write_bytes(bytes(data))


def test_a_damaged_database_gets_one_line_saying_what_to_do(city, capsys, tmp_path):
    city.ingestor().ingest([make_line("osk-03", KEY, s) for s in range(20)], "test")
    city.store.close()
    _damage(city.db)
    for args in (["db", "stats"], ["nodes", "list"], ["db", "backup", str(tmp_path / "copy.db")], ["serve", "--port", "0"]):
        rc, out, err = run(capsys, *args, "--db", str(city.db))
        assert rc == 2 and "Traceback" not in err, args
        assert "is damaged" in err and "restore it from a backup" in err and len(err.strip().splitlines()) == 1, args
    assert not list(tmp_path.glob("*copy.db*"))


def _as_a_reader(cmd: list[str]) -> list[str]:
    """Run *cmd* as someone who may read but not write root's 0444 files: root without the
    capability to override file permissions (setpriv), or this user when not root."""
    import os
    import shutil

    if os.geteuid() != 0:
        return cmd
    if shutil.which("setpriv") is None:
        pytest.skip("running as root without setpriv (util-linux): cannot drop the right to write read-only files")
    return ["setpriv", "--bounding-set=-dac_override,-dac_read_search", "--inh-caps=-dac_override,-dac_read_search", *cmd]


def test_a_read_only_database_can_be_read(city, tmp_path):
    city.ingestor().ingest([make_line("osk-03", KEY, s, t0=1795813500 - 300 * (s + 1)) for s in range(3)], "test")
    city.store.close()
    folder = city.db.parent
    before = sorted(x.name for x in folder.iterdir())
    for p in folder.iterdir():
        p.chmod(0o444)
    folder.chmod(0o555)
    try:
        for args in (["db", "stats", "--json"], ["nodes", "list", "--json"], ["db", "latest", "--json"]):
            p = subprocess.run(_as_a_reader([*CLI, *args, "--db", str(city.db)]), capture_output=True, text=True, timeout=120)
            assert p.returncode == 0, (args, p.stderr)
            assert json.loads(p.stdout)
        p = subprocess.run(_as_a_reader([*CLI, "nodes", "add", "osk-09", "--db", str(city.db)]), capture_output=True, text=True,
                           timeout=120)
        assert p.returncode != 0 and "Traceback" not in p.stderr  # writing is refused in words
        assert sorted(x.name for x in folder.iterdir()) == before  # no -wal/-shm: nothing was written beside it
    finally:
        folder.chmod(0o755)
