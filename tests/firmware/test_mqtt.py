"""The MQTT 3.1.1 client (node/mqtt.py) and the MQTT uplink (node/uplink/mqtt.py) against a fake
socket on the unix port: the exact bytes on the wire (OASIS MQTT 3.1.1, section 3)."""

import json

import pytest

from tynys.transport import reply

pytestmark = pytest.mark.firmware

FAKE = """
import json, socket
class Sock:
    # What the broker will say (rx), and every byte the client wrote (tx).
    def __init__(self, rx=b""):
        self.rx = bytearray(rx); self.tx = bytearray(); self.blocking = True
    def settimeout(self, t): self.blocking = True
    def setblocking(self, b): self.blocking = b
    def connect(self, a): pass
    def close(self): pass
    def write(self, b, n=None):
        self.tx += bytes(b) if n is None else bytes(b)[:n]
        return len(b)
    def readinto(self, buf, n=None):
        n = len(buf) if n is None else n
        if not self.rx:
            return None if not self.blocking else 0
        k = min(n, len(self.rx))
        buf[:k] = self.rx[:k]; self.rx = self.rx[k:]
        return k
socket.getaddrinfo = lambda h, p: [(0, 0, 0, "", b"addr")]
sock = Sock()
socket.socket = lambda *a: sock
from node.mqtt import MQTTClient
"""


def wire(mpy, body):
    out = mpy("exec(" + repr(FAKE + body) + ")", heap="256K")
    return [bytes.fromhex(x) if len(x) >= 4 and len(x) % 2 == 0 and all(c in "0123456789abcdef" for c in x) else x
            for x in out.stdout.decode().split()]


def test_connect_subscribe_publish_and_ack_bytes(mpy):
    got = wire(mpy, """
sock.rx = bytearray(b"\\x20\\x02\\x01\\x00")                 # CONNACK, session present
c = MQTTClient(b"tynys-osk-01", "broker", user=b"osk", password=b"pw", keepalive=60, clean=False)
print(c.connect())
print(sock.tx.hex()); sock.tx = bytearray()
print(c.subscribe(b"tynys/osk-01/ack", 1), sock.tx.hex()); sock.tx = bytearray()
pid = c.publish(b"tynys/osk-01/records", b'{"v":1}', qos=1)
print(pid, sock.tx.hex(), c.acked(pid)); sock.tx = bytearray()
sock.rx = bytearray(b"\\x40\\x02\\x00\\x02")                 # PUBACK for packet 2
print(c.check_msg() == 0x40, c.acked(pid), c.check_msg())
got = []
c.set_callback(lambda t, m: got.append((t, m)))
body = b"\\x00\\x10tynys/osk-01/ack\\x00\\x07" + b'{"ack":[1]}'  # QoS 1 PUBLISH, packet 7
sock.rx = bytearray(bytes([0x32, len(body)]) + body)
print(c.check_msg() == 0x30, got[0][0].decode(), got[0][1].decode(), sock.tx.hex()); sock.tx = bytearray()
c.ping(); c.disconnect()
print(sock.tx.hex())
""")
    assert got[0] == "True"
    connect = (b"\x10\x21" b"\x00\x04MQTT" b"\x04" b"\xc0" b"\x00\x3c"  # 33 bytes: v3.1.1, user, password, clean 0, 60 s
               b"\x00\x0ctynys-osk-01" b"\x00\x03osk" b"\x00\x02pw")
    assert got[1] == connect
    assert got[2] == "1" and got[3] == b"\x82\x15\x00\x01\x00\x10tynys/osk-01/ack\x01"  # SUBSCRIBE QoS 1
    assert got[4] == "2" and got[5] == b"\x32\x1f\x00\x14tynys/osk-01/records\x00\x02" + b'{"v":1}'
    assert got[6] == "False"  # in flight until the broker's PUBACK
    assert got[7:10] == ["True", "True", "0"]  # PUBACK taken; then nothing waits
    assert got[10:13] == ["True", "tynys/osk-01/ack", '{"ack":[1]}'] and got[13] == b"\x40\x02\x00\x07"
    assert got[14] == b"\xc0\x00\xe0\x00"  # PINGREQ, DISCONNECT


def test_remaining_length_uses_several_bytes_beyond_127(mpy):
    got = wire(mpy, """
c = MQTTClient(b"x", "broker"); c.sock = sock
c.publish(b"t", b"a" * 200)
print(sock.tx[:4].hex())
""")
    assert got[0] == b"\x30\xcb\x01\x00"  # 2 + 1 + 200 = 203 = 0xcb 0x01


def test_a_refused_connection_names_the_reason(mpy):
    out = mpy("exec(" + repr(FAKE + """
sock.rx = bytearray(b"\\x20\\x02\\x00\\x05")
try:
    MQTTClient(b"x", "broker").connect()
except Exception as e:
    print(type(e).__name__, e)
""") + ")", heap="256K")
    assert out.stdout.decode().strip() == "MQTTError broker refused the connection: not authorised"


UPLINK = FAKE + """
import os, powercut, time
dev = powercut.RamFlash(64); os.VfsLfs2.mkfs(dev); os.mount(os.VfsLfs2(dev), "/f"); os.chdir("/f")
from node.spool import Spool
from node.uplink.mqtt import MQTT
from node import Signer
import node.app
class Node:
    id = "osk-01"
    signer = Signer(bytes(range(32)))
    replies = [0, -1]
    def net_up(self): return True
    def feed(self): pass
    def host_time(self, t): print("time", t)
    reply = node.app.Node.reply
n = Node(); n.spool = sp = Spool("spool")
for i in range(3):
    sp.append(i, lambda f: f.write(b'{"v":1,"node":"osk-01","boot":0,"seq":%d}' % i))
cfg = {"host": "broker", "port": 1883, "user": None, "password": None, "keepalive_s": 60,
       "timeout_s": 10, "retry_s": 30, "retry_max_s": 900, "prefix": "tynys"}
up = MQTT(n, cfg)
sock.rx = bytearray(b"\\x20\\x02\\x00\\x00")
up.service(time.ticks_ms())
print(sp.count)
# the broker PUBACKs all three: nothing leaves the spool
sock.rx = bytearray(b"\\x40\\x02\\x00\\x02\\x40\\x02\\x00\\x03\\x40\\x02\\x00\\x04")
up.service(time.ticks_ms()); print(sp.count)
topic = b"tynys/osk-01/ack"
def deliver(msg):  # a QoS 1 PUBLISH on the ack topic
    body = bytes([0, len(topic)]) + topic + b"\\x00\\x09" + msg
    sock.tx = bytearray()
    n = len(body)
    sock.rx = bytearray(bytes([0x32, (n & 0x7F) | 0x80, n >> 7] if n > 127 else [0x32, n]) + body)
    up.service(time.ticks_ms())
# someone else on the broker acknowledges everything: unsigned, nothing leaves
deliver(b'{"ack":[0,1,2],"time":4102444800}'); print(sp.count, n.replies[0])
# the host's signed reply acknowledges 0 and 1 (QoS 1): they leave, the client PUBACKs
deliver(REPLY); print(sp.count, sock.tx[:4].hex())
# 2 kB on the ack topic: read, dropped, PUBACKed (or the broker sends it for ever), counted
deliver(b"{" + b"x" * 2000 + b"}"); print(sp.count, n.replies[0], sock.tx[:4].hex(), len(sock.rx))
"""


def test_the_uplink_frees_the_spool_on_the_hosts_signed_reply_only(mpy):
    signed = reply.build("osk-01", bytes(range(32)), [0, 1], now=1795813300)
    out = mpy("REPLY = " + repr(signed) + "\nexec(" + repr(UPLINK) + ")", heap="2M").stdout.decode().split()
    assert out[0] == "3"  # published, waiting
    assert out[1] == "3"  # PUBACKs from the broker free nothing
    assert out[2:4] == ["3", "1"]  # a forged ack frees nothing and is counted
    assert out[4:6] == ["1", "40020009"]  # 0 and 1 leave; the time answers seq 1, not the newest (2): not taken
    assert out[6:] == ["1", "2", "40020009", "0"]
