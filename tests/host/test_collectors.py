"""A network's collectors on one server database: tynys serve (HTTP), tynys ingest mqtt and tynys
ingest serial, each its own process, write one city into one PostgreSQL; every record reaches two
of them. Each (node, boot, seq) is stored once, and the HTTP collector, SIGKILLed mid-stream,
loses nothing it acknowledged."""

from __future__ import annotations

import http.client
import json
import signal
import socket
import subprocess
import sys
import threading
import time

import psycopg
import pytest
from factory import KEY, FakeNode
from ptys import PtyNode
from test_mqtt import NodeClient

from tynys.broker import free_port
from tynys.keys import KeyFile
from tynys.registry import add_node
from tynys.store import Store

pytestmark = [pytest.mark.host, pytest.mark.service]
CLI = "import sys; from tynys.cli import main; sys.exit(main(sys.argv[1:]))"
NODES = [f"net-{i}" for i in range(4)]
PER_NODE = 90
ROUTES = [("http", "mqtt"), ("mqtt", "serial"), ("serial", "http")]  # the two collectors of record k: ROUTES[k % 3]


def spawn(tmp_path, name, *args) -> subprocess.Popen:
    log = open(tmp_path / f"{name}.log", "ab")
    return subprocess.Popen([sys.executable, "-c", CLI, *args], stdout=log, stderr=log)


def wait(pred, what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not pred():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def stored(url) -> dict[tuple, int]:
    with psycopg.connect(url) as c:
        return {(n, b, s): k for n, b, s, k in c.execute("SELECT node, boot, seq, COUNT(*) FROM records GROUP BY node, boot, seq")}


def test_three_collectors_one_postgresql_each_record_once(pg_server, mosquitto, tmp_path):
    url = pg_server.new_schema("three")
    keys_path = tmp_path / "net.keys"
    with Store.open(url) as store:
        keys = KeyFile(keys_path)
        for n in NODES:
            add_node(store, keys, n, key=KEY)
    common = ["--db", url, "--keys", str(keys_path)]
    port = free_port()
    serve_args = ["serve", *common, "--host", "127.0.0.1", "--port", str(port), "--quiet"]
    ptys = {n: PtyNode(tmp_path / f"tty-{n}", KEY) for n in NODES}
    procs = {"http": spawn(tmp_path, "http", *serve_args),
             "mqtt": spawn(tmp_path, "mqtt", "ingest", "mqtt", *common, "--host", mosquitto.host, "--port", str(mosquitto.port)),
             "serial": spawn(tmp_path, "serial", "ingest", "serial", *[str(p.link) for p in ptys.values()], *common)}
    lines = {n: FakeNode(n, KEY).produce(PER_NODE) for n in NODES}
    share = {t: {n: [k for k in range(PER_NODE) if t in ROUTES[(k + i) % 3]] for i, n in enumerate(NODES)}
             for t in ("http", "mqtt", "serial")}
    acked = {t: {n: set() for n in NODES} for t in share}
    lock, errors = threading.Lock(), []

    def post(node, seqs) -> list[int] | None:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
            conn.request("POST", "/api/v1/records", body=b"\n".join(lines[node][k] for k in seqs),
                         headers={"Content-Type": "application/x-ndjson", "X-Tynys-Node": node})
            r = conn.getresponse()
            doc = json.loads(r.read())
            conn.close()
        except (OSError, http.client.HTTPException, ValueError):
            return None  # the collector is down: keep them, send again
        return doc["ack"] if r.status == 200 else None

    def over_http():
        try:
            for node in NODES:
                todo = list(share["http"][node])
                while todo:
                    got = post(node, todo[:10])
                    if got is None:
                        time.sleep(0.05)
                        continue
                    with lock:
                        acked["http"][node].update(got)
                    todo = [k for k in todo if k not in acked["http"][node]]
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    def over_mqtt():
        clients = {n: NodeClient(mosquitto, n) for n in NODES}
        try:
            for n, c in clients.items():
                for k in share["mqtt"][n]:
                    c.publish(lines[n][k])
            for n, c in clients.items():  # QoS 1 to the broker; resent until the collector acknowledged
                while not set(share["mqtt"][n]) <= c.acks:
                    for k in sorted(set(share["mqtt"][n]) - c.acks)[:20]:
                        c.publish(lines[n][k])
                    c.wait(lambda: set(share["mqtt"][n]) <= c.acks, timeout=5)
                acked["mqtt"][n] = set(c.acks)
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)
        finally:
            for c in clients.values():
                c.close()

    def over_serial():
        try:
            log = tmp_path / "serial.log"
            wait(lambda: log.read_text().count(": connected") >= len(ptys), "the serial collector to open its ports")
            for n, p in ptys.items():
                p.write(b"\n".join(lines[n][k] for k in share["serial"][n]) + b"\n")
            for n, p in ptys.items():
                assert p.wait_for(lambda: set(share["serial"][n]) <= set(p.acked()), 120), n
                acked["serial"][n] = set(p.acked())
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    def http_up():
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return True
        except OSError:
            assert procs["http"].poll() is None, (tmp_path / "http.log").read_text()
            return False

    wait(http_up, "tynys serve")
    threads = [threading.Thread(target=f) for f in (over_http, over_mqtt, over_serial)]
    for t in threads:
        t.start()
    try:
        wait(lambda: sum(map(len, acked["http"].values())) >= 40, "the first HTTP acknowledgements", 120)
        procs["http"].send_signal(signal.SIGKILL)  # mid-stream: its sender keeps posting
        procs["http"].wait()
        with lock:
            before = {(n, 0, k) for n, ks in acked["http"].items() for k in ks}
        lost = before - set(stored(url))
        assert not lost, f"acknowledged over HTTP, then lost with the collector: {sorted(lost)[:10]}"
        procs["http"] = spawn(tmp_path, "http", *serve_args)
        for t in threads:
            t.join(300)
        assert not errors, errors
        assert not any(t.is_alive() for t in threads)
    finally:
        for name, p in procs.items():
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                assert p.wait(30) == 0, (tmp_path / f"{name}.log").read_text()
        for p in ptys.values():
            p.close()
    for t, per_node in share.items():
        for n, ks in per_node.items():
            assert set(ks) <= acked[t][n], (t, n)
    final = stored(url)
    assert set(final) == {(n, 0, k) for n in NODES for k in range(PER_NODE)}
    assert set(final.values()) == {1}  # each record stored exactly once, though two collectors had it
