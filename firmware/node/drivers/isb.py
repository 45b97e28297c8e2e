# Alphasense SO2-B4 / SO2-A4 on an Individual Sensor Board (ISB), read through an ADS1115.
#
#     from node.drivers.isb import ISB
#     so2 = ISB(0, model="so2-b4", scl=22, sda=21, serial="162031256")
#     time.sleep_ms(so2.start())                 # converts WE, then AE
#     while not so2.poll(): time.sleep_ms(so2.adc.conversion_ms)
#     print(so2.values[0] / so2.SCALE[0], "mV WE", so2.values[1] / so2.SCALE[1], "mV AE")
#
# The ISB gives two voltages: OP1 = working electrode (WE, ADS1115 AIN0 by default) and
# OP2 = auxiliary electrode (AE, AIN1). The driver reports both raw, as signed ADC codes with
# SCALE = codes per mV, so a voltage below the ISB's zero is kept (never clipped at zero) and
# the host applies the AAN 803 temperature correction and the certificate's zero offsets and
# sensitivity. Range: PGA +-2.048 V by default (62.5 uV/code, about 0.2 ppb SO2 at 0.3 mV/ppb;
# ISB outputs sit at a few hundred mV, so +-2.048 V leaves room for several ppm); +-6.144 V is
# refused because its step is not a whole number of codes per mV (and the ADS1115 input must stay
# below its 3.3 V supply anyway). A code at full scale (+-32767/-32768) is a saturated input:
# counted as bad. Supply the ISB with 3.5..6.4 V (5 V from the board); the ADS1115 from 3.3 V.
from micropython import const

from .ads1115 import ADS1115
from .base import Sensor

_IDLE = const(0)
_WE = const(1)
_AE = const(2)


class ISB(Sensor):
    TYPE = "isb"
    MODELS = ("so2-b4", "so2-a4")
    CHANNELS = ("we_mv", "ae_mv")
    GAINS_MV = (4096, 2048, 1024, 512, 256)

    def __init__(self, bus, model=None, *, addr=0x48, we=0, ae=1, fsr_mv=2048, rate=128,
                 serial=None, scl=None, sda=None, warmup_ms=None):
        from . import bus as _bus  # only while constructing: a node unloads it after boot
        model = _bus.choose(self.TYPE, "model", model or "so2-b4", self.MODELS)
        _bus.choose(self.TYPE, "ADS1115 address", addr, (0x48, 0x49, 0x4A, 0x4B), "0x%02x")
        _bus.choose(self.TYPE, "fsr_mv (ADS1115 full scale)", fsr_mv, self.GAINS_MV)
        _bus.choose(self.TYPE, "rate", rate, (8, 16, 32, 64, 128, 250, 475, 860))
        _bus.choose(self.TYPE, "we channel", we, (0, 1, 2, 3))
        _bus.choose(self.TYPE, "ae channel", ae, (0, 1, 2, 3))
        if we == ae:
            raise ValueError("isb: we and ae are both AIN%d; wire OP1 (WE) and OP2 (AE) to "
                             "different ADS1115 inputs" % we)
        Sensor.__init__(self, model, warmup_ms)
        self.adc = ADS1115(_bus.i2c(self.TYPE, bus, scl, sda), addr, fsr_mv, rate)
        c = 32768 // fsr_mv
        self.SCALE = (c, c)
        self._ch = (we, ae)
        self._step = _IDLE
        self._we = 0
        self.ident = None if serial is None else "sn=%s" % serial

    def start(self):
        self._request()
        self._begin(_WE)
        return self.adc.conversion_ms

    def _begin(self, step):
        try:
            self.adc.begin(self._ch[step - 1])
            self._step = step
        except OSError:
            self._step = _IDLE

    def poll(self):
        """Reads WE, starts AE (returns False), then reads AE (returns True)."""
        step = self._step
        if step == _IDLE:
            return False
        try:
            r = self.adc.ready()
            if r == 0:
                return False
            if r < 0:
                self.bad += 1
                self._step = _IDLE
                return False
            code = self.adc.read()
        except OSError:
            return False
        if code == 32767 or code == -32768:
            self.bad += 1  # the input is beyond the ADC's range: the value is unknown
            self._step = _IDLE
            return False
        if step == _WE:
            self._we = code
            self._begin(_AE)
            return False
        self._step = _IDLE
        if self._warming():
            return False
        self.values[0] = self._we
        self.values[1] = code
        return self._take()
