# `network` for the virtual node: a WLAN station whose outages follow a plan in world time.
#
#     import network
#     network.plan(outages=[{"from": 1795813200, "to": 1795899600, "what": "host"}], rssi=-67)
#
# what = "wifi": the access point is gone (isconnected() False, DNS and connects fail);
# what = "host": WiFi is up but the host does not do its part: connects refused, or with "mode"
# "timeout" no answer to the connect, "stall" no answer to the request, "slow" (with "delay_s",
# "bytes") an answer trickling in; "host" may name one host only;
# what = "dns": the DNS servers do not answer (or, "mode": "fail", say the name does not exist);
# what = "ntp": only NTP goes unanswered;
# what = "brownout": the supply cannot carry the radio: the chip browns out as WiFi starts.
# The `socket` and `ntptime` shims ask down(), and dns() for a name.
import time
from micropython import const

STA_IF = 0
AP_IF = 1
STAT_IDLE = 1000
STAT_GOT_IP = 1010
STAT_NO_AP_FOUND = 201

_outages = ()
_rssi = -67
_ssid = None  # None: any SSID connects
_DNS_MS = const(20)  # a DNS answer on a home WiFi
_DNS_SERVERS = const(2)  # a router hands out one or two


def plan(outages=(), rssi=-67, ssid=None):
    global _outages, _rssi, _ssid
    _outages = outages
    _rssi = rssi
    _ssid = ssid


def dns(host):
    """Look `host` up as an ESP32 would, in virtual time (the resolving itself is the socket
    shim's): no timeout; a "dns" outage: lwIP's 4 tries to each DNS server, 1+1+2+3 s apart
    (lwIP dns.c: DNS_MAX_RETRIES 4, DNS_TMR_INTERVAL 1 s), then OSError(-202) as the ESP32 port
    raises; "mode": "fail": -202 at once; "slow": the answer after "delay_s"."""
    if not WLAN().isconnected():
        raise OSError(-202)
    p = host.split(".")
    if len(p) == 4 and all(x.isdigit() for x in p):
        return  # an address: nothing to look up
    o = down("dns")
    if o is not None and o.get("mode") == "slow":
        time.sleep(o.get("delay_s", 7))
    elif o is not None:
        if o.get("mode") != "fail":
            time.sleep(7 * _DNS_SERVERS)
        raise OSError(-202)
    time.sleep_ms(_DNS_MS)


def down(what, host=None):
    """The outage of kind `what` (and, for "host", this host) now in effect, or None."""
    now = time.world_us() // 1000000
    for o in _outages:
        if (o.get("what", "host") == what and o["from"] <= now < o["to"]
                and (what != "host" or o.get("host") in (None, host))):
            return o
    return None


class WLAN:
    # Every WLAN(STA_IF) is the one station, as on a board: its state lives in the class.
    _on = False
    _joined = False

    def __init__(self, interface_id=STA_IF):
        pass

    def active(self, flag=None):
        if flag is None:
            return WLAN._on
        if flag and not WLAN._on and down("brownout") is not None:
            m = __import__("machine")
            m._stop(m.PWRON_RESET, "the supply dipped as the radio started")
        WLAN._on = bool(flag)
        WLAN._joined = WLAN._joined and WLAN._on

    def connect(self, ssid=None, key=None, **kw):
        if not WLAN._on:
            raise OSError("Wifi Not Started")
        WLAN._joined = _ssid is None or ssid == _ssid

    def disconnect(self):
        WLAN._joined = False

    def isconnected(self):
        return WLAN._on and WLAN._joined and down("wifi") is None

    def status(self, param=None):
        up = self.isconnected()
        if param == "rssi":
            if not up:
                raise OSError("STA is not connected")
            return _rssi
        return STAT_GOT_IP if up else (STAT_NO_AP_FOUND if WLAN._joined else STAT_IDLE)

    def ifconfig(self):
        return ("192.168.4.2" if self.isconnected() else "0.0.0.0", "255.255.255.0",
                "192.168.4.1", "192.168.4.1")
