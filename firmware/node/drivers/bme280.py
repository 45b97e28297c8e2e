# Bosch BME280 temperature, humidity and pressure sensor (I2C, 0x76 or 0x77), forced mode.
#
#     from node.drivers.bme280 import BME280
#     th = BME280(0, scl=22, sda=21)
#     time.sleep_ms(th.start()); th.poll()
#     print(th.values[0] / 100, "degC", th.values[1] / 1024, "%", th.values[2] / 100, "hPa")
#
# Compensation: the integer formulas of the Bosch BME280 datasheet (BST-BME280-DS002) 4.2.3 for
# T (0.01 degC) and H (Q22.10 %RH), and the 32-bit pressure form of its appendix 8.2 (Pa; the
# 64-bit form's intermediates reach 2**51). Python ints never overflow, so the results are the
# datasheet's; but on the ESP32 an int beyond 31 bits is a heap object (small ints are 31-bit).
# Products that can pass 2**30 are split exactly with _mulshr ((a*b) >> s == (a>>s)*b +
# ((a & m)*b >> s)) and the pressure division is split into quotient and remainder, so for real
# calibration data over -40..85 degC, 300..1100 hPa, 0..100 %RH no intermediate reaches 2**30
# (the largest is 9.7e8 = 0.9 * 2**30; tests/firmware/test_bme280.py runs this code on CPython
# with ints that record every intermediate). Results are bit-identical to the datasheet formulas
# (tests/firmware/mpy/fuzz_i2c.py compares them on random raw and calibration data).
# The chip id must be 0x60 (a BMP280, 0x58, has no humidity: counted as bad, id in `ident`).
from array import array

try:
    from micropython import const
except ImportError:  # CPython: the host-side test of the compensation imports this module
    def const(x):
        return x

from .base import Sensor

_ID = const(0xD0)
_CHIP_ID = const(0x60)
_CALIB_TP = const(0x88)  # 26 bytes: T1..T3, P1..P9, (0xA0), H1 at 0xA1
_CALIB_H = const(0xE1)   # 7 bytes: H2..H6
_CTRL_HUM = const(0xF2)
_CTRL_MEAS = const(0xF4)
_STATUS = const(0xF3)    # status, ctrl_meas, config, -, press[3] temp[3] hum[2]
_SKIPPED = const(0x80000)  # data register value before the first measurement


def _mulshr(a, b, s):
    """(a * b) >> s, exactly, with intermediates below 2**s * |b| and (a >> s) * b."""
    return (a >> s) * b + (((a & ((1 << s) - 1)) * b) >> s)


def compensate(cal, adc_t, adc_p, adc_h, out):
    """Datasheet integer compensation into out: T [0.01 degC], RH [% * 1024], P [Pa].

    cal: T1 T2 T3 P1..P9 H1..H6 (indexes 0..17). Each line is the datasheet's; where a product
    can pass 2**30 it is split exactly (_mulshr, quotient and remainder). False when the
    pressure formula has no answer (the datasheet returns 0 for var1 == 0) or the raw pressure
    is out of range.
    """
    # temperature: 4.2.3 BME280_compensate_T_int32
    t1 = cal[0]
    var1 = _mulshr((adc_t >> 3) - (t1 << 1), cal[1], 11)
    d = (adc_t >> 4) - t1
    var2 = _mulshr(_mulshr(d, d, 12), cal[2], 14)
    t_fine = var1 + var2
    out[0] = (t_fine * 5 + 128) >> 8
    # pressure: 8.2 BME280_compensate_P_int32
    var1 = (t_fine >> 1) - 64000
    q = var1 >> 2
    var2 = _mulshr(q, q, 11) * cal[8]
    var2 = var2 + ((var1 * cal[7]) << 1)
    var2 = (var2 >> 2) + (cal[6] << 16)
    var1 = (((cal[5] * _mulshr(q, q, 13)) >> 3) + _mulshr(var1, cal[4], 1)) >> 18
    var1 = _mulshr(cal[3], 32768 + var1, 15)
    a = 1048576 - adc_p - (var2 >> 12)
    if var1 <= 0 or a < 0:
        return False
    h = a // var1  # no divmod(): it builds a tuple
    r = a - h * var1
    if a < 687195:  # the datasheet's p = a * 3125 < 0x80000000: p = (p << 1) / var1
        p = h * 6250 + r * 6250 // var1
    else:  # p = (p / var1) * 2
        p = (h * 3125 + r * 3125 // var1) * 2
    var1 = (cal[11] * (((p >> 3) * (p >> 3)) >> 13)) >> 12
    var2 = ((p >> 2) * cal[10]) >> 13
    out[2] = p + ((var1 + var2 + cal[9]) >> 4)
    # humidity: 4.2.3 bme280_compensate_H_int32; (adc_H << 14) - (H4 << 20) is taken as one shift
    v = t_fine - 76800
    x = ((((adc_h - (cal[15] << 6)) << 14) - cal[16] * v) + 16384) >> 15
    y = ((((v * cal[17]) >> 10) * (((v * cal[14]) >> 11) + 32768)) >> 10) + 2097152
    v = x * ((y >> 14) * cal[13] + (((y & 0x3FFF) * cal[13] + 8192) >> 14))  # (y*H2 + 8192) >> 14
    v = v - (((((v >> 15) * (v >> 15)) >> 7) * cal[12]) >> 4)
    v = 0 if v < 0 else 419430400 if v > 419430400 else v
    out[1] = v >> 12
    return True


class BME280(Sensor):
    TYPE = "bme280"
    MODELS = ("bme280",)
    CHANNELS = ("t_c", "rh", "p_hpa")
    SCALE = (100, 1024, 100)
    OVERSAMPLING = (1, 2, 4, 8, 16)

    def __init__(self, bus, model=None, *, addr=0x76, oversample=1, scl=None, sda=None,
                 warmup_ms=None):
        from . import bus as _bus  # only while constructing: a node unloads it after boot
        model = _bus.choose(self.TYPE, "model", model or "bme280", self.MODELS)
        self.addr = _bus.choose(self.TYPE, "I2C address", addr, (0x76, 0x77), "0x%02x")
        osr = self.OVERSAMPLING.index(_bus.choose(self.TYPE, "oversample", oversample,
                                                  self.OVERSAMPLING)) + 1
        Sensor.__init__(self, model, warmup_ms)
        self.i2c = _bus.i2c(self.TYPE, bus, scl, sda)
        self._hum = bytearray((osr,))
        self._meas = bytearray(((osr << 5) | (osr << 2) | 1,))  # T and P oversampling, forced
        # datasheet 9.1 max measurement time: 1.25 + 2.3 * (3 * osr) + 2 * 0.575 ms
        self._wait = (1250 + 6900 * oversample + 1150) // 1000 + 1
        self.cal = None
        self._armed = False  # a measurement was started and not read yet
        self._raw = bytearray(33)
        self._buf = memoryview(self._raw)
        self._data = self._buf[:12]
        self._out = array("i", [0, 0, 0])

    def _calibrate(self):
        r = self._raw
        self.i2c.readfrom_mem_into(self.addr, _ID, self._buf[:1])
        if r[0] != _CHIP_ID:
            self.bad += 1
            self.ident = "chip=0x%02x" % r[0]
            return
        self.i2c.readfrom_mem_into(self.addr, _CALIB_TP, self._buf[:26])
        self.i2c.readfrom_mem_into(self.addr, _CALIB_H, self._buf[26:33])

        def u16(i):
            return r[i] | r[i + 1] << 8

        def s16(i):
            v = u16(i)
            return v - 65536 if v & 0x8000 else v

        e4, e5, e6 = r[29], r[30], r[31]
        h4 = (e4 << 4) | (e5 & 0x0F)
        h5 = (e6 << 4) | (e5 >> 4)
        self.cal = array("i", [
            u16(0), s16(2), s16(4),                                     # T1 T2 T3
            u16(6), s16(8), s16(10), s16(12), s16(14), s16(16), s16(18), s16(20), s16(22),
            r[25], s16(26), r[28],                                      # H1 H2 H3
            h4 - 4096 if h4 & 0x800 else h4, h5 - 4096 if h5 & 0x800 else h5,
            r[32] - 256 if r[32] & 0x80 else r[32]])                   # H4 H5 H6
        self.ident = "chip=0x60"

    def start(self):
        self._request()
        try:
            if self.cal is None:
                self._calibrate()
            if self.cal is not None:
                self.i2c.writeto_mem(self.addr, _CTRL_HUM, self._hum)
                self.i2c.writeto_mem(self.addr, _CTRL_MEAS, self._meas)
                self._armed = True
        except OSError:
            pass
        return self._wait

    def poll(self):
        if not self._armed:
            return False
        d = self._raw
        try:
            self.i2c.readfrom_mem_into(self.addr, _STATUS, self._data)
        except OSError:
            return False
        if d[0] & 0x08 or d[1] & 0x03:
            return False  # still measuring (forced mode returns to sleep when done)
        self._armed = False
        adc_p = d[4] << 12 | d[5] << 4 | d[6] >> 4
        adc_t = d[7] << 12 | d[8] << 4 | d[9] >> 4
        adc_h = d[10] << 8 | d[11]
        if adc_t == _SKIPPED or adc_p == _SKIPPED or adc_h == 0x8000:
            return False  # no measurement yet
        if not compensate(self.cal, adc_t, adc_p, adc_h, self._out):
            self.bad += 1
            return False
        if self._warming():
            return False
        v = self.values
        o = self._out
        v[0] = o[0]
        v[1] = o[1]
        v[2] = o[2]
        return self._take()
