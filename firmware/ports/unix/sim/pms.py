# Plantower PMS5003 / PMS7003 / PMSA003 / PMS5003T simulator (UART peer for machine.attach_uart).
#
#     from sim.pms import PMSSim
#     machine.attach_uart(1, PMSSim(scenario, model="pms5003t", faults=Faults(noise=0.1)))
#
# PMSSim(scenario, model="pms5003", faults=None, period_ms=1000, fw=None, wake_ms=1000)
#   model      pms5003 | pms7003 | pmsa003 (identical frames) | pms5003t (T/RH instead of the
#              5 and 10 um counts); fw is byte 28 (default 0x97, 0x9A for the 5003T, as in the
#              PyPMS captures)
#   period_ms  active-mode frame interval; wake_ms: silence after a wake command
# Commands (7 bytes, checked like the sensor does, bad ones ignored): active / passive mode
# (reply 42 4D 00 04 E1 ...), passive read (a frame, no reply), sleep (reply, then silence),
# wake (no reply; frames again after wake_ms).
# Physics (simple, documented, plausible):
# - CF=1 reads high against a reference monitor; the inverse of the US-wide correction for
#   PMS5003 (Barkjohn et al. 2021: PM2.5 = 0.524 CF1 - 0.0862 RH + 5.75) gives
#   CF1 = (PM2.5 - 5.75 + 0.0862 RH) / 0.524, and the same ratio for PM1 and PM10.
# - ATM = CF1 up to 30 ug/m3, then 30 + 2/3 (CF1 - 30) (Plantower's ATM curve flattens above
#   ~30; the PyPMS PMS5003T capture has CF1 39 -> ATM 35).
# - counts per 0.1 L from the PyPMS PMS5003T capture ratios: >0.3 um = 105 * PM2.5(CF1),
#   >0.5 = 0.29 of that, >1.0 = 0.068, >2.5 = 0.003 plus 2 per ug/m3 of coarse mass
#   (PM10 - PM2.5), >5 = 0.5 and >10 = 0.15 per ug/m3 of coarse mass.
# - PMS5003T temperature: the air inside is 2 degC warmer than outside; RH follows from the same
#   water vapour at that temperature (Magnus formula).
# - noise: the scenario's relative noise on every value, then rounded to integers as sent.
import math

from .uart import UartSim, take

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
                 wake_ms=1000):
        if model not in self.MODELS:
            raise ValueError("PMSSim: unknown model %r; use one of %s"
                             % (model, ", ".join(sorted(self.MODELS))))
        UartSim.__init__(self, scenario, faults, period_ms)
        self.model = model
        self.fw = self.MODELS[model] if fw is None else fw
        self.error = 0
        self.wake_us = wake_ms * 1000
        self.passive = False

    def _reading(self, t):
        sc = self.scenario
        r = self.noise_rand
        rh = sc.value("rh", t)
        pm25 = sc.value("pm25", t)
        cf25 = max(0.0, (pm25 - 5.75 + 0.0862 * rh) / 0.524)
        k = cf25 / pm25 if pm25 > 0 else 1 / 0.524
        cf1, cf10 = sc.value("pm1", t) * k, sc.value("pm10", t) * k
        cf = [sc.jitter(r, x) for x in (cf1, cf25, cf10)]
        atm = [x if x <= 30 else 30 + (x - 30) * 2 / 3 for x in cf]
        coarse = max(0.0, cf[2] - cf[1])
        n03 = sc.jitter(r, 105 * cf[1])
        counts = [n03, 0.29 * n03, 0.068 * n03, 0.003 * n03 + 2 * coarse, 0.5 * coarse,
                  0.15 * coarse]
        v = [round(x) for x in cf + atm + counts]
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
