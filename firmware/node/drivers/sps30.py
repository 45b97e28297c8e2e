# Sensirion SPS30 particle sensor over UART (SHDLC, 115200 8N1; leave SEL unconnected for UART).
#
#     from node.drivers.sps30 import SPS30
#     pm = SPS30(1, tx=17, rx=16)                # starts the measurement (float output)
#     time.sleep_ms(pm.start()); pm.poll()       # start() sends "read measured values"
#     print(pm.values[1] / 1024, "ug/m3")        # values are fixed point, 1/1024 of the unit
#
# MISO frame: 7E ADR CMD STATE LEN DATA.. CHK 7E, CHK = ~(sum ADR..DATA) & 0xFF. Inside a frame
# 7E 7D 11 13 are sent as 7D 5E / 7D 5D / 7D 31 / 7D 33; this driver unstuffs in one pass while
# the bytes arrive, so 7D 5D 31 is 7D 31 (a replace()-based unstuffer turns it into 11).
# Measured values: 10 big-endian float32 (PM1 PM2.5 PM4 PM10 ug/m3, NC0.5 NC1 NC2.5 NC4 NC10
# #/cm3, typical size um). They are converted to fixed point (x1024, rounded) with integer bit
# operations, so a frame allocates nothing, not even a float. NaN, infinity, negative values
# and values >= 2**20 are impossible readings: counted as bad. A reply with no data (LEN 0) or
# all zeros means no new reading yet: counted in `warming`. A non-zero STATE (0x43: measurement
# not started) is kept in `state`; after 0x43 to a read the driver restarts the measurement.
# Sleep/wake need SPS30 firmware >= 2.0; wake is "a byte to wake the UART, then the command".
# Sources: Sensirion SPS30 datasheet (SHDLC); PyPMS sensirion/sps30.py; firmware-anchors 4.3.
from micropython import const

from array import array

from .base import UartSensor

_BODY = const(64)
_READ = const(0x03)
_INFO = const(0xD0)
_NOT_ALLOWED = const(0x43)

START = b"\x7e\x00\x00\x02\x01\x03\xf9\x7e"  # measurement with float output
STOP = b"\x7e\x00\x01\x00\xfe\x7e"
READ = b"\x7e\x00\x03\x00\xfc\x7e"
SLEEP = b"\x7e\x00\x10\x00\xef\x7e"
WAKE = b"\xff\x7e\x00\x11\x00\xee\x7e"        # 0xFF wakes the UART interface first
SERIAL = b"\x7e\x00\xd0\x01\x03\x2b\x7e"
CLEAN = b"\x7e\x00\x56\x00\xa9\x7e"           # start fan cleaning


def fixed(f, i):
    """float32 big-endian at f[i:i+4] as round(value * 1024); -1 when not a possible reading."""
    b0 = f[i]
    b1 = f[i + 1]
    if b0 & 0x80:
        return 0 if not (b0 & 0x7F or b1 or f[i + 2] or f[i + 3]) else -1  # -0.0 or negative
    e = (b0 << 1) | (b1 >> 7)
    if e == 0:
        return 0  # zero or subnormal
    if e > 146:
        return -1  # >= 2**20 (146 - 127 = 19), infinity, NaN
    m = ((b1 & 0x7F) << 16) | (f[i + 2] << 8) | f[i + 3] | 0x800000
    s = 140 - e  # value * 1024 = m * 2**(e - 140)
    if s <= 0:
        return m << -s
    if s > 25:
        return 0
    return ((m >> (s - 1)) + 1) >> 1  # round half up


class SPS30(UartSensor):
    TYPE = "sps30"
    MODELS = ("sps30",)
    CHANNELS = ("pm1", "pm25", "pm4", "pm10", "nc0_5", "nc1_0", "nc2_5", "nc4_0", "nc10_0",
                "typical_size")
    SCALE = (1024,) * 10
    WARMUP_MS = 30000
    BAUD = 115200

    def __init__(self, bus, model=None, *, tx=None, rx=None, warmup_ms=None):
        from . import bus as _bus  # only while constructing: a node unloads it after boot
        model = _bus.choose(self.TYPE, "model", model or "sps30", self.MODELS)
        UartSensor.__init__(self, bus, model, tx, rx, warmup_ms)
        self._f = bytearray(_BODY)
        self._q = array("i", [0] * 10)
        self._k = 0
        self._in = False   # inside a frame (after a 7E)
        self._esc = False  # the last byte was 7D
        self._broken = False
        self.configure()

    def configure(self):
        """Start measuring (again after a power cycle) and ask for the serial number."""
        self._send(START)
        if self.ident is None:
            self._send(SERIAL)

    def start(self):
        self._request()
        self._send(READ)
        return 20

    def clean(self):
        self._send(CLEAN)

    def sleep(self):
        self._send(STOP)
        self._send(SLEEP)

    def wake(self):
        self._send(WAKE)
        self._send(START)
        self.woke()

    def _reset(self):
        self._k = 0
        self._in = self._esc = self._broken = False

    def _push(self, b):
        if b == 0x7E:  # a delimiter ends what came before it and starts a new frame
            k = self._k
            r = False
            if self._in and k:
                if self._broken or self._esc or k < 5:
                    self.bad += 1
                else:
                    r = self._frame(self._f, k)
            self._k = 0
            self._in = True
            self._esc = self._broken = False
            return r
        if not self._in:
            self.noise += 1
            return False
        if self._esc:
            self._esc = False
            if b != 0x5E and b != 0x5D and b != 0x31 and b != 0x33:
                self._broken = True
            b ^= 0x20
        elif b == 0x7D:
            self._esc = True
            return False
        if self._k >= _BODY:
            self.noise += self._k + 1  # no delimiter in sight: wait for the next 7E
            self._k = 0
            self._in = False
            return False
        self._f[self._k] = b
        self._k += 1
        return False

    def _frame(self, f, k):
        s = 0
        for i in range(k):
            s += f[i]
        if s & 0xFF != 0xFF or f[0] != 0 or f[3] + 5 != k:
            if s & 0xFF != 0xFF and self.on_checksum is not None:
                self.on_checksum(~(s - f[k - 1]) & 0xFF, f[k - 1])
            self.bad += 1
            return False
        cmd = f[1]
        self.state = f[2]
        if f[2]:
            self.replies += 1
            if f[2] == _NOT_ALLOWED and cmd == _READ:
                self._send(START)
            return False
        if cmd == _INFO:
            self.replies += 1
            if self.ident is None:
                n = 4
                while n < k - 1 and 0x20 < f[n] < 0x7F:  # printable ASCII up to the NUL
                    n += 1
                if n > 4 and (n == k - 1 or f[n] == 0):
                    self.ident = "sn=" + bytes(f[4:n]).decode()
            return False
        if cmd != _READ:
            self.replies += 1
            return False
        if f[3] == 0:
            self.warming += 1
            return False
        if f[3] != 40:
            self.bad += 1
            return False
        q = self._q
        z = 0
        for j in range(10):
            x = fixed(f, 4 + 4 * j)
            if x < 0:
                self.bad += 1
                return False
            q[j] = x
            z |= x
        if z == 0:
            self.warming += 1
            return False
        if self._warming():
            return False
        v = self.values
        for j in range(10):
            v[j] = q[j]
        return self._take()
