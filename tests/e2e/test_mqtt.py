"""A virtual node's MQTT uplink through a real Mosquitto into the real host ingest
(tynys.transport.mqtt, tynys.ingest): stored once each, acknowledged, the spool drained, also
across a broker outage."""

import time

import pytest

from tynys.ingest import Collector, Ingestor
from tynys.keys import KeyFile
from tynys.registry import add_node
from tynys.store import Store
from tynys.transport.mqtt import MqttIngest

from .conftest import KEY, T0, config

pytestmark = [pytest.mark.e2e, pytest.mark.service]


def test_records_travel_over_mqtt_into_the_store_once_each(make_node, mosquitto, tmp_path):
    broker = mosquitto
    store = Store.open(tmp_path / "city.db")
    keys = KeyFile(tmp_path / "city.keys")
    add_node(store, keys, "vn-01", key=bytes.fromhex(KEY))
    cfg = config(wifi={"ssid": "balcony", "password": "x"},
                 uplinks={"mqtt": {"host": broker.host, "port": broker.port, "retry_s": 5}})
    # the broker is "down" for the node for two simulated hours: records wait on flash
    scenario = {"network": {"outages": [{"from": T0 + 3600, "to": T0 + 3 * 3600, "what": "host"}]}}
    vn = make_node(cfg, scenario, vtime="virtual", end=T0 + 5 * 3600)
    ingestor = Ingestor(store, keys, now=lambda: vn.world_time())  # the virtual world's "now"
    with Collector(ingestor) as col:
        sub = MqttIngest(col, broker.host, broker.port).start()
        assert sub.connected.wait(10)
        vn.start()
        vn.wait_world(T0 + 5 * 3600, timeout=300)
        n = (5 * 3600) // 300
        deadline = time.monotonic() + 60
        while store.stats()["records"] < n and time.monotonic() < deadline:
            time.sleep(0.2)
        sub.stop()
    seqs = [r[0] for r in store.conn.execute("SELECT seq FROM records ORDER BY seq")]
    assert seqs == list(range(len(seqs))) and len(seqs) >= n
    assert set(store.stats()["rejected_by_reason"]) <= {"replay"}  # resends only, deduplicated
    vn.write(b"\x03")
    vn.expect(rb">>> $", timeout=20)
    vn.write(b"print('SPOOL', n.spool.count)\r")
    assert vn.expect(rb"^SPOOL (\d+)", timeout=20).group(1) in (b"0", b"1")  # the newest may be in flight
    assert any(b"mqtt: broker unreachable" in line for line in vn.lines)
    assert any(b"mqtt: connected again" in line for line in vn.lines)
    store.close()
