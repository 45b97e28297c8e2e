"""Ingest throughput: the one ingest path into SQLite, batched, against one commit per record
(the baseline) and against a plain ``executemany`` of the same rows into the same schema with the
same pragmas (the ceiling: what storing costs with no reading or checking at all); then end to
end over MQTT (Mosquitto on loopback), HTTP and a serial pty. Records are made by the host
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


BATCH = 500


def _ingest_side(lines, size):
    """A fresh city; the callable ingests *lines* *size* per commit (set-up and clean-up untimed)."""
    def prepare():
        d = tempfile.TemporaryDirectory()
        ing = _city(Path(d.name))

        def go():
            for i in range(0, len(lines), size):
                ing.ingest(lines[i:i + size], "bench")

        def done():
            assert ing.store.stats()["records"] == len(lines)
            ing.store.close()
            d.cleanup()

        return go, done
    return prepare


def _rows(lines):
    """The rows ingest writes for *lines* (records, record_sensors, channel_values), made in
    advance: what a plain executemany has to store, without reading or checking anything."""
    recs, sensors, values = [], [], []
    for rid, line in enumerate(lines, 1):
        b = record.parse(line)[0]
        h = b["health"]
        recs.append((rid, b["node"], b["boot"], b["seq"], b["t0"], b["t1"], b["clock"], b["fw"], h["heap_free"], h["uptime"],
                     h["reset"], h.get("rssi"), h["spool"], h["dropped"], 0, "bench", "", line.decode(), "node", b["t0"], b["t1"], ""))
        for slot, st in b["sensors"].items():
            sensors.append((rid, slot, st["type"], st.get("model"), st.get("id"), st["frames"], st["bad"], st["warmup"],
                            st["missing"], st.get("state")))
            values.extend((rid, f"{slot}.{ch}", v["n"], v["mean"], v["sd"], v["min"], v["max"]) for ch, v in st["ch"].items())
    return recs, sensors, values


def _ceiling_side(lines):
    """The same rows into the same schema with the same pragmas by plain executemany, BATCH per commit.
    The store is opened as ingest's is (Store.open: every migration, so every index ingest updates)."""
    recs, sensors, values = _rows(lines)
    per = len(values) // len(recs)

    def prepare():
        d = tempfile.TemporaryDirectory()
        store = _city(Path(d.name)).store
        c = store.conn

        def go():
            for i in range(0, len(recs), BATCH):
                with store.transaction():
                    c.executemany("INSERT INTO records (id, node, boot, seq, t0, t1, clock, fw, heap_free, uptime, reset, rssi,"
                                  " spool, dropped, received, transport, source, raw, timing, eff_t0, eff_t1, timing_note)"
                                  " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", recs[i:i + BATCH])
                    c.executemany("INSERT INTO record_sensors VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", sensors[3 * i:3 * (i + BATCH)])
                    c.executemany("INSERT INTO channel_values VALUES (?, ?, ?, ?, ?, ?, ?)", values[per * i:per * (i + BATCH)])

        def done():
            store.close()
            d.cleanup()

        return go, done
    return prepare


def run(report):
    lines = _stream(500)
    n = len(lines)
    report("record size", sum(map(len, lines)) / n, "bytes")
    # synchronous=FULL on every side; the baseline stores 500 records, the others all
    ours, base, ceiling = f"tynys, {BATCH}/commit", "tynys, 1/commit", "plain executemany"
    report.compare("ingest", {ours: _ingest_side(lines, BATCH), base: _ingest_side(lines[:500], 1), ceiling: _ceiling_side(lines)},
                   work={ours: n, base: 500, ceiling: n}, per="records", repeats=5, baseline=base, ceiling=ceiling)

    _decode(report, lines)

    _retime(report, lines)
    _http(report)
    _serial(report)
    _mqtt(report)


def _decode(report, lines):
    """Reading a record: msgspec's one pass into typed structs (+ the cross-field rules) against
    what ingest did before: json.loads, a compiled JSON-Schema validator and a walk for NaN and
    64-bit overflow."""
    import fastjsonschema

    signed = [record.split(ln)[0] for ln in lines]
    validator = fastjsonschema.compile(record.schema())

    def one_pass():
        return lambda: [record.check(record.decode(s)) for s in signed]

    def three_passes():
        def go():
            for s in signed:
                body = json.loads(s)
                validator(dict(body, sig="0" * 64))
                record._unstorable_number(body)
        return go

    report.compare("read a record", {"msgspec, one pass": one_pass, "json + JSON Schema + walk": three_passes},
                   work=len(signed), per="records", baseline="json + JSON Schema + walk")


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
