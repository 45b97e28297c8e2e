# SPEC Sensors DGS-SO2 digital gas sensor (UART 9600 8N1, 3.3 V, ASCII lines).
#
#     from node.drivers.dgs import DGS
#     so2 = DGS(2, tx=26, rx=25)            # start() sends "\r": one measurement line
#     time.sleep_ms(so2.start()); so2.poll()
#     print(so2.values[0], "ppb", so2.values[1], "degC", so2.values[2], "%")
#
# A measurement line: SN, PPB, T, RH, RawSensor, TempDigital, RHDigital, Day, Hour, Minute,
# Second (comma separated integers, "\r\n" at the end), e.g.
#   071421030446, 875, 23, 19, 2111737, 23956, 19605, 00, 01, 02, 03
# The line is parsed byte by byte into integers (no string is made). Lines that are not
# measurements (firmware date, EEPROM dump) are counted in `replies`; measurement-shaped lines
# that do not parse (wrong field count, out-of-range T/RH/clock) are `bad`. There is no checksum:
# a corrupted digit cannot be detected. DGS lines have no start marker either, so after garbage
# the driver re-reads the line from the last byte that cannot appear in a measurement line.
# Commands: "\r" one measurement, "c" continuous output (about one line a second), "s" sleep;
# any byte wakes it. ASSUMPTIONS (UNVERIFIED for DGS-SO2, firmware-anchors 4.4b: layout from
# SPEC DG-SDK-968-045 via teusH/MySense, tested there with O3/NO2/CO): the field order above, T in
# whole degC, RH in whole %, PPB may be negative after zeroing; the first hour after power-up is
# not stable (MySense), hence WARMUP_MS.
from micropython import const

from .base import UartSensor

_LINE = const(120)
_FIELDS = const(11)
_SN = const(12)  # digits in the serial number

MEASURE = b"\r"
CONTINUOUS = b"c"
SLEEP = b"s"


class DGS(UartSensor):
    TYPE = "dgs"
    MODELS = ("dgs-so2",)
    CHANNELS = ("so2_ppb", "t_c", "rh")
    SCALE = (1, 1, 1)
    WARMUP_MS = 3600000

    def __init__(self, bus, model=None, *, mode="query", tx=None, rx=None, warmup_ms=None):
        from . import bus as _bus  # only while constructing: a node unloads it after boot
        model = _bus.choose(self.TYPE, "model", model or "dgs-so2", self.MODELS)
        self.mode = _bus.choose(self.TYPE, "mode", mode, ("query", "continuous"))
        UartSensor.__init__(self, bus, model, tx, rx, warmup_ms)
        self._f = bytearray(_LINE)
        self._k = 0
        self._skip = False  # line too long: drop bytes until the next newline
        self._num = [0] * _FIELDS  # parsed fields (list of small ints: no allocation on store)
        self._sn = bytearray(_SN)
        self.configure()

    def configure(self):
        if self.mode == "continuous":
            self._send(CONTINUOUS)

    def start(self):
        self._request()
        if self.mode == "query":
            self._send(MEASURE)
            return 1000
        return 0

    def sleep(self):
        self._send(SLEEP)

    def wake(self):
        self._send(MEASURE)  # any byte wakes the module
        self.woke()

    def _reset(self):
        self._k = 0
        self._skip = False

    def _push(self, b):
        if b == 0x0A:
            k = self._k
            self._k = 0
            if self._skip:
                self._skip = False
                return False
            if k and self._f[k - 1] == 0x0D:
                k -= 1
            return self._line(self._f, k) if k else False
        if self._skip:
            self.noise += 1
        elif self._k < _LINE:
            self._f[self._k] = b
            self._k += 1
        else:
            self.noise += self._k + 1
            self._skip = True
        return False

    def _line(self, f, k):
        # A measurement uses digits, " ", "-" and ","; it starts after the last byte that is not.
        i = k
        commas = 0
        while i:
            c = f[i - 1]
            if c == 0x2C:
                commas += 1
            elif not (0x30 <= c <= 0x39 or c == 0x20 or c == 0x2D):
                break
            i -= 1
        if not commas:
            self.replies += 1  # a text reply: "15SEP17", the EEPROM dump
            return False
        self.noise += i
        if self._parse(f, i, k) < 0:
            self.bad += 1
            return False
        n = self._num
        if not (-99 <= n[2] <= 99 and 0 <= n[3] <= 100 and 0 <= n[7] and 0 <= n[8] < 24
                and 0 <= n[9] < 60 and 0 <= n[10] < 60):
            self.bad += 1
            return False
        self._ident(f, i)
        if self._warming():
            return False
        v = self.values
        v[0] = n[1]
        v[1] = n[2]
        v[2] = n[3]
        return self._take()

    def _parse(self, f, i, k):
        """Fields of f[i:k] into _num (the serial number only checked); False if not a line."""
        n = self._num
        j = 0          # field index
        x = 0          # its value so far
        digits = 0
        neg = False
        gap = False    # a space after digits: the number has ended
        while i <= k:
            c = f[i] if i < k else 0x2C
            i += 1
            if 0x30 <= c <= 0x39:
                if gap or digits == 9 and j:
                    return -1  # two numbers in a field, or one too long for a small int
                if j:
                    x = x * 10 + c - 0x30
                digits += 1
            elif c == 0x2C:
                if not digits or j == _FIELDS or (j == 0 and (digits != _SN or neg)):
                    return -1
                n[j] = -x if neg else x
                j += 1
                x = digits = 0
                neg = gap = False
            elif c == 0x2D and not digits and not neg:
                neg = True
            elif c == 0x20 and not (neg and not digits):  # no space between "-" and digits
                gap = digits > 0
            else:
                return -1
        return 0 if j == _FIELDS else -1

    def _ident(self, f, i):
        while f[i] == 0x20:
            i += 1
        sn = self._sn
        same = True
        for j in range(_SN):
            if sn[j] != f[i + j]:
                sn[j] = f[i + j]
                same = False
        if not same:
            self.ident = "sn=" + bytes(sn).decode()
