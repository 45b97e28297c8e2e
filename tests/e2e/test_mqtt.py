"""A virtual node's MQTT uplink through Mosquitto run as a user would run it — the configuration
`tynys broker config` writes: no anonymous clients, one login per node, an ACL per topic — into
the real host ingest (tynys.transport.mqtt, tynys.ingest): stored once each, acknowledged, the
spool drained, also across a broker outage. Another node's login can neither read this node's
records nor publish on its ack topic."""

import json
import time

import paho.mqtt.client as mqtt
import pytest

from tynys.broker import Mosquitto, free_port, mosquitto_binary
from tynys.brokerconf import INGEST_USER, node_password
from tynys.cli import main
from tynys.ingest import Collector, Ingestor
from tynys.keys import KeyFile, new_key
from tynys.registry import add_node
from tynys.store import Store
from tynys.transport.mqtt import MqttIngest

from .conftest import KEY, T0, config

pytestmark = [pytest.mark.e2e, pytest.mark.service]


def client(broker, user=None, password=None, on_message=None):
    """A second MQTT client on the broker; returns (client, connect result code)."""
    c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"other-{user}", protocol=mqtt.MQTTv311)
    if user:
        c.username_pw_set(user, password)
    codes = []
    c.on_connect = lambda c, u, f, rc, p: codes.append(rc)
    c.on_message = on_message
    c.connect(broker.host, broker.port)
    c.loop_start()
    deadline = time.monotonic() + 30  # a loaded machine answers late; a broker answers
    while not codes and time.monotonic() < deadline:
        time.sleep(0.02)
    return c, codes[0] if codes else None


def test_records_travel_through_the_projects_broker_config_once_each(make_node, tmp_path, need_service):
    need_service("mosquitto", mosquitto_binary() is not None, "apt-get install mosquitto; scripts/system-deps.sh does it")
    db = tmp_path / "city.db"
    store = Store.open(db)
    keys = KeyFile(tmp_path / "city.keys")
    add_node(store, keys, "vn-01", key=bytes.fromhex(KEY))
    other_key = new_key()
    add_node(store, keys, "vn-02", key=other_key)
    port = free_port()
    assert main(["broker", "config", str(tmp_path / "broker"), "--db", str(db), "--bind", "127.0.0.1",
                 "--port", str(port), "--json"]) == 0
    ingest_password = (tmp_path / "broker" / "ingest.password").read_text().strip()
    cfg = config(wifi={"ssid": "balcony", "password": "x"},
                 uplinks={"mqtt": {"host": "127.0.0.1", "port": port, "retry_s": 5,
                                   "user": "vn-01", "password": node_password(bytes.fromhex(KEY))}})
    # the broker is "down" for the node for two simulated hours: records wait on flash
    scenario = {"network": {"outages": [{"from": T0 + 3600, "to": T0 + 3 * 3600, "what": "host"}]}}
    vn = make_node(cfg, scenario, vtime="virtual", end=T0 + 5 * 3600, heap="128K")
    ingestor = Ingestor(store, keys, now=lambda: vn.world_time())  # the virtual world's "now"
    seen = []
    with Mosquitto(host="127.0.0.1", port=port, conf=tmp_path / "broker" / "mosquitto.conf") as broker, \
            Collector(ingestor) as col:
        _, anonymous = client(broker)
        assert anonymous is not None and anonymous.is_failure  # no anonymous clients
        sub = MqttIngest(col, broker.host, broker.port, username=INGEST_USER, password=ingest_password).start()
        assert sub.connected.wait(30)
        # another node's login, listening to vn-01's topics and writing on its ack topic
        other, rc = client(broker, "vn-02", node_password(other_key), on_message=lambda c, u, m: seen.append(m.topic))
        assert not rc.is_failure
        other.subscribe("tynys/vn-01/#", qos=1)
        vn.start()
        vn.expect(rb"window to .* seq 3 ", timeout=120)
        for _ in range(3):
            other.publish("tynys/vn-01/ack", json.dumps({"ack": list(range(100)), "time": 4102444800}), qos=1)
        vn.wait_world(T0 + 5 * 3600, timeout=300)
        n = (5 * 3600) // 300
        deadline = time.monotonic() + 120
        while store.stats()["records"] < n and time.monotonic() < deadline:
            time.sleep(0.2)
        # stopped at its REPL, the node's uplink still takes the replies on their way (they
        # follow the records they answer): the spool empties by the host's acknowledgements
        vn.write(b"\x03")
        vn.expect(rb">>> $", timeout=20)
        vn.write(b"import time; u = [x for x in n.uplinks if x.name == 'mqtt'][0]; d = time.ticks_add(time.ticks_ms(), 60000)\r")
        vn.write(b"while n.spool.count and time.ticks_diff(d, time.ticks_ms()) > 0: u.service(time.ticks_ms()); time.sleep_ms(50)\r\r")
        vn.write(b"print('SPOOL', n.spool.count)\r")
        left = vn.expect(rb"^SPOOL (\d+)", timeout=90).group(1)
        sub.stop()
        other.disconnect()
        other.loop_stop()
    seqs = [r[0] for r in store.conn.execute("SELECT seq FROM records ORDER BY seq")]
    assert seqs == list(range(len(seqs))) and len(seqs) >= n
    assert set(store.stats()["rejected_by_reason"]) <= {"replay"}  # resends only, deduplicated
    assert seen == []  # the ACL let it read nothing of vn-01's
    last = json.loads(store.conn.execute("SELECT raw FROM records ORDER BY seq DESC LIMIT 1").fetchone()[0])
    assert last["health"].get("bad_replies", 0) == 0  # its forgeries never reached the node
    assert left == b"0"
    assert any(b"mqtt: broker unreachable" in line for line in vn.lines)
    assert any(b"mqtt: connected again" in line for line in vn.lines)
    store.close()
