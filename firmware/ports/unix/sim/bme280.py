# Bosch BME280 simulator (I2C peer for machine.attach_i2c at 0x76 or 0x77).
#
#     from sim.bme280 import BME280Sim
#     machine.attach_i2c(0, 0x76, BME280Sim(scenario))
#
# BME280Sim(scenario, faults=None, calibration=CALIBRATION, chip_id=0x60)
# Registers as on the chip: D0 chip id, E0 reset (B6), 88..A1 and E1..E7 trimming values,
# F2 ctrl_hum, F3 status (bit 3 while measuring), F4 ctrl_meas (mode 01/10 = forced: one
# measurement, then sleep; 11 = normal), F7..FE data (0x80000/0x8000 until the first
# measurement). A write is a register address and then (address, value) pairs; a read
# continues from the last address. A measurement takes 1.25 + 2.3 * sum(oversampling) + 1.15 ms.
# The raw ADC values are found by bisection on the datasheet's floating-point compensation
# formulas (BST-BME280-DS002 8.1), so the driver's integer formulas are checked against an
# independent form. CALIBRATION: T and P trimming values of the worked example in the BMP280
# datasheet (BST-BMP280-DS001 3.12; same T/P formulas), H values typical of real BME280s.
# Physics: the scenario's T, RH and pressure with small absolute noise (0.01 degC, 0.05 %RH,
# 0.5 Pa). Faults: unplugged (NACK), stuck (frozen values); a register bus has no checksum, so
# `bad` does not apply.
from .i2c import I2CSim

CALIBRATION = {"T1": 27504, "T2": 26435, "T3": -1000, "P1": 36477, "P2": -10685, "P3": 3024,
               "P4": 2855, "P5": 140, "P6": -7, "P7": 15500, "P8": -14600, "P9": 6000,
               "H1": 75, "H2": 362, "H3": 0, "H4": 313, "H5": 50, "H6": 30}
_OSR = (0, 1, 2, 4, 8, 16, 16, 16)


def t_fine_of(c, adc_t):
    v1 = (adc_t / 16384.0 - c["T1"] / 1024.0) * c["T2"]
    v2 = (adc_t / 131072.0 - c["T1"] / 8192.0) ** 2 * c["T3"]
    return v1 + v2  # T = t_fine / 5120


def pressure_of(c, adc_p, t_fine):
    v1 = t_fine / 2.0 - 64000.0
    v2 = v1 * v1 * c["P6"] / 32768.0
    v2 = v2 + v1 * c["P5"] * 2.0
    v2 = v2 / 4.0 + c["P4"] * 65536.0
    v1 = (c["P3"] * v1 * v1 / 524288.0 + c["P2"] * v1) / 524288.0
    v1 = (1.0 + v1 / 32768.0) * c["P1"]
    p = 1048576.0 - adc_p
    p = (p - v2 / 4096.0) * 6250.0 / v1
    v1 = c["P9"] * p * p / 2147483648.0
    v2 = p * c["P8"] / 32768.0
    return p + (v1 + v2 + c["P7"]) / 16.0  # Pa


def humidity_of(c, adc_h, t_fine):
    h = t_fine - 76800.0
    h = (adc_h - (c["H4"] * 64.0 + c["H5"] / 16384.0 * h)) * (
        c["H2"] / 65536.0 * (1.0 + c["H6"] / 67108864.0 * h * (1.0 + c["H3"] / 67108864.0 * h)))
    return h * (1.0 - c["H1"] * h / 524288.0)  # %RH before clamping to 0..100


def _bisect(f, lo, hi, target, rising):
    """Smallest integer x in [lo, hi) with f(x) >= target (rising) or f(x) <= target."""
    while lo < hi:
        mid = (lo + hi) // 2
        y = f(mid)
        if (y >= target) if rising else (y <= target):
            hi = mid
        else:
            lo = mid + 1
    return lo


def registers(c, chip_id=0x60):
    """The 256-byte register file with the trimming values in place."""
    r = bytearray(256)
    r[0xD0] = chip_id

    def put(addr, v):
        v &= 0xFFFF
        r[addr] = v & 0xFF
        r[addr + 1] = v >> 8

    for i, k in enumerate(("T1", "T2", "T3", "P1", "P2", "P3", "P4", "P5", "P6", "P7", "P8", "P9")):
        put(0x88 + 2 * i, c[k])
    r[0xA1] = c["H1"]
    put(0xE1, c["H2"])
    r[0xE3] = c["H3"]
    h4, h5 = c["H4"] & 0xFFF, c["H5"] & 0xFFF
    r[0xE4] = h4 >> 4
    r[0xE5] = (h4 & 0x0F) | (h5 & 0x0F) << 4
    r[0xE6] = h5 >> 4
    r[0xE7] = c["H6"] & 0xFF
    return r


class BME280Sim(I2CSim):
    def __init__(self, scenario, faults=None, calibration=CALIBRATION, chip_id=0x60):
        I2CSim.__init__(self, scenario, faults)
        self.cal = dict(calibration)
        self.chip_id = chip_id
        self._reset()

    def _reset(self):
        self.reg = registers(self.cal, self.chip_id)
        self.reg[0xF7:0xFF] = b"\x80\x00\x00\x80\x00\x00\x80\x00"
        self._ptr = 0
        self._done = None  # world time when the running measurement ends

    def _reading(self):
        sc = self.scenario
        r = self.noise_rand
        return (sc.value("t_c") + sc.wobble(r, 0.01), sc.value("p_hpa") * 100 + sc.wobble(r, 0.5),
                min(100.0, max(0.0, sc.value("rh") + sc.wobble(r, 0.05))))

    def raw(self, t_c, p_pa, rh):
        """ADC values (adc_T, adc_P, adc_H) that the datasheet formulas turn into these values."""
        c = self.cal
        adc_t = _bisect(lambda x: t_fine_of(c, x), 0, 1 << 20, t_c * 5120.0, True)
        tf = t_fine_of(c, adc_t)
        adc_p = _bisect(lambda x: pressure_of(c, x, tf), 0, 1 << 20, p_pa, False)
        adc_h = _bisect(lambda x: humidity_of(c, x, tf), 0, 1 << 16, rh, True)
        return adc_t, min(adc_p, (1 << 20) - 1), min(adc_h, 65535)

    def _finish(self):
        if self._done is None or self.scenario.clock() < self._done:
            return
        self._done = None
        t, p, h = self.raw(*self.measure())
        r = self.reg
        r[0xF7], r[0xF8], r[0xF9] = p >> 12, (p >> 4) & 0xFF, (p & 0x0F) << 4
        r[0xFA], r[0xFB], r[0xFC] = t >> 12, (t >> 4) & 0xFF, (t & 0x0F) << 4
        r[0xFD], r[0xFE] = h >> 8, h & 0xFF
        if self.reg[0xF4] & 3 == 3:
            self._done = self.scenario.clock() + self._duration  # normal mode: the next one
        else:
            self.reg[0xF4] &= 0xFC  # forced mode: back to sleep

    def i2c_write(self, buf, n):
        self._ack()
        self._finish()
        if n == 0:
            return
        if n == 1:
            self._ptr = buf[0]
        for i in range(0, n - 1, 2):
            self._set(buf[i], buf[i + 1])

    def _set(self, a, v):
        if a == 0xE0:
            if v == 0xB6:
                self._reset()
            return
        if a in (0xF2, 0xF4, 0xF5):
            self.reg[a] = v
        if a == 0xF4 and v & 3:
            osr = _OSR[v >> 5] + _OSR[(v >> 2) & 7] + _OSR[self.reg[0xF2] & 7]
            self._duration = 1250 + 2300 * osr + 1150
            self._done = self.scenario.clock() + self._duration

    def i2c_read_into(self, buf, n):
        self._ack()
        self._finish()
        self.reg[0xF3] = 0x08 if self._done is not None else 0
        for i in range(n):
            buf[i] = self.reg[(self._ptr + i) & 0xFF]
        self._ptr = (self._ptr + n) & 0xFF
