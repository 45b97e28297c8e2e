# Alphasense SO2-B4/SO2-A4 on an ISB, read through an ADS1115: simulator of the ADS1115 as the
# I2C peer (machine.attach_i2c at 0x48..0x4B), with the ISB's two outputs on its inputs.
#
#     from sim.isb import ISBSim
#     machine.attach_i2c(0, 0x48, ISBSim(scenario, model="so2-b4"))
#
# ISBSim(scenario, faults=None, model="so2-b4", we=0, ae=1, unit=None)
#   we, ae      ADS1115 inputs wired to OP1 (WE) and OP2 (AE)
#   unit        this cell's and board's parameters (host/tynys/sim/models/isb-so2-b4.json, with
#               their sources): sensitivity_na_ppm, isb_gain_mv_na, we_zero_na, ae_zero_na, we_e,
#               ae_e (board offsets, mV), zero_t_scale, sens_m20, sens_50, no2_cross,
#               noise_ppb_2sigma, zero_drift_ppb_per_year, sens_drift_per_year, age_days; the
#               median cell's (DEFAULTS) where not given. Its calibration sheet (what AAN 803
#               needs) follows from them: tynys.sim.models.sheet.
# ADS1115 (TI SBAS444): config register 1 (OS starts a single-shot conversion; MUX 100..111 =
# AIN0..3 against GND; PGA full scale 6.144..0.256 V; DR 8..860 SPS), conversion register 0
# (int16, big-endian), thresholds 2 and 3. A conversion takes 1/DR of world time; OS reads 0
# until it is done. Inputs beyond full scale saturate at 32767 / -32768.
# Physics: S20 = sensitivity x board gain [mV/ppb]; the sensitivity follows temperature through
# the datasheet's points (-20 degC: sens_m20, 20: 1, 50: sens_50); the WE zero moves with
# temperature as AAN 803's k''T of the model (SO2-B4 [-4, -4, -4, -4, -4, 0, 20, 140, 450] mV,
# SO2-A4 [0, 0, 0, 0, 0, 0, 5, 25, 45] at -30..50 degC, via fablabbcn/smartcitizen-data;
# interpolated, held outside) times this cell's zero_t_scale; NO2 reaches the WE at no2_cross
# times the SO2 response (the datasheet: < -160 %). So
#   WE = we_e + we_zero_na * gain + zero_t_scale * k''T + S(T) * (SO2 + no2_cross * NO2) + drift
#   AE = ae_e + ae_zero_na * gain,
# each with noise of noise_ppb_2sigma / 2 ppb (datasheet, ISB low-noise circuit) x S20, scaled by
# the scenario's noise / 0.03.
# Faults: unplugged (NACK), stuck (frozen voltages); no checksum, so `bad` does not apply.
from .aerosol import unit as _unit
from .i2c import I2CSim
from .scenario import DEFAULT_NOISE

_T = (-30, -20, -10, 0, 10, 20, 30, 40, 50)
K_T = {"so2-b4": (-4, -4, -4, -4, -4, 0, 20, 140, 450), "so2-a4": (0, 0, 0, 0, 0, 0, 5, 25, 45)}
FSR_MV = (6144, 4096, 2048, 1024, 512, 256, 256, 256)
RATES = (8, 16, 32, 64, 128, 250, 475, 860)
# The median cell of host/tynys/sim/models/isb-so2-b4.json (a test keeps the two equal).
DEFAULTS = {"sensitivity_na_ppm": 362.5, "isb_gain_mv_na": 0.8, "we_zero_na": 35.0, "ae_zero_na": 35.0,
            "we_e": 275.0, "ae_e": 280.0, "zero_t_scale": 1.0, "sens_m20": 0.76, "sens_50": 1.025,
            "no2_cross": -1.4, "noise_ppb_2sigma": 5.0, "zero_drift_ppb_per_year": 0.0,
            "sens_drift_per_year": 0.0, "age_days": 0.0}


def _interp(t_c, ts, vs):
    if t_c <= ts[0]:
        return vs[0]
    for i in range(1, len(ts)):
        if t_c <= ts[i]:
            return vs[i - 1] + (vs[i] - vs[i - 1]) * (t_c - ts[i - 1]) / (ts[i] - ts[i - 1])
    return vs[-1]


def k_t(model, t_c):
    return _interp(t_c, _T, K_T[model])


class ISBSim(I2CSim):
    def __init__(self, scenario, faults=None, model="so2-b4", we=0, ae=1, unit=None):
        if model not in K_T:
            raise ValueError("ISBSim: unknown model %r; use one of %s" % (model, ", ".join(K_T)))
        I2CSim.__init__(self, scenario, faults)
        self.model = model
        self.inputs = {we: "we", ae: "ae"}
        self.unit = u = _unit(DEFAULTS, unit)
        age = u["age_days"] / 365.25
        g = u["isb_gain_mv_na"]
        self.s20 = u["sensitivity_na_ppm"] * g / 1000.0 * (1.0 + u["sens_drift_per_year"] * age)
        self.we0 = u["we_e"] + u["we_zero_na"] * g + self.s20 * u["zero_drift_ppb_per_year"] * age
        self.ae0 = u["ae_e"] + u["ae_zero_na"] * g
        self.config = 0x8583  # power-on default
        self.conversion = 0
        self._ptr = 0
        self._done = None
        self._mv = None

    def voltages(self):
        """(WE, AE) in mV now, noise-free."""
        sc = self.scenario
        u = self.unit
        t = sc.value("t_c")
        s = self.s20 * _interp(t, (-20.0, 20.0, 50.0), (u["sens_m20"], 1.0, u["sens_50"]))
        we = self.we0 + u["zero_t_scale"] * k_t(self.model, t) + \
            s * (sc.value("so2_ppb") + u["no2_cross"] * sc.value("no2_ppb"))
        return we, self.ae0

    def _reading(self):
        r = self.noise_rand
        we, ae = self.voltages()
        sd = self.unit["noise_ppb_2sigma"] / 2 * self.s20 * self.scenario.noise / DEFAULT_NOISE
        return we + sd * r.gauss(), ae + sd * r.gauss()

    def _finish(self):
        if self._done is None or self.scenario.clock() < self._done:
            return
        self._done = None
        self.config |= 0x8000
        ch = ((self.config >> 12) & 7) - 4
        name = self.inputs.get(ch)
        if name == "we" or self._mv is None:
            self._mv = self.measure()  # one reading per WE/AE pair
        mv = 0.0 if name is None else self._mv[0 if name == "we" else 1]
        code = round(mv * 32768 / FSR_MV[(self.config >> 9) & 7])
        self.conversion = max(-32768, min(32767, code))

    def i2c_write(self, buf, n):
        self._ack()
        self._finish()
        if n == 0:
            return
        self._ptr = buf[0] & 3
        if n >= 3 and self._ptr == 1:
            w = buf[1] << 8 | buf[2]
            self.config = w & 0x7FFF | (self.config & 0x8000)
            if w & 0x8000 and self._done is None:
                self.config &= 0x7FFF
                self._done = self.scenario.clock() + 1000000 // RATES[(w >> 5) & 7] + 1

    def i2c_read_into(self, buf, n):
        self._ack()
        self._finish()
        v = self.conversion & 0xFFFF if self._ptr == 0 else self.config if self._ptr == 1 else 0
        for i in range(n):
            buf[i] = (v >> 8) & 0xFF if i == 0 else v & 0xFF if i == 1 else 0xFF
