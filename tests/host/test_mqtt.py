"""MQTT ingest against a real Mosquitto on a free loopback port (skipped when it is not installed)."""

from __future__ import annotations

import threading
import time

import paho.mqtt.client as mqtt
import pytest
from factory import KEY, FakeNode, make_line

from tynys.transport import reply
from tynys.ingest import Collector
from tynys.transport.mqtt import MqttIngest

pytestmark = [pytest.mark.host, pytest.mark.service]


class NodeClient:
    """What a node does over MQTT: publish records QoS 1, read its ack topic."""

    def __init__(self, broker, node: str):
        self.node, self.acks, self.docs = node, set(), []
        self.ready = threading.Event()
        c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"node-{node}", protocol=mqtt.MQTTv311)
        c.on_connect = lambda c, u, f, rc, p: c.subscribe(f"tynys/{node}/ack", qos=1)
        c.on_subscribe = lambda *a: self.ready.set()
        c.on_message = self._on_message
        c.connect(broker.host, broker.port)
        c.loop_start()
        assert self.ready.wait(10)
        self.client = c

    def _on_message(self, c, u, msg):
        doc = reply.verify(msg.payload, KEY)  # signed with the node's key (docs/record.md, "Replies")
        self.docs.append(doc)
        self.acks.update(doc["ack"])

    def publish(self, line: bytes, topic: str | None = None) -> None:
        self.client.publish(topic or f"tynys/{self.node}/records", line, qos=1).wait_for_publish(10)

    def wait(self, pred, timeout=15) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not pred():
            time.sleep(0.02)
        return pred()

    def close(self):
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def collector(city):
    col = Collector(city.ingestor(now=time.time))
    yield col
    col.close()


def start(col, broker, **kw) -> MqttIngest:
    sub = MqttIngest(col, broker.host, broker.port, **kw).start()
    assert sub.connected.wait(10)
    time.sleep(0.1)  # the SUBACK
    return sub


def test_records_are_stored_and_acknowledged_on_the_ack_topic(city, collector, mosquitto):
    sub = start(collector, mosquitto)
    node = NodeClient(mosquitto, "osk-03")
    try:
        fake = FakeNode("osk-03", KEY)
        for line in fake.produce(5):
            node.publish(line)
        node.publish(make_line("osk-03", bytes(32), 50))
        assert node.wait(lambda: node.acks == {0, 1, 2, 3, 4} and len(node.docs) == 5)
        assert all(abs(d["time"] - time.time()) < 10 and d["seq"] == d["ack"][0] for d in node.docs)
        assert node.wait(lambda: city.store.stats()["rejected"] == 1)
        assert len(node.docs) == 5  # the forged record: refused, and nothing to sign a reply for
        assert city.store.stats()["records"] == 5
        assert {r[0] for r in city.store.conn.execute("SELECT source FROM records")} == {"tynys/osk-03/records"}
    finally:
        node.close()
        sub.stop()


def test_a_record_on_another_nodes_topic_frees_nobody(city, collector, mosquitto):
    sub = start(collector, mosquitto)
    victim = NodeClient(mosquitto, "osk-02")
    try:
        victim.publish(make_line("osk-03", KEY, 3), topic="tynys/osk-02/records")
        assert victim.wait(lambda: city.store.stats()["rejected"] == 1)
        assert [r["reason"] for r in city.store.rejects()] == ["node_mismatch"]
        time.sleep(0.3)
        assert victim.docs == [] and city.store.stats()["records"] == 0  # no reply: nothing acknowledged
    finally:
        victim.close()
        sub.stop()


def test_records_sent_while_the_host_is_away_arrive_when_it_returns(city, collector, mosquitto):
    sub = start(collector, mosquitto, client_id="tynys-test")
    sub.stop()  # the broker keeps the session (clean_session false) and queues QoS 1 messages
    node = NodeClient(mosquitto, "osk-03")
    try:
        fake = FakeNode("osk-03", KEY)
        for line in fake.produce(10):
            node.publish(line)
        assert city.store.stats()["records"] == 0
        sub = start(collector, mosquitto, client_id="tynys-test")
        assert node.wait(lambda: node.acks == set(range(10)))
        assert city.store.stats()["records"] == 10
    finally:
        node.close()
        sub.stop()
