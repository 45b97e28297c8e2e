"""Forged, replayed and cut host replies on every transport (docs/record.md, "Replies"): an
attacker acknowledges every seq and sends a far-off time; the virtual node obeys only what the
real host signed with its key, so it keeps every record and its clock, counts the forgeries
(health.bad_replies), and the host stores everything exactly once."""

from __future__ import annotations

import json
import random
import time

import pytest

from tynys.transport import reply
from tynys.ingest import Collector, Ingestor
from tynys.keys import KeyFile
from tynys.registry import add_node
from tynys.store import Store
from tynys.transport.httpserver import RecordServer
from tynys.transport.mqtt import MqttIngest
from tynys.transport.serialport import SerialIngest

from .conftest import KEY, T0, answered, config, windows as measured
from .receiver import Interceptor

pytestmark = pytest.mark.e2e

FAR = 4102444800  # 2100-01-01
OTHER_KEY = bytes(range(7, 39))


def host_store(tmp_path):
    store = Store.open(tmp_path / "city.db")
    keys = KeyFile(tmp_path / "city.keys")
    add_node(store, keys, "vn-01", key=bytes.fromhex(KEY))
    return store, keys


def forgeries(last: int) -> list[bytes]:
    """What someone without the key can send: every seq acknowledged, the year 2100."""
    every = list(range(last + 50))
    return [
        b"ACK " + b" ".join(b"%d" % s for s in every[:40]),  # the old, unsigned protocol
        b"TIME %d" % FAR,
        json.dumps({"node": "vn-01", "seq": last, "ack": every, "time": FAR}, separators=(",", ":")).encode()[:250],
        reply.build("vn-01", OTHER_KEY, every[:30], now=FAR),  # signed, with a key that is not the node's
        reply.build("vn-01", OTHER_KEY, [last + 40], now=FAR),
    ]


def typed(vn, line: bytes) -> None:
    """Type a line once the node has read what came before, so its console ring takes it whole."""
    deadline = time.monotonic() + 30
    while vn.console_unread():
        assert time.monotonic() < deadline, "the node does not read its console"
        time.sleep(0.02)
    vn.write(line)


def spool_and_bad(vn) -> tuple[int, int]:
    vn.write(b"\x03")
    vn.expect(rb">>> $", timeout=20)
    vn.write(b"print('STATE', n.spool.count, n.replies[0])\r")
    m = vn.expect(rb"^STATE (\d+) (\d+)", timeout=20)
    return int(m.group(1)), int(m.group(2))


def test_console_forgeries_replays_garbage_and_a_flood(make_node, tmp_path):
    store, keys = host_store(tmp_path)
    end = T0 + 8 * 3600
    # no NTP: the clock runs from 2000-01-01 (power-on) unless someone sets it; a lost reply:
    # everything unacknowledged goes again in 5 s
    vn = make_node(config(uplinks={"serial": {"retry_s": 5}}), vtime="virtual", end=end)
    ingestor = Ingestor(store, keys, now=lambda: vn.world_time())
    rnd = random.Random(3)
    with Collector(ingestor) as col:
        vn.start()
        ing = SerialIngest(col, [vn.port], set_time=False).start()  # only the attacker offers a time
        vn.expect(rb"window to .* seq 4 ", timeout=120)
        deadline = time.monotonic() + 60
        while not any(x.startswith(b'{"node":"vn-01"') for x in vn.typed):
            assert time.monotonic() < deadline, "the host never answered"
            time.sleep(0.1)
        genuine = [x for x in vn.typed if x.startswith(b"{")]  # played again below: harmless
        for line in forgeries(measured(vn)[-1]) + [b"\x1b[2J garbage \xff\xfe"] + genuine:
            typed(vn, line + b"\n")
        vn.expect(rb"window to .* seq 12 ", timeout=120)
        # a flood while the node is busy: 20 kB of noise, forged lines and cut genuine ones in one
        # write; the 259-byte console ring keeps what fits and drops the rest
        noise = bytes(rnd.choice(b"0123456789 ,[]{}\":abcdefghijklmnopqrstuvwxyzACKTIME") for _ in range(4000))
        flood = b"\n".join([noise] + forgeries(12) * 20 + [g[: len(g) // 2] + g[len(g) // 3:] for g in genuine] + [noise])
        vn.write(flood + b"\n")
        assert vn.console_dropped > 15000
        vn.wait_world(end, timeout=240)
        deadline = time.monotonic() + 90
        while not answered(vn, measured(vn)[-1]):  # a reply cut on the line: the node sends again
            assert time.monotonic() < deadline, "the host's last reply never reached the node"
            time.sleep(0.2)
        # The flood's unended noise swallows the next reply line (the one acknowledging the oldest
        # records); the host's later replies show it is there, so the node sends those again
        # retry_s after the last new acknowledgement, and the host acknowledges them again.
        settled(vn, ing.links[0], quiet=15, timeout=120)
        ing.stop()
    left, bad = spool_and_bad(vn)
    windows = measured(vn)
    rows = store.conn.execute("SELECT seq, clock, t0, t1, raw FROM records ORDER BY seq").fetchall()
    assert [r[0] for r in rows] == windows == list(range(len(windows))), "a record the node measured is missing"
    assert bad >= 5  # each forged line that reached it whole is counted, and more from the flood
    assert set(store.stats()["rejected_by_reason"]) <= {"replay"}  # resends after lost replies only
    assert {r[1] for r in rows} == {"unsynced"} and all(r[2] < 10 ** 9 for r in rows), "the node took the forged time"
    assert counted(store) >= 5
    assert left == 0, f"{left} of {len(windows)} records stored by the host but never acknowledged to the node"
    store.close()


def settled(vn, link, quiet: float, timeout: float) -> None:
    """Wait until the node has sent no record line for *quiet* s (longer than the resend it owes
    retry_s after the host's last new acknowledgement) and has read every reply typed."""
    deadline = time.monotonic() + timeout
    seen, since = link.counts["records"], time.monotonic()
    while True:
        now = time.monotonic()
        assert now < deadline, f"the node still resends records after {timeout} s"
        if link.counts["records"] != seen:
            seen, since = link.counts["records"], now
        elif now - since >= quiet and not vn.console_unread():
            return
        time.sleep(0.2)


def counted(store) -> int:
    """health.bad_replies of the newest record stored."""
    raw = store.conn.execute("SELECT raw FROM records ORDER BY seq DESC LIMIT 1").fetchone()[0]
    return json.loads(raw)["health"].get("bad_replies", 0)


def test_http_a_fake_host_on_the_path(make_node, tmp_path):
    store, keys = host_store(tmp_path)
    end = T0 + 6 * 3600
    nodes = []  # the host's clock is the virtual world's, once the node exists
    with Collector(Ingestor(store, keys, now=lambda: nodes[0].world_time() if nodes else T0)) as col:
        srv = RecordServer(("127.0.0.1", 0), col).start()
        try:
            with Interceptor(srv.url + "/api/v1/records") as mitm:
                cfg = config(wifi={"ssid": "balcony", "password": "x"},
                             uplinks={"http": {"url": mitm.url, "retry_s": 1, "retry_max_s": 60, "batch": 4}})
                vn = make_node(cfg, vtime="virtual", end=end)
                nodes.append(vn)
                vn.start()
                vn.expect(rb"window to .* seq 5 ", timeout=120)
                every = list(range(60))
                mitm.forge = [
                    json.dumps({"ack": every, "time": FAR}).encode(),  # the old, unsigned answer
                    reply.build("vn-01", OTHER_KEY, every, now=FAR),  # signed with another key
                    reply.build("vn-02", OTHER_KEY, every, now=FAR),  # another node's
                    b"not json at all",
                    json.dumps({"ack": list(range(5000)), "time": FAR}).encode(),  # 24 kB: more than a node reads
                ] + mitm.genuine[:2]  # the host's own answers, played again
                vn.wait_world(end, timeout=240)
                deadline = time.monotonic() + 60
                while store.stats()["records"] < len(measured(vn)) and time.monotonic() < deadline:
                    time.sleep(0.2)
                forged = mitm.forged
        finally:
            srv.stop()
    rows = store.conn.execute("SELECT seq, clock, t0 FROM records ORDER BY seq").fetchall()
    windows = measured(vn)
    assert forged == 7 and [r[0] for r in rows][: len(windows)] == windows == list(range(len(windows)))
    assert {r[1] for r in rows[1:]} == {"ntp"} and all(r[2] <= end for r in rows), "the node's clock moved"
    assert counted(store) == 5  # the five that are no reply; the replayed ones verify and free nothing new
    assert set(store.stats()["rejected_by_reason"]) <= {"replay"}
    store.close()


def test_mqtt_a_second_client_on_an_open_broker(make_node, mosquitto, tmp_path):
    import paho.mqtt.client as mqtt

    store, keys = host_store(tmp_path)
    end = T0 + 6 * 3600
    cfg = config(wifi={"ssid": "balcony", "password": "x"},
                 uplinks={"mqtt": {"host": mosquitto.host, "port": mosquitto.port, "retry_s": 5}})
    vn = make_node(cfg, vtime="virtual", end=end, heap="128K")
    captured = []
    attacker = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="attacker", protocol=mqtt.MQTTv311)
    attacker.on_message = lambda c, u, m: captured.append(m.payload)
    attacker.connect(mosquitto.host, mosquitto.port)
    attacker.subscribe("tynys/vn-01/ack", qos=1)  # an open broker lets anyone read the host's replies...
    attacker.loop_start()
    with Collector(Ingestor(store, keys, now=lambda: vn.world_time())) as col:
        sub = MqttIngest(col, mosquitto.host, mosquitto.port).start()
        assert sub.connected.wait(10)
        vn.start()
        vn.expect(rb"window to .* seq 5 ", timeout=120)
        deadline = time.monotonic() + 30
        while not captured:
            assert time.monotonic() < deadline
            time.sleep(0.1)
        every = list(range(60))
        forged = [json.dumps({"ack": every, "time": FAR}).encode(),
                  reply.build("vn-01", OTHER_KEY, every, now=FAR),
                  b'{"ack":[0,1,2,3,4,5,6,7]}',
                  json.dumps({"ack": list(range(5000))}).encode()]  # 24 kB: read, dropped, PUBACKed
        for msg in forged + captured[:3]:  # ...and publish on its ack topic: forgeries, then replays
            attacker.publish("tynys/vn-01/ack", msg, qos=1).wait_for_publish(10)
        vn.wait_world(end, timeout=300)
        deadline = time.monotonic() + 60
        while store.stats()["records"] < len(measured(vn)) and time.monotonic() < deadline:
            time.sleep(0.2)
        sub.stop()
    attacker.disconnect()
    attacker.loop_stop()
    rows = store.conn.execute("SELECT seq, clock, t0 FROM records ORDER BY seq").fetchall()
    windows = measured(vn)
    assert [r[0] for r in rows][: len(windows)] == windows == list(range(len(windows)))
    assert {r[1] for r in rows[1:]} == {"ntp"} and all(r[2] <= end for r in rows), "the node's clock moved"
    assert counted(store) == len(forged)
    assert set(store.stats()["rejected_by_reason"]) <= {"replay"}
    store.close()
