# Plantower PMS5003 / PMS7003 / PMSA003 and PMS5003T particle sensors (UART 9600 8N1).
#
#     from node.drivers.pms import PMS5003
#     pm = PMS5003(1, tx=17, rx=16)             # UART1; the sensor's TX goes to rx=16
#     while not pm.poll(): time.sleep_ms(100)
#     print(dict(zip(pm.CHANNELS, pm.values)))  # pm25_cf1 ... n10_0, integers as sent
#
# Frame (32 bytes): 42 4D 00 1C, 13 big-endian words, 16-bit sum of bytes 0..29.
# Words: PM1/2.5/10 CF=1, PM1/2.5/10 ATM [ug/m3], particles >0.3/0.5/1/2.5/5/10 um [#/0.1 L],
# reserved (byte 28 firmware version, byte 29 error code). PMS5003T puts temperature (int16,
# 0.1 degC, negative below zero) and RH (0.1 %) where the 5 and 10 um counts are.
# Command replies (8 bytes, 42 4D 00 04 CMD ...) are counted in `replies`, never taken as data.
# An all-zero frame is the sensor warming up (PyPMS SensorWarmingUp); 0 particles >0.3 um with
# PM10 > 0 is impossible and counted as bad (PyPMS InconsistentObservation).
# Sources: PyPMS docs/sensors/Plantower.md; research/firmware-anchors.md section 4.1.
from micropython import const

from .base import FrameSensor

_DATA_LEN = const(0x1C)
_REPLY_LEN = const(0x04)

# Commands (42 4D CMD DATAH DATAL + 16-bit sum). No reply to READ and WAKE.
ACTIVE = b"\x42\x4d\xe1\x00\x01\x01\x71"
PASSIVE = b"\x42\x4d\xe1\x00\x00\x01\x70"
READ = b"\x42\x4d\xe2\x00\x00\x01\x71"
SLEEP = b"\x42\x4d\xe4\x00\x00\x01\x73"
WAKE = b"\x42\x4d\xe4\x00\x01\x01\x74"


class PMS5003(FrameSensor):
    TYPE = "pms5003"
    MODELS = ("pms5003", "pms7003", "pmsa003")
    CHANNELS = ("pm1_cf1", "pm25_cf1", "pm10_cf1", "pm1_atm", "pm25_atm", "pm10_atm",
                "n0_3", "n0_5", "n1_0", "n2_5", "n5_0", "n10_0")
    SCALE = (1,) * 12
    WARMUP_MS = 30000
    FRAME = 32

    def __init__(self, bus, model=None, *, mode="active", tx=None, rx=None, warmup_ms=None):
        from . import bus as _bus  # only while constructing: a node unloads it after boot
        model = _bus.choose(self.TYPE, "model", model or self.MODELS[0], self.MODELS)
        self.mode = _bus.choose(self.TYPE, "mode", mode, ("active", "passive"))
        FrameSensor.__init__(self, bus, model, tx, rx, warmup_ms)
        self._fw = -1
        self.configure()

    def configure(self):
        """Set the report mode (again after the sensor was power-cycled: it restarts active)."""
        self._send(PASSIVE if self.mode == "passive" else ACTIVE)

    def start(self):
        self._request()
        if self.mode == "passive":
            self._send(READ)
            return 100
        return 0

    def sleep(self):
        self._send(SLEEP)

    def wake(self):
        self._send(WAKE)
        self.woke()

    def _need(self, f, k):
        if f[0] != 0x42:
            return -1
        if k < 2:
            return 0
        if f[1] != 0x4D:
            return -1
        if k < 4:
            return 0
        if f[2] != 0 or (f[3] != _DATA_LEN and f[3] != _REPLY_LEN):
            return -1
        n = f[3] + 4
        return n if k >= n else 0

    def _accept(self, f, n):
        s = 0
        for i in range(n - 2):
            s += f[i]
        if s != (f[n - 2] << 8 | f[n - 1]):
            if self.on_checksum is not None:
                self.on_checksum(s, f[n - 2] << 8 | f[n - 1])
            return -1
        if n != _DATA_LEN + 4:
            self.replies += 1
            return 0
        if f[28] != self._fw:
            self._fw = f[28]
            self.ident = "fw=%d" % self._fw
        self.state = f[29]
        z = 0
        for i in range(4, 28):
            z |= f[i]
        if z == 0:
            self.warming += 1
            return 0
        if f[16] == 0 and f[17] == 0 and (f[14] or f[15]):
            self.bad += 1  # no particle > 0.3 um but PM10 > 0
            return 0
        if self._warming():
            return 0
        self._decode(f)
        return 1 if self._take() else 0

    def _decode(self, f):
        v = self.values
        for i in range(12):
            v[i] = f[4 + 2 * i] << 8 | f[5 + 2 * i]


class PMS5003T(PMS5003):
    TYPE = "pms5003t"
    MODELS = ("pms5003t",)
    CHANNELS = ("pm1_cf1", "pm25_cf1", "pm10_cf1", "pm1_atm", "pm25_atm", "pm10_atm",
                "n0_3", "n0_5", "n1_0", "n2_5", "t_c", "rh")
    SCALE = (1,) * 10 + (10, 10)

    def _decode(self, f):
        PMS5003._decode(self, f)
        t = self.values[10]
        if t & 0x8000:
            self.values[10] = t - 0x10000
