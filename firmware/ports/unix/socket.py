# `socket` for the virtual node: the unix port's real sockets, failing as the network plan says
# (see network.py). A refused or timed-out connect looks to the firmware as it does on a board.
import usocket as _s
import time as _time
import network

AF_INET = _s.AF_INET
SOCK_STREAM = _s.SOCK_STREAM
SOCK_DGRAM = _s.SOCK_DGRAM
SOL_SOCKET = _s.SOL_SOCKET
SO_REUSEADDR = _s.SO_REUSEADDR
_EHOSTUNREACH = 113
_ECONNREFUSED = 111
_ETIMEDOUT = 110


def _wifi_up():
    return network.WLAN(network.STA_IF).isconnected()


def getaddrinfo(host, port, af=0, type=0, proto=0, flags=0):
    if not _wifi_up():
        raise OSError(-202)  # what the ESP32 port raises when DNS cannot be reached
    r = _s.getaddrinfo(host, port, af, type, proto, flags)
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

    def _cut(self):
        # An outage also breaks a connection that is open (MQTT keeps one for hours).
        if self._open and (not _wifi_up() or network.down("host", self._peer)):
            raise OSError(104)  # ECONNRESET

    def write(self, buf, *a):
        self._cut()
        return super().write(buf, *a)

    def readinto(self, buf, *a):
        self._cut()
        return super().readinto(buf, *a)

    def settimeout(self, t):
        self._timeout = t
        super().settimeout(t)

    def connect(self, addr):
        if not _wifi_up():
            raise OSError(_EHOSTUNREACH)
        self._peer = _names.get(bytes(addr))
        o = network.down("host", self._peer)
        if o is not None:
            if o.get("mode") == "timeout":
                _time.sleep(self._timeout if self._timeout is not None else 30)
                raise OSError(_ETIMEDOUT)
            raise OSError(_ECONNREFUSED)
        super().connect(addr)
        self._open = True
