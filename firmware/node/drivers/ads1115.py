# Texas Instruments ADS1115 16-bit ADC (I2C 0x48..0x4B), single-shot conversions.
#
#     from node.drivers.ads1115 import ADS1115
#     adc = ADS1115(machine.I2C(0, scl=machine.Pin(22), sda=machine.Pin(21)), fsr_mv=2048)
#     adc.begin(0); time.sleep_ms(adc.conversion_ms)
#     if adc.ready(): print(adc.read() / adc.codes_per_mv, "mV")
#
# Registers (TI SBAS444 9.6): 0 conversion (int16, big-endian), 1 config. Config written for a
# single-ended single-shot conversion: OS=1 | MUX=100+channel | PGA | MODE=1 | DR | comparator off.
# Reading the config back returns OS=1 once the conversion is done; the other bits echo what was
# written, which is checked, so a different chip or a glitch on the bus is not read as a voltage.
# Codes are signed: a negative input reads below zero and is never clipped here.
from micropython import const

_CONVERSION = const(0)
_CONFIG = const(1)
_OS = const(0x8000)
_COMP_OFF = const(0x0003)

FSR_MV = (6144, 4096, 2048, 1024, 512, 256)    # PGA codes 0..5 (full scale, mV)
RATES = (8, 16, 32, 64, 128, 250, 475, 860)    # DR codes 0..7 (samples/s)


class ADS1115:
    def __init__(self, i2c, addr=0x48, fsr_mv=2048, rate=128):
        self.i2c = i2c
        self.addr = addr
        self._bits = FSR_MV.index(fsr_mv) << 9 | 0x0100 | RATES.index(rate) << 5 | _COMP_OFF
        self.codes_per_mv = 32768 / fsr_mv
        self.conversion_ms = 1000 // rate + 2
        self._cfg = bytearray(2)
        self._buf = bytearray(2)
        self._want = 0

    def begin(self, channel):
        """Start a single-shot conversion of AINx against GND."""
        w = _OS | (4 + channel) << 12 | self._bits
        self._want = w & 0x7FFF
        self._cfg[0] = w >> 8
        self._cfg[1] = w & 0xFF
        self.i2c.writeto_mem(self.addr, _CONFIG, self._cfg)

    def ready(self):
        """1 when the conversion is done, 0 while it runs, -1 when the config did not read back."""
        b = self._buf
        self.i2c.readfrom_mem_into(self.addr, _CONFIG, b)
        if (b[0] << 8 | b[1]) & 0x7FFF != self._want:
            return -1
        return 1 if b[0] & 0x80 else 0

    def read(self):
        b = self._buf
        self.i2c.readfrom_mem_into(self.addr, _CONVERSION, b)
        v = b[0] << 8 | b[1]
        return v - 0x10000 if v & 0x8000 else v
