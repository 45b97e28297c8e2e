# `socket` for the virtual node: the unix port's real sockets, costing virtual time as an ESP32's
# do and failing as the network plan says (network.py).
#
# As on an ESP32 (ports/esp32/modsocket.c), every blocking call waits up to the socket's timeout
# on its own, and getaddrinfo has no timeout at all. What each call costs:
#   getaddrinfo        network.dns(): a lookup with no timeout, 20 ms, or a "dns" outage
#   connect            a round trip (30 ms); "host" outage: refused, or ("mode": "timeout") no
#                      answer for the socket's timeout, then ETIMEDOUT
#   write              its bytes at 1 Mbit/s
#   read               a round trip for the first read after a write (the answer's way back)
# and the "host" outage modes of a host that is there but does not do its part:
#   "stall"            connects and takes the request into lwIP's send buffer (5744 bytes), then
#                      every write and read waits the socket's timeout: ETIMEDOUT
#   "slow"             the connect and every read wait "delay_s" first, and a read gets at most
#                      "bytes" bytes (default 1): a host that trickles its answer
import usocket as _s
import time as _time
import network
from micropython import const

AF_INET = _s.AF_INET
SOCK_STREAM = _s.SOCK_STREAM
SOCK_DGRAM = _s.SOCK_DGRAM
SOL_SOCKET = _s.SOL_SOCKET
SO_REUSEADDR = _s.SO_REUSEADDR
_EAGAIN = const(11)
_ECONNRESET = const(104)
_ETIMEDOUT = const(110)
_ECONNREFUSED = const(111)
_EHOSTUNREACH = const(113)
_SNDBUF = const(5744)  # lwIP's TCP send buffer on an ESP32 (4 segments of 1436 bytes)
_RTT_MS = const(30)  # a round trip on a home WiFi
_KBPS = const(1000)


def _wifi_up():
    return network.WLAN(network.STA_IF).isconnected()


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
        # (attribute names the firmware's heap has interned already: each new one costs a board
        # nothing, but the virtual node's heap its share of MicroPython's string pool)
        self.state = None  # the outage this connection met ("stall", "slow")
        self.count = 0  # bytes written since the last read (a round trip to wait for)

    def _cut(self):
        # An outage also breaks a connection that is open (MQTT keeps one for hours).
        if self._open and (not _wifi_up() or network.down("host", self._peer) not in (None, self.state)):
            raise OSError(_ECONNRESET)

    def _wait(self, mode):
        # As the outage says: a call the host does not answer takes the socket's whole timeout
        # ("stall"); a trickling host's, its delay ("slow"). Returns the outage's mode.
        f = self.state
        m = f.get("mode") if f is not None else None
        if m == "slow":
            _time.sleep(f.get("delay_s", 1))
        if m == mode == "stall":
            _time.sleep(self._timeout if self._timeout else 30)
            raise OSError(_ETIMEDOUT)
        return m

    def write(self, buf, *a):
        self._cut()
        if self.state is not None and self.state.get("mode") == "stall":
            self.count += len(buf)
            if self.count > _SNDBUF:
                self._wait("stall")
            return len(buf)
        _time.sleep_ms(len(buf) * 8 // _KBPS)
        self.count += len(buf)
        return super().write(buf, *a)

    def readinto(self, buf, *a):
        self._cut()
        if self._timeout == 0:  # non-blocking: costs nothing
            if self.state is not None and self.state.get("mode") == "stall":
                raise OSError(_EAGAIN)
        elif self._wait("stall") == "slow":
            n = self.state.get("bytes", 1)
            buf = memoryview(buf)[:n] if len(buf) > n else buf
        if self._timeout != 0 and self.count:
            _time.sleep_ms(_RTT_MS)
            self.count = 0
        try:
            return super().readinto(buf, *a)
        except OSError as e:
            if self._timeout != 0 and e.errno == _EAGAIN:  # the unix port's timeout
                raise OSError(_ETIMEDOUT)
            raise

    # The firmware reads with readinto and writes with write: the stream calls below would go
    # past the faults and costs above, so they are not there (an ESP32's readline, for one,
    # waits the full timeout for each byte).
    read = readline = recv = send = sendall = None

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
                self.state = {"mode": "stall"}
                self._wait("stall")
            if mode not in ("stall", "slow"):
                raise OSError(_ECONNREFUSED)
            self.state = o
            self._wait(None)
        _time.sleep_ms(_RTT_MS)
        if o is None or o.get("mode") == "slow":
            super().connect(addr)
        self._open = True
