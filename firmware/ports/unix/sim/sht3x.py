# Sensirion SHT3x simulator (I2C peer for machine.attach_i2c at 0x44 or 0x45).
#
#     from sim.sht3x import SHT3xSim
#     machine.attach_i2c(0, 0x44, SHT3xSim(scenario, serial=0x1A2B3C4D))
#
# SHT3xSim(scenario, faults=None, serial=0x1A2B3C4D, unit=None)
# Single-shot commands 2400/240B/2416 (no clock stretching) start a measurement that takes
# 15/6/4 ms of world time; a read before it is done, or with no measurement pending, is NACKed
# (OSError 19), as on the chip. 3780 reads the serial number (serial=None: a chip, such as some
# SHT30 clones, that NACKs it). Data: T_MSB T_LSB CRC RH_MSB
# RH_LSB CRC, CRC-8 poly 0x31 init 0xFF; raw = (T + 45) / 175 * 65535, RH / 100 * 65535.
# Physics: the scenario's T and RH plus this unit's offsets (unit: t_offset degC, rh_offset %RH;
# host/tynys/sim/models/sht3x.json, from the datasheet's accuracy; 0 where not given), with small
# absolute noise (0.02 degC, 0.1 %RH).
# Faults: unplugged (NACK), stuck (frozen values), bad (one data bit flipped: the CRC fails).
from .aerosol import unit as _unit
from .i2c import I2CSim

DEFAULTS = {"t_offset": 0.0, "rh_offset": 0.0}  # the median unit of host/tynys/sim/models/sht3x.json

_DURATION_US = {0x2400: 15000, 0x240B: 6000, 0x2416: 4000}


def crc8(data):
    c = 0xFF
    for b in data:
        c ^= b
        for _ in range(8):
            c = ((c << 1) ^ 0x31) & 0xFF if c & 0x80 else (c << 1) & 0xFF
    return c


def words(*ws):
    out = bytearray()
    for w in ws:
        b = bytes((w >> 8, w & 0xFF))
        out.extend(b)
        out.append(crc8(b))
    return out


class SHT3xSim(I2CSim):
    def __init__(self, scenario, faults=None, serial=0x1A2B3C4D, unit=None):
        I2CSim.__init__(self, scenario, faults)
        self.unit = _unit(DEFAULTS, unit)
        self.serial = serial
        self._out = None
        self._ready = 0

    def _reading(self):
        sc = self.scenario
        r = self.noise_rand
        t = sc.value("t_c") + self.unit["t_offset"] + sc.wobble(r, 0.02)
        rh = min(100.0, max(0.0, sc.value("rh") + self.unit["rh_offset"] + sc.wobble(r, 0.1)))
        return (min(65535, max(0, round((t + 45) * 65535 / 175))), round(rh * 655.35))

    def i2c_write(self, buf, n):
        self._ack()
        cmd = buf[0] << 8 | buf[1] if n >= 2 else -1
        if cmd in _DURATION_US:
            out = words(*self.measure())
            if self.faults.bad and self.rand.chance(self.faults.bad):
                out[self.rand.below(2) * 3 + self.rand.below(2)] ^= 1 << self.rand.below(8)
            self._out = out
            self._ready = self.scenario.clock() + _DURATION_US[cmd]
        elif cmd == 0x3780 and self.serial is not None:
            self._out = words(self.serial >> 16, self.serial & 0xFFFF)
            self._ready = self.scenario.clock()
        else:
            raise OSError(5)  # a command the chip does not know: NACK on the data byte

    def i2c_read_into(self, buf, n):
        self._ack()
        if self._out is None or self.scenario.clock() < self._ready:
            raise OSError(19)
        for i in range(n):
            buf[i] = self._out[i] if i < len(self._out) else 0xFF
        self._out = None
