# Plantower PMS5003 / PMS7003 / PMSA003 / PMS5003T simulator (UART peer for machine.attach_uart).
#
#     from sim.pms import PMSSim
#     machine.attach_uart(1, PMSSim(scenario, model="pms5003t", faults=Faults(noise=0.1)))
#
# PMSSim(scenario, model="pms5003", faults=None, period_ms=1000, fw=None, wake_ms=1000, unit=None)
#   model      pms5003 | pms7003 | pmsa003 (identical frames) | pms5003t (T/RH instead of the
#              5 and 10 um counts); fw is byte 28 (default 0x97, 0x9A for the 5003T, as in the
#              PyPMS captures)
#   period_ms  active-mode frame interval; wake_ms: silence after a wake command
#   unit       this unit's sensor-model parameters (below), the median unit's where not given
# Commands (7 bytes, checked like the sensor does, bad ones ignored): active / passive mode
# (reply 42 4D 00 04 E1 ...), passive read (a frame, no reply), sleep (reply, then silence),
# wake (no reply; frames again after wake_ms).
# Physics: host/tynys/sim/models/pms5003.json (sources for each parameter): the true dry PM2.5 x
# this unit's gain x Plantower's CF=1 scale (~1.65 for urban aerosol) x the particles' growth
# with water above the deliquescence RH, plus its offset (and, with an age, drift); PM1 and PM10
# from PM2.5 as the sensor reports them (it barely sees coarse particles); ATM = CF1 below ~28,
# 2/3 of it above ~78 ug/m3 (Wallace); particle counts from the PMS5003T capture's ratios.
# `unit` holds one unit's parameters (tynys sim draws them per node); missing ones are the
# median unit's (DEFAULTS). Noise per frame (one for all channels: they come from the same
# scattered light): noise_rel and noise_abs, scaled by the scenario's noise / 0.03 (0: a
# noiseless sensor), then rounded to integers as sent.
# PMS5003T temperature: the air inside is 2 degC warmer than outside; RH follows from the same
# water vapour at that temperature (Magnus formula).
import math

from .aerosol import growth, unit as _unit
from .scenario import DEFAULT_NOISE
from .uart import UartSim, take

# The median unit of host/tynys/sim/models/pms5003.json (a test keeps the two equal).
DEFAULTS = {"scale": 1.65, "gain": 1.0, "offset": 0.0, "kappa": 0.3, "rh_deliquescence": 72.5,
            "pm1_fraction": 0.59, "pm10_extrapolation": 1.12, "coarse_detection": 0.1,
            "atm_knee_cf1": 28.0, "atm_full_cf1": 78.0, "atm_ratio_high": 0.6667, "noise_rel": 0.04,
            "noise_abs": 0.5, "drift_per_year": -0.23, "dust_per_year": 0.0, "age_days": 0.0,
            "n03_per_cf1": 104.0}

ACTIVE = b"\x42\x4d\xe1\x00\x01\x01\x71"
PASSIVE = b"\x42\x4d\xe1\x00\x00\x01\x70"
READ = b"\x42\x4d\xe2\x00\x00\x01\x71"
SLEEP = b"\x42\x4d\xe4\x00\x00\x01\x73"
WAKE = b"\x42\x4d\xe4\x00\x01\x01\x74"


def frame(words, length=0x1C):
    """42 4D, length, big-endian words, 16-bit sum."""
    b = bytearray(b"\x42\x4d\x00")
    b.append(length)
    for w in words:
        w &= 0xFFFF
        b.append(w >> 8)
        b.append(w & 0xFF)
    s = sum(b)
    b.append((s >> 8) & 0xFF)
    b.append(s & 0xFF)
    return bytes(b)


def reply(cmd, data):
    """The 8-byte answer to a mode or sleep command."""
    return frame([cmd << 8 | data], 0x04)


def magnus_es(t_c):
    """Saturation vapour pressure over water [hPa] (Magnus, Alduchov & Eskridge 1996)."""
    return 6.1094 * math.exp(17.625 * t_c / (t_c + 243.04))


class PMSSim(UartSim):
    MODELS = {"pms5003": 0x97, "pms7003": 0x97, "pmsa003": 0x97, "pms5003t": 0x9A}
    PAYLOAD = (4, 28)

    def __init__(self, scenario, model="pms5003", faults=None, period_ms=1000, fw=None,
                 wake_ms=1000, unit=None):
        if model not in self.MODELS:
            raise ValueError("PMSSim: unknown model %r; use one of %s"
                             % (model, ", ".join(sorted(self.MODELS))))
        UartSim.__init__(self, scenario, faults, period_ms)
        self.model = model
        self.fw = self.MODELS[model] if fw is None else fw
        self.error = 0
        self.wake_us = wake_ms * 1000
        self.passive = False
        self.unit = u = _unit(DEFAULTS, unit)
        self._zero = u["offset"] + (u["drift_per_year"] + u["dust_per_year"]) * u["age_days"] / 365.25
        self._k_atm = (1.0 - u["atm_ratio_high"]) / (u["atm_full_cf1"] - u["atm_knee_cf1"])

    def _atm(self, x):
        k = x - self.unit["atm_knee_cf1"]
        if k <= 0:
            return x
        return x * (1.0 - min(k * self._k_atm, 1.0 - self.unit["atm_ratio_high"]))

    def _reading(self, t):
        sc = self.scenario
        u = self.unit
        r = self.noise_rand
        rh = sc.value("rh", t)
        pm25 = sc.value("pm25", t)
        g = u["gain"] * u["scale"] * growth(rh, u["kappa"], u["rh_deliquescence"])
        fine = g * pm25 + self._zero
        coarse = sc.value("pm10", t) - pm25
        seen = g * u["coarse_detection"] * coarse if coarse > 0 else 0.0
        if fine < 0:
            fine = 0.0
        f = sc.noise / DEFAULT_NOISE  # the scenario's noise knob
        # one scattering signal: the mass channels and counts share a frame's noise
        fine = fine * (1.0 + u["noise_rel"] * f * r.gauss()) + u["noise_abs"] * f * r.gauss()
        if fine < 0:
            fine = 0.0
        cf = (fine * u["pm1_fraction"], fine, fine * u["pm10_extrapolation"] + seen)
        v = [0] * 12
        for i in range(3):
            v[i] = round(cf[i])
            v[3 + i] = round(self._atm(cf[i]))
        n03 = u["n03_per_cf1"] * fine
        v[6] = round(n03)
        v[7] = round(0.29 * n03)
        v[8] = round(0.068 * n03)
        v[9] = round(0.003 * n03 + 2 * seen)
        v[10] = round(0.5 * seen)
        v[11] = round(0.15 * seen)
        if self.model == "pms5003t":
            tc = sc.value("t_c", t)
            e = magnus_es(tc) * rh / 100
            t_in = tc + 2.0
            rh_in = min(100.0, 100 * e / magnus_es(t_in))
            v[10] = round((t_in + sc.wobble(r, 0.05)) * 10)
            v[11] = round(min(100.0, max(0.0, rh_in + sc.wobble(r, 0.3))) * 10)
        return v

    def _frame(self, v):
        return frame(list(v) + [self.fw << 8 | self.error])

    def _reply(self):
        return reply(0xE1, 0x01)

    def _command(self, data):
        n, c = take(data, b"\x42\x4d", 7)
        if c is None:
            return n
        if sum(c[:5]) != c[5] << 8 | c[6]:
            return 1  # a corrupted command: the sensor ignores it
        self.heard.append(c)
        cmd, d = c[2], c[4]
        if cmd == 0xE1:
            self.passive = d == 0
            self.active = not self.passive
            self.send(reply(0xE1, d))
        elif cmd == 0xE2 and self.passive and not self.asleep:
            self.emit()
        elif cmd == 0xE4 and d == 0:
            self.send(reply(0xE4, 0))
            self.asleep = True
        elif cmd == 0xE4:
            self.asleep = False
            self._next = self.scenario.clock() + self.wake_us  # TX stays low ~1 s after waking
        return 7
