# Fuzz an I2C driver on the unix port (run by tests/firmware/test_fuzz.py):
#     micropython fuzz_i2c.py sht3x|bme280|isb NBYTES SEED
# The peer answers every read with an intact response, a corrupted one, random bytes or a NACK
# and decides, by the protocol's own rule (CRC, config read-back, status bits), whether that
# response carries a reading and which values. After every poll() the driver must have taken a
# reading exactly then, with exactly those values. Prints "OK served readings rejected".
import sys

import machine
from node import drivers
from sim import bme280 as bsim
from sim.rand import Rand
from sim.sht3x import crc8, words

BUS = 0


def fail(msg):
    print("FAIL", msg)
    sys.exit(1)


class Peer:
    def __init__(self, seed):
        self.r = Rand(seed)
        self.served = 0
        self.expect = None  # values the driver must now have taken, or None

    def garble(self, b):
        for _ in range(1 + self.r.below(3)):
            b[self.r.below(len(b))] ^= 1 << self.r.below(8)

    def random_bytes(self, n):
        return bytearray(self.r.bytes(n))


# -- SHT3x -------------------------------------------------------------------------------------
def sht_values(b):
    t = b[0] << 8 | b[1]
    h = b[3] << 8 | b[4]
    # round half up of -45 + 175 t / 65535 and 100 h / 65535, in 0.01 units, exactly
    return [(35000 * t + 65535) // 131070 - 4500, (20000 * h + 65535) // 131070]


class SHTPeer(Peer):
    def i2c_write(self, buf, n):
        self.serial = (buf[0] << 8 | buf[1]) == 0x3780

    def i2c_read_into(self, buf, n):
        self.served += n
        k = self.r.below(10)
        if k == 0:
            raise OSError(19)
        b = words(self.r.below(65536), self.r.below(65536))
        if k < 4:
            self.garble(b)
        elif k < 6:
            b = self.random_bytes(6)
        if not self.serial and crc8(b[0:2]) == b[2] and crc8(b[3:5]) == b[5]:
            self.expect = sht_values(b)
        for i in range(n):
            buf[i] = b[i]


# -- BME280 ------------------------------------------------------------------------------------
REAL = [bsim.CALIBRATION,
        # a second real chip (public issue log): T/P trimming of a BME280 breakout
        dict(bsim.CALIBRATION, T1=27317, T2=25808, T3=50, P1=37912, P2=-10589, P4=6601, P5=-158)]


def ref(c, adc_t, adc_p, adc_h):
    """BME280 datasheet 4.2.3 / 8.2 integer compensation, transcribed as printed."""
    T1, T2, T3, P1, P2, P3, P4, P5, P6, P7, P8, P9, H1, H2, H3, H4, H5, H6 = c
    var1 = (((adc_t >> 3) - (T1 << 1)) * T2) >> 11
    var2 = (((((adc_t >> 4) - T1) * ((adc_t >> 4) - T1)) >> 12) * T3) >> 14
    t_fine = var1 + var2
    T = (t_fine * 5 + 128) >> 8
    var1 = (t_fine >> 1) - 64000
    var2 = (((var1 >> 2) * (var1 >> 2)) >> 11) * P6
    var2 = var2 + ((var1 * P5) << 1)
    var2 = (var2 >> 2) + (P4 << 16)
    var1 = (((P3 * (((var1 >> 2) * (var1 >> 2)) >> 13)) >> 3) + ((P2 * var1) >> 1)) >> 18
    var1 = ((32768 + var1) * P1) >> 15
    a = (1048576 - adc_p) - (var2 >> 12)
    if var1 <= 0 or a < 0:  # the driver's rule: the unsigned C code has no meaningful answer
        return None
    p = a * 3125
    p = (p << 1) // var1 if p < 0x80000000 else (p // var1) * 2
    var1 = (P9 * (((p >> 3) * (p >> 3)) >> 13)) >> 12
    var2 = ((p >> 2) * P8) >> 13
    P = p + ((var1 + var2 + P7) >> 4)
    v = t_fine - 76800
    v = (((((adc_h << 14) - (H4 << 20) - (H5 * v)) + 16384) >> 15) *
         (((((((v * H6) >> 10) * (((v * H3) >> 11) + 32768)) >> 10) + 2097152) * H2 + 8192) >> 14))
    v = v - (((((v >> 15) * (v >> 15)) >> 7) * H1) >> 4)
    v = 0 if v < 0 else 419430400 if v > 419430400 else v
    return [T, v >> 12, P]


def s16(v):
    return v - 65536 if v & 0x8000 else v


class BMEPeer(Peer):
    def __init__(self, seed):
        Peer.__init__(self, seed)
        self.ptr = 0
        self.regs = None
        self.bad = False  # the last data read must be rejected as bad

    def i2c_write(self, buf, n):
        if n == 1:
            self.ptr = buf[0]

    def calibration(self):
        r = bsim.registers(REAL[self.r.below(2)]) if self.r.below(10) < 6 else self.random_bytes(256)
        r[0xD0] = 0x60 if self.r.below(20) else self.r.below(256)
        self.regs = r
        c = [r[0x88] | r[0x89] << 8]
        c += [s16(r[a] | r[a + 1] << 8) for a in (0x8A, 0x8C)]
        c += [r[0x8E] | r[0x8F] << 8]
        c += [s16(r[a] | r[a + 1] << 8) for a in range(0x90, 0xA0, 2)]
        h4 = r[0xE4] << 4 | r[0xE5] & 15
        h5 = r[0xE6] << 4 | r[0xE5] >> 4
        c += [r[0xA1], s16(r[0xE1] | r[0xE2] << 8), r[0xE3], h4 - 4096 if h4 & 0x800 else h4,
              h5 - 4096 if h5 & 0x800 else h5, r[0xE7] - 256 if r[0xE7] & 0x80 else r[0xE7]]
        self.cal = c

    def i2c_read_into(self, buf, n):
        self.served += n
        if self.ptr == 0xD0:
            self.calibration()
        if self.ptr == 0xF3:
            b = self.random_bytes(12)
            if self.r.below(10) < 8:
                b[0] &= 0xF7  # not measuring
                b[1] &= 0xFC  # back in sleep mode
            if self.r.below(20) == 0:
                b[7], b[8], b[9] = 0x80, 0, 0  # "skipped" marker
            adc_p = b[4] << 12 | b[5] << 4 | b[6] >> 4
            adc_t = b[7] << 12 | b[8] << 4 | b[9] >> 4
            adc_h = b[10] << 8 | b[11]
            done = not (b[0] & 8 or b[1] & 3)
            if done and adc_t != 0x80000 and adc_p != 0x80000 and adc_h != 0x8000:
                self.expect = ref(self.cal, adc_t, adc_p, adc_h)
                self.bad = self.expect is None
            for i in range(n):
                buf[i] = b[i]
            return
        for i in range(n):
            buf[i] = self.regs[self.ptr + i]


# -- ISB (ADS1115) -----------------------------------------------------------------------------
class ADSPeer(Peer):
    def __init__(self, seed):
        Peer.__init__(self, seed)
        self.ptr = 0
        self.config = 0
        self.we = None
        self.step = 0  # 1: WE conversion running, 2: AE

    def i2c_write(self, buf, n):
        self.ptr = buf[0] & 3
        if n >= 3 and self.ptr == 1:
            self.config = buf[1] << 8 | buf[2]
            self.step = 1 if (self.config >> 12) & 7 == 4 else 2  # AIN0 = WE, AIN1 = AE
            self.ready = False

    def i2c_read_into(self, buf, n):
        self.served += n
        k = self.r.below(10)
        if k == 0:
            raise OSError(19)
        if self.ptr == 1:
            want = self.config & 0x7FFF
            v = want | 0x8000 if k < 6 else want if k < 8 else self.r.below(65536)
            if v & 0x7FFF != want:
                self.step = 0  # the driver must drop this conversion (bad)
            self.ready = v == want | 0x8000
        else:
            v = self.r.below(65536) if k < 9 else (0x7FFF, 0x8000)[self.r.below(2)]
            code = v - 65536 if v & 0x8000 else v
            if self.ready and code not in (32767, -32768):
                if self.step == 1:
                    self.we = code
                elif self.step == 2:
                    self.expect = [self.we, code]
            else:
                self.step = 0
        buf[0] = v >> 8
        buf[1] = v & 0xFF


def main(name, nbytes, seed):
    addr = {"sht3x": 0x44, "bme280": 0x76, "isb": 0x48}[name]
    peer = {"sht3x": SHTPeer, "bme280": BMEPeer, "isb": ADSPeer}[name](seed)
    machine.attach_i2c(BUS, addr, peer)
    i2c = machine.I2C(BUS)
    d = None
    readings = 0
    rejected = 0
    made = 0
    while peer.served < nbytes:
        if d is None or (name == "bme280" and peer.served // 8192 != made):
            made = peer.served // 8192  # a new BME280 reads a new (random or real) calibration
            rejected += d.bad if d else 0
            d = drivers.create(name, i2c, warmup_ms=0)
        d.start()
        for _ in range(3 if name == "isb" else 1):
            peer.expect = None
            bad0 = d.bad
            got = d.poll()
            if got != (peer.expect is not None):
                fail("%s: poll() %s but the response %s a reading (served %d)"
                     % (name, got, "carried" if peer.expect is not None else "had no", peer.served))
            if got:
                readings += 1
                if list(d.values) != peer.expect:
                    fail("%s: values %s != %s" % (name, list(d.values), peer.expect))
            if name == "bme280" and peer.bad and d.bad != bad0 + 1:
                fail("bme280: a pressure with no answer was not counted as bad")
            if name == "bme280":
                peer.bad = False
    print("OK", peer.served, readings, rejected + d.bad)


main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]))
