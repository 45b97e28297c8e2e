"""Records over MQTT 3.1.1: subscribe to ``tynys/+/records`` (QoS 1, persistent session), publish
the signed reply (:mod:`tynys.transport.reply`: ``ack``, ``time``, ``rejected``) to ``tynys/<node>/ack``
after each commit. Nothing is published when nothing may be acknowledged.

The broker's PUBACK to this subscriber is also held until the commit (paho's ``manual_ack``): if
the host dies before storing a message, the broker delivers it again when the host reconnects with
the same client id. The node frees its spool only on the host's ack message, never on the broker's
PUBACK (docs/record.md).

    sub = MqttIngest(collector, "127.0.0.1", 1883).start(); ...; sub.stop()
"""

from __future__ import annotations

import logging
import threading
from typing import Callable

import paho.mqtt.client as mqtt

from ..ingest import Collector, CollectorBusy, Outcome
from . import reply

log = logging.getLogger("tynys.mqtt")


class MqttIngest:
    def __init__(self, collector: Collector, host: str = "127.0.0.1", port: int = 1883, *,
                 client_id: str = "tynys-ingest", prefix: str = "tynys", username: str | None = None,
                 password: str | None = None, tls: bool = False, cafile: str | None = None, keepalive: int = 30,
                 on_outcomes: Callable[[str, list[Outcome]], None] | None = None):
        self.on_outcomes = on_outcomes
        self.collector, self.host, self.port, self.prefix = collector, host, port, prefix
        self.topic = f"{prefix}/+/records"
        self.counts = {"messages": 0, "acks_published": 0, "busy": 0, "connects": 0, "disconnects": 0}
        self.connected = threading.Event()
        self._pending = 0
        self._cond = threading.Condition()
        self._stopping = False
        c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=False,
                        protocol=mqtt.MQTTv311, manual_ack=True)
        if username is not None:
            c.username_pw_set(username, password)
        if tls or cafile:
            c.tls_set(ca_certs=cafile)
        c.reconnect_delay_set(1, 30)
        c.on_connect, c.on_disconnect, c.on_message = self._on_connect, self._on_disconnect, self._on_message
        self.client = c
        self.keepalive = keepalive

    def start(self) -> "MqttIngest":
        self.client.connect_async(self.host, self.port, self.keepalive)
        self.client.loop_start()
        return self

    def stop(self, timeout: float = 10) -> None:
        """Stop taking messages, finish (store and acknowledge) those in hand, disconnect."""
        self._stopping = True
        with self._cond:
            self._cond.wait_for(lambda: self._pending == 0, timeout)
        self.client.disconnect()
        self.client.loop_stop()

    def _on_connect(self, client, userdata, flags, reason_code, properties):
        if reason_code.is_failure:
            log.error("broker %s:%d refused the connection: %s (check --username/--password)", self.host, self.port, reason_code)
            return
        self.counts["connects"] += 1
        client.subscribe(self.topic, qos=1)
        log.info("connected to %s:%d, subscribed to %s (session %s)", self.host, self.port, self.topic,
                 "resumed" if flags.session_present else "new")
        self.connected.set()

    def _on_disconnect(self, client, userdata, flags, reason_code, properties):
        self.connected.clear()
        if not self._stopping:
            self.counts["disconnects"] += 1
            log.warning("disconnected from %s:%d (%s); reconnecting", self.host, self.port, reason_code)

    def _on_message(self, client, userdata, msg):
        if self._stopping:
            return  # no PUBACK: the broker delivers it again next session
        parts = msg.topic.split("/")
        node = parts[1] if len(parts) == 3 and parts[2] == "records" else None
        self.counts["messages"] += 1
        with self._cond:
            self._pending += 1
        try:
            self.collector.submit([msg.payload], "mqtt", msg.topic, node or msg.topic,
                                  on_done=lambda res: self._done(node, msg, res))
        except CollectorBusy as e:
            # PUBACK anyway, or the broker's in-flight window stalls; the node resends without our ack.
            self.counts["busy"] += 1
            log.warning("%s: %s", msg.topic, e)
            self._done(None, msg, [])

    def _done(self, node: str | None, msg, outcomes: list[Outcome]) -> None:
        try:
            ing = self.collector.ingestor
            key = ing.key(node) if node else None
            line = reply.for_outcomes(node, key, outcomes, now=int(ing.now()), rejected=True) if key else None
            if line is not None:
                self.client.publish(f"{self.prefix}/{node}/ack", line, qos=1)
                self.counts["acks_published"] += 1
            self.client.ack(msg.mid, msg.qos)
            if self.on_outcomes and outcomes:
                self.on_outcomes(msg.topic, outcomes)
        finally:
            with self._cond:
                self._pending -= 1
                self._cond.notify_all()
