"""A virtual Oskemen of ten nodes (the firmware as .mpy on the unix port) sends over serial ptys,
HTTP and MQTT (a real Mosquitto) into the host, run as its three collector processes on one
SQLite file: ``tynys serve``, ``tynys ingest mqtt`` and ``tynys ingest serial``. Mid-run the host
is SIGKILLed and restarted; one node loses its power for ten simulated minutes; one node signs
with a key the registry does not know; one stored record is sent again. Every valid record is
stored exactly once, the forged and the replayed ones are refused with their reasons.
"""

from __future__ import annotations

import http.client
import json
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import time

import pytest

from tynys.broker import free_port
from tynys.keys import KeyFile, new_key
from tynys.sim import Endpoints, create_node, node_config, plan, register
from tynys.store import Store


pytestmark = [pytest.mark.e2e, pytest.mark.service]

HOURS = 3
CLI = "import sys; from tynys.cli import main; sys.exit(main(sys.argv[1:]))"
WINDOW_LINE = re.compile(rb"^tynys: window to \d\d:\d\d seq (\d+) ")
BOOT_LINE = re.compile(rb"^tynys: [0-9.]+, boot (\d+), reset: ")


class Host:
    """The host as three collector processes on one database (each is killable on its own)."""

    def __init__(self, db, logs, http_port, broker):
        self.db, self.logs, self.http_port, self.broker = str(db), logs, http_port, broker
        self.ports: list[str] = []
        self.procs: dict[str, subprocess.Popen] = {}
        self.starts = 0

    def _spawn(self, name, *args):
        log = open(self.logs / f"{name}.{self.starts}.log", "wb")
        self.procs[name] = subprocess.Popen([sys.executable, "-c", CLI, *args, "--db", self.db], stdout=log, stderr=log)

    def start(self, ports: list[str] | None = None):
        """serve and ingest mqtt; ingest serial too once the nodes' ptys exist."""
        self.starts += 1
        self._spawn("serve", "serve", "--host", "127.0.0.1", "--port", str(self.http_port), "--quiet")
        self._spawn("mqtt", "ingest", "mqtt", "--host", self.broker.host, "--port", str(self.broker.port),
                    "--client-id", "city-host")
        if ports:
            self.start_serial(ports)
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.http_port), timeout=0.2).close()
                break
            except OSError:
                assert time.monotonic() < deadline and self.procs["serve"].poll() is None, "tynys serve did not start"
                time.sleep(0.05)
        log = self.logs / f"mqtt.{self.starts}.log"
        while b"subscribed to" not in log.read_bytes():  # a persistent session exists from here on
            assert time.monotonic() < deadline and self.procs["mqtt"].poll() is None, "tynys ingest mqtt did not subscribe"
            time.sleep(0.05)

    def start_serial(self, ports: list[str]):
        self.ports = ports
        self._spawn("serial", "ingest", "serial", *ports, "--no-time")  # the nodes keep NTP (world) time

    def kill(self):
        for p in self.procs.values():
            p.send_signal(signal.SIGKILL)
        for p in self.procs.values():
            p.wait()

    def stop(self) -> dict[str, int]:
        for p in self.procs.values():
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        return {name: p.wait(30) for name, p in self.procs.items()}


def measured(vn) -> set[tuple[int, int]]:
    """(boot, seq) of every window the node closed, from its console across all its boots."""
    out, boot = set(), None
    for line in (vn.home / "console.log").read_bytes().splitlines():
        m = BOOT_LINE.match(line)
        if m:
            boot = int(m.group(1))
        m = WINDOW_LINE.match(line)
        if m:
            out.add((boot, int(m.group(1))))
    return out


def test_ten_nodes_three_transports_a_killed_host_a_power_cut_a_forged_key_and_a_replay(tmp_path, mosquitto):
    broker = mosquitto
    start = int(time.time()) // 300 * 300 - (HOURS + 1) * 3600  # the world an hour behind the host's clock
    end = start + HOURS * 3600
    plans = plan("oskemen", 10, HOURS, "plume", "mixed", start=start)  # serial, http, mqtt in turn
    by = {t: [p for p in plans if p.transport == t] for t in ("serial", "http", "mqtt")}
    assert [len(v) for v in by.values()] == [4, 3, 3]
    forged, cycled, replayed = by["mqtt"][0], by["http"][0], by["serial"][0]
    db = tmp_path / "city.db"
    store = Store.open(db)
    keys = register(store, KeyFile(tmp_path / "city.keys"), plans, installed=start)
    store.close()
    http_port = free_port()
    endpoints = Endpoints(f"http://127.0.0.1:{http_port}/api/v1/records", (broker.host, broker.port))
    vns = {}
    for p in plans:
        key = new_key() if p is forged else keys[p.node]  # provisioned with a key the host does not have
        vns[p.node] = create_node(p, node_config(p, key, endpoints), tmp_path / p.node, start, HOURS)
    honest = [p.node for p in plans if p is not forged]
    host = Host(db, tmp_path, http_port, broker)
    host.start()
    try:
        for vn in vns.values():
            vn.start()
        host.start_serial([vns[p.node].port for p in by["serial"]])
        watch = sqlite3.connect(db, timeout=10)
        count = lambda: watch.execute("SELECT COUNT(*) FROM records").fetchone()[0]  # noqa: E731
        killed_at = cycled_at = None
        deadline = time.monotonic() + 300
        while True:
            assert time.monotonic() < deadline, f"not done: {count()} records stored"
            n = count()
            if killed_at is None and n >= 0.35 * 10 * HOURS * 12:  # a third of the way: SIGKILL the whole host
                host.kill()
                killed_at = n
                host.start(host.ports)
            if cycled_at is None and len(measured(vns[cycled.node])) >= 10:
                vns[cycled.node].power_cycle(off_s=600)  # ten simulated minutes without power
                cycled_at = vns[cycled.node].world_time()
            if killed_at is not None and cycled_at is not None and _all_in(watch, vns, honest, forged.node, end):
                break
            time.sleep(0.1)
        # a stored record of a serial node sent again, over HTTP
        raw, seq = watch.execute("SELECT raw, seq FROM records WHERE node = ? ORDER BY seq LIMIT 1 OFFSET 5",
                                 (replayed.node,)).fetchone()
        conn = http.client.HTTPConnection("127.0.0.1", http_port, timeout=30)
        conn.request("POST", "/api/v1/records", body=raw.encode() + b"\n",
                     headers={"Content-Type": "application/x-ndjson", "X-Tynys-Node": replayed.node})
        answer = conn.getresponse()
        doc = json.loads(answer.read())
        conn.close()
        watch.close()
    finally:
        for vn in vns.values():
            vn.stop()
        codes = host.stop()
    assert answer.status == 200 and doc["ack"] == [seq]  # a copy of a stored record: acknowledged, stored once
    assert codes == {"serve": 0, "mqtt": 0, "serial": 0}, "the restarted host stops cleanly on SIGTERM"
    assert 0 < killed_at < 10 * HOURS * 12

    c = sqlite3.connect(db)
    assert c.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    for node in honest:
        rows = c.execute("SELECT boot, seq, t1, clock FROM records WHERE node = ? ORDER BY boot, seq", (node,)).fetchall()
        stored = {(b, q) for b, q, _, _ in rows}
        windows = measured(vns[node])
        assert len(stored) == len(rows) and windows <= stored, f"{node}: windows it measured are missing"
        for boot in {b for b, _ in stored}:  # within each boot, seqs run without a gap
            seqs = sorted(q for b, q in stored if b == boot)
            assert seqs == list(range(seqs[0], seqs[0] + len(seqs))), f"{node} boot {boot}: a gap in seq"
        assert {r[3] for r in rows} == {"ntp"} and max(r[2] for r in rows) == end
        if node == cycled.node:
            # a record may be on flash but not yet on the console when the power goes: stored, not logged
            cut_boot = min(b for b, _ in stored)
            assert stored - windows <= {max(q for b, q in stored if b == cut_boot)} and "power_on" in vns[node].resets
            assert len({b for b, _ in stored}) == 2 and len(stored) < HOURS * 12  # ten minutes unpowered
        else:
            assert stored == windows and {b for b, _ in stored} == {1}
            assert sorted(q for _, q in stored) == list(range(HOURS * 12)), f"{node}: not every window of {HOURS} h"

    assert c.execute("SELECT COUNT(*) FROM records WHERE node = ?", (forged.node,)).fetchone()[0] == 0
    forged_rejects = c.execute("SELECT reason, boot, seq FROM rejects WHERE node = ?", (forged.node,)).fetchall()
    assert {r[0] for r in forged_rejects} == {"bad_signature"}
    # refusals are counted exactly and kept as a sample (the first 20 of a kind, then the 2^k-th)
    assert {(b, q) for _, b, q in forged_rejects} <= measured(vns[forged.node])
    assert _forged_refused(c, forged.node) >= len(measured(vns[forged.node])), "every forged window was refused"

    reasons = dict(c.execute("SELECT reason, COUNT(*) FROM rejects GROUP BY reason").fetchall())
    # resends after the kill and the power cut are replays; a line the killed serial collector
    # had half read may come back as a malformed tail: nothing else
    assert set(reasons) <= {"bad_signature", "replay", "malformed"}, reasons
    assert c.execute("SELECT COUNT(*) FROM rejects WHERE reason = 'bad_signature' AND node != ?", (forged.node,)).fetchone()[0] == 0
    malformed = c.execute("SELECT transport FROM rejects WHERE reason = 'malformed'").fetchall()
    assert all(t == "serial" for (t,) in malformed) and len(malformed) <= len(by["serial"])
    assert c.execute("SELECT COUNT(*) FROM rejects WHERE reason = 'replay' AND transport = 'http' AND node = ? AND seq = ?",
                     (replayed.node, seq)).fetchone()[0] == 1
    c.close()


def _all_in(db, vns, honest, forged, end) -> bool:
    """Every node past the end of the run, each honest node's measured windows stored, each of the
    forged node's refused."""
    last = time.strftime("window to %H:%M ", time.gmtime(end)).encode()  # the run's last window
    if not all(any(last in line for line in vn.lines) for vn in vns.values()):
        return False
    for node in honest:
        stored = set(db.execute("SELECT boot, seq FROM records WHERE node = ?", (node,)))
        if not measured(vns[node]) <= stored:
            return False
    return _forged_refused(db, forged) >= len(measured(vns[forged]))


def _forged_refused(db, forged) -> int:
    """Lines refused as bad_signature from the forged node's topic (each window, and its resends)."""
    return db.execute("SELECT COALESCE(SUM(n), 0) FROM reject_counts WHERE reason = 'bad_signature' AND source = ?",
                      (f"tynys/{forged}/records",)).fetchone()[0]
