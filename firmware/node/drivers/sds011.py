# Nova Fitness SDS011 particle sensor (UART 9600 8N1).
#
#     from node.drivers.sds011 import SDS011
#     pm = SDS011(2, tx=26, rx=25, mode="query")   # query mode: start() asks for each reading
#     time.sleep_ms(pm.start()); pm.poll()
#     print(pm.values[0] / 10, pm.values[1] / 10)  # PM2.5, PM10 in ug/m3
#
# Data frame (10 bytes): AA C0 PM25_L PM25_H PM10_L PM10_H ID1 ID2 CS AB, PM = LE uint16 / 10,
# CS = sum of bytes 2..7 & 0xFF. The checksum adds BYTES: public drivers that add 16-bit words
# reject every frame above 25.6 ug/m3. Replies to commands (AA C5 ...) are counted in `replies`.
# A frame with both PM values 0 is the sensor starting up (PyPMS, ESPHome): counted in `warming`.
# Command (19 bytes): AA B4 CMD D1 D2 00*10 FF FF CS AB, CS = sum of bytes 2..16 & 0xFF.
# Sources: airRohr utils.cpp SDS_rawcmd; PyPMS docs/sensors/NovaFitness.md; firmware-anchors 4.2.
from micropython import const

from .base import FrameSensor

_DATA = const(0xC0)
_REPLY = const(0xC5)

# (CMD, D1, D2) of each command; D1 = 1 writes a setting.
ACTIVE = b"\x02\x01\x00"
QUERY = b"\x02\x01\x01"
READ = b"\x04\x00\x00"
SLEEP = b"\x06\x01\x00"
WORK = b"\x06\x01\x01"
FIRMWARE = b"\x07\x00\x00"
PERIOD = b"\x08\x01\x00"  # D2 = working period in minutes (0 = continuous, 1..30)


class SDS011(FrameSensor):
    TYPE = "sds011"
    MODELS = ("sds011",)
    CHANNELS = ("pm25", "pm10")
    SCALE = (10, 10)
    WARMUP_MS = 30000
    FRAME = 10

    def __init__(self, bus, model=None, *, mode="active", period=None, tx=None, rx=None,
                 warmup_ms=None):
        from . import bus as _bus  # only while constructing: a node unloads it after boot
        model = _bus.choose(self.TYPE, "model", model or "sds011", self.MODELS)
        self.mode = _bus.choose(self.TYPE, "mode", mode, ("active", "query"))
        if period is not None and not 0 <= period <= 30:
            raise ValueError("sds011: working period %r min is out of range; use 0 (continuous) "
                             "to 30" % (period,))
        self.period = period
        FrameSensor.__init__(self, bus, model, tx, rx, warmup_ms)
        self._cmd = bytearray(b"\xaa\xb4" + bytes(13) + b"\xff\xff\x00\xab")  # 19 bytes
        self._id = -1
        self.configure()

    def command(self, cmd, d2=None):
        """Send a command from the table above (to all sensors on the line, ID FF FF)."""
        c = self._cmd
        c[2] = cmd[0]
        c[3] = cmd[1]
        c[4] = cmd[2] if d2 is None else d2
        s = 0
        for i in range(2, 17):
            s += c[i]
        c[17] = s & 0xFF
        self._send(c)

    def configure(self):
        """Set report mode and working period (the sensor keeps them in its own flash)."""
        self.command(QUERY if self.mode == "query" else ACTIVE)
        if self.period is not None:
            self.command(PERIOD, self.period)

    def start(self):
        self._request()
        if self.mode == "query":
            self.command(READ)
            return 100
        return 0

    def sleep(self):
        self.command(SLEEP)

    def wake(self):
        self.command(WORK)
        self.woke()

    def _need(self, f, k):
        if f[0] != 0xAA:
            return -1
        if k < 2:
            return 0
        if f[1] != _DATA and f[1] != _REPLY:
            return -1
        return 10 if k >= 10 else 0

    def _accept(self, f, n):
        s = (f[2] + f[3] + f[4] + f[5] + f[6] + f[7]) & 0xFF
        if f[9] != 0xAB or s != f[8]:
            if f[9] == 0xAB and self.on_checksum is not None:
                self.on_checksum(s, f[8])
            return -1
        if f[1] == _REPLY:
            self.replies += 1
            return 0
        i = f[6] << 8 | f[7]
        if i != self._id:
            self._id = i
            self.ident = "id=%04X" % i
        pm25 = f[2] | f[3] << 8
        pm10 = f[4] | f[5] << 8
        if pm25 == 0 and pm10 == 0:
            self.warming += 1
            return 0
        if self._warming():
            return 0
        self.values[0] = pm25
        self.values[1] = pm10
        return 1 if self._take() else 0
