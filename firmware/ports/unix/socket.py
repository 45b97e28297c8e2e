# `socket` for the virtual node: the unix port's real sockets, costing virtual time as an ESP32's
# do and failing as the network plan says (network.py).
#
# As on an ESP32 (ports/esp32/modsocket.c), every blocking call waits up to the socket's timeout
# on its own, and getaddrinfo has no timeout at all. What each call costs (plan "net": {"rtt_ms": 30, "dns_ms": 20, "kbps": 1000, "dns_servers": 2}):
#   getaddrinfo        network.dns(): a lookup with no timeout, dns_ms, or a "dns" outage
#   connect            rtt_ms; "host" outage: refused, or ("mode": "timeout") no answer for the
#                      socket's timeout, then ETIMEDOUT
#   write              its bytes at kbps
#   read               rtt_ms for the first read after a write (the answer's way back)
# and the "host" outage modes of a host that is there but does not do its part:
#   "stall"            connects and takes the request into lwIP's send buffer (5744 bytes), then
#                      every write and read waits the socket's timeout: ETIMEDOUT
#   "slow"             every call waits "delay_s" first, and a read gets at most "bytes" bytes
#                      (default 1): a host that trickles its answer
import usocket as _s
import time as _time
import network

AF_INET = _s.AF_INET
SOCK_STREAM = _s.SOCK_STREAM
SOCK_DGRAM = _s.SOCK_DGRAM
SOL_SOCKET = _s.SOL_SOCKET
SO_REUSEADDR = _s.SO_REUSEADDR
_EAGAIN = 11
_ECONNRESET = 104
_ETIMEDOUT = 110
_ECONNREFUSED = 111
_EHOSTUNREACH = 113
_SNDBUF = 5744  # lwIP's TCP send buffer on an ESP32 (4 segments of 1436 bytes)


def _wifi_up():
    return network.WLAN(network.STA_IF).isconnected()


def _cost_ms(ms):
    if ms > 0:
        _time.sleep_ms(ms)


def getaddrinfo(host, port, af=0, type=0, proto=0, flags=0):
    network.dns(host)
    r = _s.getaddrinfo(host, port, af or AF_INET, type, proto, flags)  # IPv4, as an ESP32 asks
    # Remember the name, so a plan that names a host can match the address later.
    for ai in r:
        _names[bytes(ai[-1])] = host
    return r


_names = {}


class socket(_s.socket):
    def __init__(self, af=AF_INET, type=SOCK_STREAM, proto=0):
        super().__init__(af, type, proto)
        self._timeout = None
        self._peer = None
        self._open = False
        self._fault = None  # the outage this connection met ("stall", "slow")
        self._sent = 0
        self._answered = True  # no write since the last read: no round trip to wait for

    def _cut(self):
        # An outage also breaks a connection that is open (MQTT keeps one for hours).
        if self._open and (not _wifi_up() or network.down("host", self._peer) not in (None, self._fault)):
            raise OSError(_ECONNRESET)

    def _wait(self):
        # A call the host does not answer: the socket's whole timeout, as on an ESP32.
        _time.sleep(self._timeout if self._timeout else 30)
        raise OSError(_ETIMEDOUT)

    def _slow(self):
        if self._fault is not None and self._fault.get("mode") == "slow":
            _time.sleep(self._fault.get("delay_s", 1))

    def write(self, buf, *a):
        self._cut()
        f = self._fault
        if f is not None and f.get("mode") == "stall":
            if self._sent + len(buf) > _SNDBUF:
                self._wait()
            self._sent += len(buf)
            return len(buf)
        self._slow()
        _cost_ms(len(buf) * 8 // network.net("kbps"))
        self._answered = False
        return super().write(buf, *a)

    def readinto(self, buf, *a):
        self._cut()
        f = self._fault
        if f is not None and f.get("mode") == "stall":
            if self._timeout == 0:
                raise OSError(_EAGAIN)
            self._wait()
        blocking = self._timeout != 0
        if blocking:
            self._slow()
            if not self._answered:
                _cost_ms(network.net("rtt_ms"))
                self._answered = True
        if f is not None and f.get("mode") == "slow":
            n = f.get("bytes", 1)
            buf = memoryview(buf)[:n] if len(buf) > n else buf
        try:
            return super().readinto(buf, *a)
        except OSError as e:
            if blocking and e.errno == _EAGAIN:  # the unix port's timeout
                raise OSError(_ETIMEDOUT)
            raise

    # The rest of the stream calls go through readinto/write, so they cost and fail alike;
    # readline reads a byte at a time, each read with its own timeout, as an ESP32's does.
    def read(self, n=-1):
        out = b""
        b = bytearray(n if 0 < n < 1024 else 1024)
        while n < 0 or len(out) < n:
            k = self.readinto(b if n < 0 else memoryview(b)[:min(len(b), n - len(out))])
            if not k:
                break
            out += b[:k]
        return out

    def readline(self):
        out = b""
        b = bytearray(1)
        while not out.endswith(b"\n") and self.readinto(b):
            out += b
        return out

    def settimeout(self, t):
        self._timeout = t
        super().settimeout(t)

    def setblocking(self, flag):
        self._timeout = None if flag else 0
        super().setblocking(flag)

    def connect(self, addr):
        if not _wifi_up():
            raise OSError(_EHOSTUNREACH)
        self._peer = _names.get(bytes(addr))
        o = network.down("host", self._peer)
        if o is not None:
            mode = o.get("mode")
            if mode == "timeout":
                self._wait()
            if mode == "stall":  # it answers the handshake and nothing more
                _cost_ms(network.net("rtt_ms"))
                self._fault = o
                self._open = True
                return
            if mode != "slow":
                raise OSError(_ECONNREFUSED)
            self._fault = o
            self._slow()
        _cost_ms(network.net("rtt_ms"))
        super().connect(addr)
        self._open = True
