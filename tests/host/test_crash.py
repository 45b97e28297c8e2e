"""SIGKILL the collecting host mid-stream, restart it: everything acknowledged is stored, once."""

from __future__ import annotations

import http.client
import json
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time

import pytest
from factory import KEY, FakeNode

from tynys.broker import free_port
from tynys.registry import add_node

pytestmark = pytest.mark.host
CLI = "import sys; from tynys.cli import main; sys.exit(main(sys.argv[1:]))"


def start_server(db, port) -> subprocess.Popen:
    p = subprocess.Popen([sys.executable, "-c", CLI, "serve", "--db", str(db), "--host", "127.0.0.1", "--port", str(port),
                          "--quiet"], stderr=subprocess.PIPE)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return p
        except OSError:
            assert p.poll() is None, p.stderr.read().decode()
            time.sleep(0.05)
    raise AssertionError("tynys serve did not start")


def stored(db) -> dict[str, list[int]]:
    c = sqlite3.connect(db)
    try:
        assert c.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        out: dict[str, list[int]] = {}
        for node, seq in c.execute("SELECT node, seq FROM records ORDER BY node, seq"):
            out.setdefault(node, []).append(seq)
        return out
    finally:
        c.close()


def test_sigkill_mid_stream_loses_nothing_acknowledged(city):
    nodes = {f"k{i}": FakeNode(f"k{i}", KEY) for i in range(4)}
    for n in nodes:
        add_node(city.store, city.keys, n, key=KEY)
    per_node, batch = 250, 10
    port = free_port()
    server = start_server(city.db, port)
    acked: dict[str, set[int]] = {n: set() for n in nodes}
    lock = threading.Lock()
    errors = []

    def run(fake: FakeNode):
        try:
            while fake.seq < per_node or fake.spool:
                if fake.seq < per_node:
                    fake.produce(min(batch // 2, per_node - fake.seq))
                try:
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
                    conn.request("POST", "/api/v1/records", body=b"\n".join(fake.pending(batch)),
                                 headers={"Content-Type": "application/x-ndjson", "X-Tynys-Node": fake.node})
                    r = conn.getresponse()
                    doc = json.loads(r.read())
                    conn.close()
                except (OSError, http.client.HTTPException, ValueError):
                    time.sleep(0.02)  # the host is down: keep the spool, retry
                    continue
                if r.status == 200:
                    assert all(x["reason"] == "replay" for x in doc.get("rejected", ())), doc
                    fake.ack(doc["ack"])
                    with lock:
                        acked[fake.node].update(doc["ack"])
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=run, args=(f,)) for f in nodes.values()]
    for t in threads:
        t.start()
    kills = 0
    try:
        for target in (150, 500):
            while sum(map(len, acked.values())) < target:
                assert server.poll() is None and not errors, errors
                time.sleep(0.002)
            server.send_signal(signal.SIGKILL)
            server.wait()
            kills += 1
            with lock:
                before = {n: set(s) for n, s in acked.items()}
            now = stored(city.db)
            for n, seqs in before.items():
                missing = seqs - set(now.get(n, []))
                assert not missing, f"acknowledged but lost after SIGKILL: {n} {sorted(missing)[:10]}"
            server = start_server(city.db, port)
        for t in threads:
            t.join(120)
        assert not errors, errors
        assert all(not f.spool for f in nodes.values())
    finally:
        if server.poll() is None:
            server.send_signal(signal.SIGTERM)
            assert server.wait(20) == 0
    final = stored(city.db)
    assert kills == 2
    assert final == {n: list(range(per_node)) for n in nodes}  # each record exactly once
    assert {n: sorted(s) for n, s in acked.items()} == final
