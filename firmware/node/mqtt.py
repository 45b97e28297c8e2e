# A small MQTT 3.1.1 client (QoS 0 and 1) for the ESP32 and the unix port. Reconnection,
# resending and acknowledgements are the uplink's business (node/uplink/mqtt.py), not this core's.
#
#     c = MQTTClient("tynys-osk-01", "broker.local", keepalive=60, clean=False)
#     c.set_callback(lambda topic, msg: ...)   # msg None: longer than 512 bytes, read and dropped
#     c.connect()                         # -> True when the broker kept our session
#     c.deadline = time.ticks_add(...)    # blocking reads give up after it (connect sets its own)
#     c.subscribe(b"tynys/osk-01/ack", 1)
#     pid = c.publish(b"tynys/osk-01/records", line, qos=1)
#     c.check_msg()                       # handle one waiting packet; never blocks when none waits
#     c.acked(pid)                        # the broker's PUBACK for pid has come
# Packet layouts: OASIS MQTT 3.1.1 (2014), section 3.
import socket
import struct
import time
from micropython import const

_CONNECT = const(0x10)
_CONNACK = const(0x20)
_PUBLISH = const(0x30)
_PUBACK = const(0x40)
_SUBSCRIBE = const(0x82)
_SUBACK = const(0x90)
_PINGREQ = const(0xC0)
_PINGRESP = const(0xD0)
_DISCONNECT = const(0xE0)
_INFLIGHT = const(16)  # QoS 1 publishes remembered until their PUBACK
_REFUSED = ("", "unacceptable protocol version", "client id rejected", "server unavailable",
            "bad user name or password", "not authorised")


class MQTTError(Exception):
    """The broker refused or broke the protocol: reconnect later."""


class MQTTClient:
    def __init__(self, client_id, server, port=1883, user=None, password=None, keepalive=60,
                 clean=True, timeout=10):
        self.client_id = client_id
        self.server = server
        self.port = port
        self.user = user
        self.password = password
        self.keepalive = keepalive
        self.clean = clean
        self.timeout = timeout
        self.sock = None
        self.deadline = None  # ticks_ms after which a blocking read gives up (None: never)
        self.cb = None
        self.pid = 0
        self._hdr = bytearray(5)  # fixed header: type byte + up to 4 length bytes
        self._h1 = memoryview(self._hdr)[:1]
        self._var = bytearray(2)
        self._rx = bytearray(512)  # incoming PUBLISH topic + payload (a longer one comes as None)
        self._inflight = [0] * _INFLIGHT  # pids awaiting PUBACK (0: free)

    def set_callback(self, f):
        self.cb = f

    # -- wire helpers
    def _len(self, n):
        i = 1
        while True:
            b = n & 0x7F
            n >>= 7
            self._hdr[i] = b | (0x80 if n else 0)
            i += 1
            if not n:
                return i

    def _send_hdr(self, typ, n):
        self._hdr[0] = typ
        self.sock.write(memoryview(self._hdr)[:self._len(n)])

    def _send_str(self, s):
        struct.pack_into("!H", self._var, 0, len(s))
        self.sock.write(self._var)
        self.sock.write(s)

    def _read_exact(self, buf, n):
        mv = memoryview(buf)
        got = 0
        while got < n:
            k = self.sock.readinto(mv[got:n])
            if not k:
                raise OSError(104)  # ECONNRESET: the broker closed the connection
            got += k
            # each read waits up to the timeout anew on an ESP32: a broker trickling bytes must
            # not hold the node past the caller's deadline
            if got < n and self.deadline is not None and time.ticks_diff(time.ticks_ms(), self.deadline) > 0:
                raise OSError(110)  # ETIMEDOUT
        return n

    def _read_len(self):
        n = 0
        shift = 0
        while True:
            self._read_exact(self._var, 1)
            b = self._var[0]
            n |= (b & 0x7F) << shift
            if not b & 0x80:
                return n
            shift += 7
            if shift > 21:
                raise MQTTError("malformed remaining length")

    # -- session
    def connect(self, feed=None):
        """Connect and log in; feed() runs after the name lookup (on an ESP32 it has no timeout),
        and the rest gives up `timeout` after it began."""
        ai = socket.getaddrinfo(self.server, self.port)[0][-1]
        if feed is not None:
            feed()
        self.deadline = time.ticks_add(time.ticks_ms(), self.timeout * 1000)
        self.sock = socket.socket()
        self.sock.settimeout(self.timeout)
        try:
            self.sock.connect(ai)
        except OSError:
            self.sock.close()
            self.sock = None
            raise
        flags = 0x02 if self.clean else 0
        n = 10 + 2 + len(self.client_id)
        if self.user is not None:
            flags |= 0x80
            n += 2 + len(self.user)
        if self.password is not None:
            flags |= 0x40
            n += 2 + len(self.password)
        self._send_hdr(_CONNECT, n)
        self._send_str(b"MQTT")
        v = bytearray(4)
        v[0] = 4  # protocol level 3.1.1
        v[1] = flags
        struct.pack_into("!H", v, 2, self.keepalive)
        self.sock.write(v)
        self._send_str(self.client_id)
        if self.user is not None:
            self._send_str(self.user)
        if self.password is not None:
            self._send_str(self.password)
        r = bytearray(4)
        self._read_exact(r, 4)
        if r[0] != _CONNACK or r[1] != 2:
            raise MQTTError("expected CONNACK, got %02x %02x" % (r[0], r[1]))
        if r[3]:
            why = _REFUSED[r[3]] if r[3] < len(_REFUSED) else "code %d" % r[3]
            raise MQTTError("broker refused the connection: " + why)
        for i in range(_INFLIGHT):
            self._inflight[i] = 0
        self.deadline = None  # the caller sets one for what it does next
        return bool(r[2] & 1)

    def disconnect(self):
        if self.sock is None:
            return
        try:
            self.sock.write(b"\xe0\x00")
        except OSError:
            pass
        self.close()

    def close(self):
        if self.sock is not None:
            self.sock.close()
            self.sock = None

    def ping(self):
        self.sock.write(b"\xc0\x00")

    def _next_pid(self):
        self.pid = self.pid % 65535 + 1
        return self.pid

    def publish(self, topic, msg, qos=0, retain=False, dup=False):
        """Send one PUBLISH; returns its packet id (0 for QoS 0). Raises MQTTError when the
        in-flight window is full: let check_msg() take the PUBACKs first."""
        pid = self.publish_header(topic, len(msg), qos, retain, dup)
        self.sock.write(msg)
        return pid

    def publish_header(self, topic, n, qos=0, retain=False, dup=False):
        """Start a PUBLISH of an n-byte payload the caller then writes to self.sock."""
        pid = 0
        if qos:
            for i in range(_INFLIGHT):
                if not self._inflight[i]:
                    break
            else:
                raise MQTTError("too many QoS 1 messages in flight")
            pid = self._next_pid()
            self._inflight[i] = pid
        self._send_hdr(_PUBLISH | (8 if dup else 0) | (qos << 1) | (1 if retain else 0),
                       2 + len(topic) + n + (2 if qos else 0))
        self._send_str(topic)
        if qos:
            struct.pack_into("!H", self._var, 0, pid)
            self.sock.write(self._var)
        return pid

    def subscribe(self, topic, qos=1):
        pid = self._next_pid()
        self._send_hdr(_SUBSCRIBE, 2 + 2 + len(topic) + 1)
        struct.pack_into("!H", self._var, 0, pid)
        self.sock.write(self._var)
        self._send_str(topic)
        self._var[0] = qos
        self.sock.write(memoryview(self._var)[:1])
        return pid

    def acked(self, pid):
        """True when no PUBACK is outstanding for pid."""
        for p in self._inflight:
            if p == pid:
                return False
        return True

    def inflight(self):
        return sum(1 for p in self._inflight if p)

    def check_msg(self):
        """Handle one incoming packet if one is waiting; returns its type (0 when none)."""
        self.sock.setblocking(False)
        try:
            k = self.sock.readinto(self._h1)
        except OSError as e:
            if e.errno == 11:  # EAGAIN: nothing waiting
                return 0
            raise
        finally:
            self.sock.settimeout(self.timeout)
        if k is None:
            return 0
        if k == 0:
            raise OSError(104)
        typ = self._hdr[0]
        n = self._read_len()
        if typ == _PUBACK and n == 2:
            self._read_exact(self._var, 2)
            pid = self._var[0] << 8 | self._var[1]
            for i in range(_INFLIGHT):
                if self._inflight[i] == pid:
                    self._inflight[i] = 0
            return _PUBACK
        if typ & 0xF0 == _PUBLISH:
            b = self._rx
            k = n if n < len(b) else len(b)
            self._read_exact(b, k)
            tl = b[0] << 8 | b[1]
            i = 2 + tl + (2 if typ & 6 else 0)
            if i > k:
                raise MQTTError("malformed PUBLISH")
            topic = bytes(b[2:2 + tl])
            pid = b[i - 2] << 8 | b[i - 1]
            msg = bytes(b[i:n]) if n == k else None  # None: longer than any message we take
            left = n - k
            while left:  # read what does not fit and drop it: the broker must not send it again
                k = left if left < len(b) else len(b)
                self._read_exact(b, k)
                left -= k
            if typ & 6:
                self._hdr[0] = _PUBACK
                self._hdr[1] = 2
                self._hdr[2] = pid >> 8
                self._hdr[3] = pid & 0xFF
                self.sock.write(memoryview(self._hdr)[:4])
            if self.cb:
                self.cb(topic, msg)
            return _PUBLISH
        # SUBACK, PINGRESP, anything else: read and drop the body
        while n:
            k = n if n < len(self._rx) else len(self._rx)
            self._read_exact(self._rx, k)
            n -= k
        return typ & 0xF0
