"""Ingest throughput: the one ingest path into SQLite (batched vs one commit per record), and end
to end over MQTT (Mosquitto on loopback), HTTP and a serial pty. Records are made by the host
tests' factory (signed version-1 records, ~1.4 kB each, 9 channels in 3 sensors). Re-timing:
ingest of boots that start with an unset clock against the same number of records with a set one."""

from __future__ import annotations

import http.client
import json
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "host"))

from factory import KEY, FakeNode, make_body, sign_body  # noqa: E402

from tynys import record  # noqa: E402
from tynys.broker import Mosquitto, mosquitto_binary  # noqa: E402
from tynys.ingest import Collector, Ingestor  # noqa: E402
from tynys.keys import KeyFile  # noqa: E402
from tynys.registry import add_node  # noqa: E402
from tynys.store import Store  # noqa: E402

NODES = 10


def _city(root: Path) -> Ingestor:
    store = Store.open(root / "bench.db")
    keys = KeyFile(root / "bench.keys")
    for i in range(NODES):
        add_node(store, keys, f"b{i:02d}", key=KEY)
    return Ingestor(store, keys, max_past=None, max_future=10**9)


def _stream(per_node: int) -> list[bytes]:
    fakes = [FakeNode(f"b{i:02d}", KEY, capacity=per_node) for i in range(NODES)]
    per = [f.produce(per_node) for f in fakes]
    return [line for group in zip(*per) for line in group]  # interleaved, as nodes report


def run(report):
    lines = _stream(500)
    n = len(lines)
    report("record size", sum(map(len, lines)) / n, "bytes")

    with tempfile.TemporaryDirectory() as d:
        ing = _city(Path(d))
        t = time.perf_counter()
        for i in range(0, n, 500):
            ing.ingest(lines[i:i + 500], "bench")
        batched = n / (time.perf_counter() - t)
        assert ing.store.stats()["records"] == n
    with tempfile.TemporaryDirectory() as d:
        ing = _city(Path(d))
        t = time.perf_counter()
        for line in lines[:1000]:
            ing.ingest([line], "bench")
        single = 1000 / (time.perf_counter() - t)
    report("ingest batched (500/commit, synchronous=FULL)", batched, "records/s")
    report("ingest one record per commit (baseline)", single, "records/s")
    report("ingest batched / one per commit", batched / single, "x")

    # the store alone (parsed, verified records), to show what group commit buys SQLite
    bodies = [(record.parse(ln)[0], ln.decode()) for ln in lines]
    rates = {}
    for label, size in (("batched", 500), ("one per commit", 1)):
        with tempfile.TemporaryDirectory() as d:
            store = _city(Path(d)).store
            m = n if size > 1 else 1000
            t = time.perf_counter()
            for i in range(0, m, size):
                with store.transaction():
                    for b, raw in bodies[i:i + size]:
                        store.insert_record(b, raw, 0, "bench", "")
            rates[label] = m / (time.perf_counter() - t)
    report("store only, batched", rates["batched"], "records/s")
    report("store only, one per commit", rates["one per commit"], "records/s")
    report("store only, batched / one per commit", rates["batched"] / rates["one per commit"], "x")

    body = record.parse(lines[0])[0]
    sig = record.split(lines[0])[1]
    t = time.perf_counter()
    for _ in range(500):
        record.validate(body, sig)
    report("of which JSON Schema validation", (time.perf_counter() - t) / 500 * 1e6, "µs/record")

    _retime(report, lines)
    _http(report)
    _serial(report)
    _mqtt(report)


def _boot(node: str, unsynced: int, synced: int, world0: int) -> list[bytes]:
    """One boot: *unsynced* windows on the 2000-01-01 clock, then *synced* ones (world time at
    uptime 0 is *world0*)."""
    return [sign_body(make_body(node, i, boot=1, t0=(946684800 if i < unsynced else world0) + 300 * i,
                                clock="unsynced" if i < unsynced else "ntp", uptime=300 * (i + 1)), KEY)
            for i in range(unsynced + synced)]


def _rate(lines: list[bytes], size: int, before: list[bytes] = ()) -> tuple[float, dict]:
    """Records/s ingesting *lines* *size* per commit into a fresh city holding *before*."""
    with tempfile.TemporaryDirectory() as d:
        ing = _city(Path(d))
        ing.ingest(before, "bench")
        t = time.perf_counter()
        for i in range(0, len(lines), size):
            ing.ingest(lines[i:i + size], "bench")
        rate = len(lines) / (time.perf_counter() - t)
        stats = ing.store.stats()
        ing.store.close()
    return rate, stats


def _retime(report, synced: list[bytes]):
    world0 = int(time.time()) - 86400 * 10
    boots = [_boot(f"b{i:02d}", 100, 400, world0) for i in range(NODES)]
    mixed = [ln for group in zip(*boots) for ln in group]  # interleaved, as nodes report
    base, _ = _rate(synced[:len(mixed)], 500)
    rate, stats = _rate(mixed, 500)
    assert (stats["retimed"], stats["pending"]) == (NODES * 100, 0)
    report("ingest batched, a fifth of each boot unsynced and re-timed", rate, "records/s")
    report("  / all synced (same count, same process)", rate / base, "x")
    # the steady state after a late sync: each new record of a boot that has 700 re-timed windows
    one = _boot("b00", 700, 1000, world0)
    base, _ = _rate(synced[:1000], 1)
    rate, stats = _rate(one[701:], 1, before=one[:701])
    assert stats["retimed"] == 700
    report("ingest one per commit into a boot with 700 re-timed windows", rate, "records/s")
    report("  / one per commit, all synced", rate / base, "x")


def _http(report, per_node=300):
    from tynys.transport.httpserver import RecordServer

    with tempfile.TemporaryDirectory() as d:
        col = Collector(_city(Path(d)))
        srv = RecordServer(("127.0.0.1", 0), col).start()
        fakes = [FakeNode(f"b{i:02d}", KEY, capacity=per_node) for i in range(NODES)]

        def post(f):
            conn = http.client.HTTPConnection(*srv.server_address[:2], timeout=30)
            while f.seq < per_node or f.spool:
                f.produce(min(20, per_node - f.seq))
                conn.request("POST", "/api/v1/records", body=b"\n".join(f.pending(50)), headers={"X-Tynys-Node": f.node})
                f.ack(json.loads(conn.getresponse().read())["ack"])
            conn.close()

        t = time.perf_counter()
        threads = [threading.Thread(target=post, args=(f,)) for f in fakes]
        [th.start() for th in threads]
        [th.join() for th in threads]
        rate = NODES * per_node / (time.perf_counter() - t)
        srv.stop()
        col.close()
    report(f"HTTP end to end ({NODES} nodes posting concurrently, <=50 records/POST)", rate, "records/s")


def _serial(report, n=3000):
    from ptys import PtyNode

    from tynys.transport.serialport import SerialIngest

    with tempfile.TemporaryDirectory() as d:
        col = Collector(_city(Path(d)))
        node = PtyNode(Path(d) / "ttyBENCH", KEY)
        # gap=0: the host's own pace (a board's console needs a second between reply lines)
        ing = SerialIngest(col, [str(node.link)], reopen_every=0.1, set_time=False, gap=0).start()
        ing.links[0].connected.wait(10)
        fake = FakeNode("b00", KEY, capacity=n)
        lines = fake.produce(n)
        t = time.perf_counter()
        for i in range(0, n, 50):  # a spool dump: the node writes as fast as the pty takes it
            node.write(b"\n".join(lines[i:i + 50]) + b"\n")
        node.wait_for(lambda: len(node.acked()) >= n, 120)
        rate = n / (time.perf_counter() - t)
        assert len(node.acked()) == n
        ing.stop()
        node.close()
        col.close()
    report("serial end to end over a pty (spool dump, signed reply lines back)", rate, "records/s")


def _mqtt(report, n=3000):
    if mosquitto_binary() is None:
        report("MQTT end to end", "skipped: mosquitto not installed")
        return
    import paho.mqtt.client as mqtt

    from tynys.transport.mqtt import MqttIngest

    with tempfile.TemporaryDirectory() as d, Mosquitto() as broker:
        col = Collector(_city(Path(d)))
        sub = MqttIngest(col, broker.host, broker.port).start()
        sub.connected.wait(10)
        acked = set()
        done = threading.Event()

        def on_message(c, u, m):
            acked.update((m.topic, s) for s in json.loads(m.payload)["ack"])
            if len(acked) >= n:
                done.set()

        pub = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="bench-nodes")
        pub.on_message = on_message
        pub.connect(broker.host, broker.port)
        pub.subscribe("tynys/+/ack", qos=1)
        pub.loop_start()
        time.sleep(0.3)
        lines = _stream(n // NODES)
        t = time.perf_counter()
        infos = [pub.publish(f"tynys/{record.parse(ln)[0]['node']}/records", ln, qos=1) for ln in lines]
        done.wait(120)
        rate = len(acked) / (time.perf_counter() - t)
        assert len(acked) == n and all(i.rc == 0 for i in infos)
        pub.loop_stop()
        pub.disconnect()
        sub.stop()
        col.close()
    report(f"MQTT end to end through Mosquitto (QoS 1, {NODES} nodes, acks back)", rate, "records/s")
