# Sensirion SHT30/SHT31/SHT35 temperature and humidity sensor (I2C, 0x44 or 0x45).
#
#     from node.drivers.sht3x import SHT3x
#     th = SHT3x(0, scl=22, sda=21)
#     time.sleep_ms(th.start()); th.poll()
#     print(th.values[0] / 100, "degC", th.values[1] / 100, "%")
#
# Single-shot measurement without clock stretching: write the command, wait, read 6 bytes
# T_MSB T_LSB CRC RH_MSB RH_LSB CRC. CRC-8 poly 0x31, init 0xFF (CRC(BE EF) = 0x92).
# T = -45 + 175 * raw / 65535, RH = 100 * raw / 65535 (SHT3x datasheet 4.13), computed in 0.01
# units as raw * 3500 // 13107 (175*100/65535 = 3500/13107): exact and below 2**30.
# A read before the measurement is done is NACKed (OSError): poll() returns False.
from micropython import const

from .base import Sensor

_SERIAL = const(0x3780)
# (command, ms to wait) per repeatability, no clock stretching
_MEASURE = {"high": (0x2400, 16), "medium": (0x240B, 7), "low": (0x2416, 5)}


def crc8(buf, i, n=2):
    """CRC-8/NRSC-5 as Sensirion uses it over buf[i:i+n]."""
    c = 0xFF
    for j in range(i, i + n):
        c ^= buf[j]
        for _ in range(8):
            c = ((c << 1) ^ 0x31) & 0xFF if c & 0x80 else (c << 1) & 0xFF
    return c


class SHT3x(Sensor):
    TYPE = "sht3x"
    MODELS = ("sht30", "sht31", "sht35")
    CHANNELS = ("t_c", "rh")
    SCALE = (100, 100)

    def __init__(self, bus, model=None, *, addr=0x44, repeatability="high", scl=None, sda=None,
                 warmup_ms=None):
        from . import bus as _bus  # only while constructing: a node unloads it after boot
        model = _bus.choose(self.TYPE, "model", model or "sht31", self.MODELS)
        self.addr = _bus.choose(self.TYPE, "I2C address", addr, (0x44, 0x45), "0x%02x")
        cmd, self._wait = _MEASURE[_bus.choose(self.TYPE, "repeatability", repeatability,
                                               ("high", "medium", "low"))]
        Sensor.__init__(self, model, warmup_ms)
        self.i2c = _bus.i2c(self.TYPE, bus, scl, sda)
        self._cmd = bytearray((cmd >> 8, cmd & 0xFF))
        self._buf = bytearray(6)
        self._armed = False  # a measurement was started and not read yet

    def start(self):
        self._request()
        if self.ident is None:
            try:
                self._read_serial()
            except OSError:
                pass  # no serial number (some clones NACK 0x3780): measure all the same
        try:
            self.i2c.writeto(self.addr, self._cmd)
            self._armed = True
        except OSError:
            pass  # absent or busy: counted as missing if no reading comes
        return self._wait

    def _read_serial(self):
        b = self._buf
        self.i2c.writeto(self.addr, bytes((_SERIAL >> 8, _SERIAL & 0xFF)))
        self.i2c.readfrom_into(self.addr, b)
        if crc8(b, 0) == b[2] and crc8(b, 3) == b[5]:
            self.ident = "sn=0x%02x%02x%02x%02x" % (b[0], b[1], b[3], b[4])

    def poll(self):
        if not self._armed:
            return False
        b = self._buf
        try:
            self.i2c.readfrom_into(self.addr, b)
        except OSError:
            return False  # not done yet, or absent
        self._armed = False
        if crc8(b, 0) != b[2] or crc8(b, 3) != b[5]:
            self.bad += 1
            return False
        if self._warming():
            return False
        self.values[0] = ((b[0] << 8 | b[1]) * 3500 + 6553) // 13107 - 4500
        self.values[1] = ((b[3] << 8 | b[4]) * 2000 + 6553) // 13107
        return self._take()
