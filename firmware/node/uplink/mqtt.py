# MQTT uplink: records published QoS 1 to <prefix>/<node>/records; the host's signed replies
# come on <prefix>/<node>/ack (node.reply, docs/record.md). The broker's PUBACK alone frees
# nothing, and neither does a message on the ack topic that does not verify (anyone allowed to
# publish there could send one). A persistent session (clean=0) keeps the replies the host sent
# while the node was away.
import time
from node import log
from node.mqtt import MQTTClient, MQTTError
from node.uplink import Backoff

_WINDOW = 4  # records published and not yet PUBACKed


class MQTT:
    name = "mqtt"

    def __init__(self, node, cfg):
        self.node = node
        self.sp = node.spool
        nid = node.id
        self.topic = ("%s/%s/records" % (cfg["prefix"], nid)).encode()
        self.ack_topic = ("%s/%s/ack" % (cfg["prefix"], nid)).encode()
        enc = lambda s: None if s is None else s.encode()
        self.client = MQTTClient(("tynys-" + nid).encode(), cfg["host"], cfg["port"],
                                 enc(cfg["user"]), enc(cfg["password"]), cfg["keepalive_s"],
                                 clean=False, timeout=cfg["timeout_s"])
        self.client.set_callback(self._on_msg)
        self.keepalive = cfg["keepalive_s"] * 1000
        self.bo = Backoff(cfg["retry_s"], cfg["retry_max_s"])  # reconnects
        self.resend = Backoff(cfg["retry_s"], 3600)  # republishing what the host has not acked
        self.oldest = -1
        self.acked = 0
        self.c = self.sp.cursor()
        self.up = False
        self.failing = None
        self._sent = time.ticks_ms()
        self._pinged = False  # a PINGREQ waits for its PINGRESP: no second one meanwhile

    def _on_msg(self, topic, msg):
        if topic == self.ack_topic:
            self.node.reply(msg or b"")  # None: too long to be a reply

    def service(self, now):
        if not self.up:
            if not self.bo.due(now) or not self.node.net_up():
                return
            try:
                self.client.connect(self.node.feed)
                self.client.subscribe(self.ack_topic, 1)
            except (OSError, MQTTError) as e:
                self.client.close()
                return self._fail(now, "broker unreachable (%s)" % e)
            self.up = True
            self._pinged = False
            self.sp.rewind(self.c)  # whatever the host has not acknowledged goes again
            self.resend.ok(now, self.resend.first)
            self._sent = now
            if self.failing:
                log("mqtt: connected again")
                self.failing = None
        try:
            # Each phase below may block (a broker that trickles or stalls): each gets its timeout,
            # the watchdog fed before it.
            self.node.feed()
            self.client.deadline = time.ticks_add(time.ticks_ms(), self.client.timeout * 1000)
            for _ in range(64):  # all that waits: PUBACKs, the host's acks, PINGRESP
                t = self.client.check_msg()
                if not t:
                    break
                if t == 0xD0:
                    self._pinged = False
            sp = self.sp
            self.node.feed()
            while self.client.inflight() < _WINDOW:
                n = sp.read(self.c)
                if not n:
                    break
                self.client.publish_header(self.topic, n, qos=1)
                sp.copy(self.c, n, self.client.sock)
                self.c[1] += n + 1
                self._sent = now
            if sp.count:  # the oldest record waited retry_s (doubling) for the host: again
                if sp.oldest != self.oldest or sp.acked != self.acked:  # progress (as in uplink.serial)
                    self.oldest = sp.oldest
                    self.acked = sp.acked
                    self.resend.ok(now, self.resend.first)
                elif self.resend.due(now):
                    sp.rewind(self.c)
                    self.resend.fail(now)
            if not self._pinged and time.ticks_diff(now, self._sent) > self.keepalive // 2:
                self.client.ping()  # keep the broker's keepalive happy on a quiet link
                self._pinged = True
                self._sent = now
        except (OSError, MQTTError) as e:
            self.client.close()
            self.up = False
            self._fail(now, "connection lost (%s)" % e)

    def _fail(self, now, why):
        if why != self.failing:
            log("mqtt: %s; records stay spooled, retrying" % why)
            self.failing = why
        self.bo.fail(now)
