# Nova Fitness SDS011 simulator (UART peer for machine.attach_uart).
#
#     from sim.sds011 import SDS011Sim
#     machine.attach_uart(2, SDS011Sim(scenario, device_id=0x58D9))
#
# SDS011Sim(scenario, faults=None, device_id=0x58D9, period_ms=1000, fw=(18, 11, 16), unit=None)
# Commands (19 bytes AA B4 ... AB with the byte-sum checksum; others ignored, as the sensor does):
# report mode 02 (active / query), query 04, sleep/work 06, firmware 07, working period 08 (the
# sensor then measures for 30 s at the start of every period and sleeps in between). Each setting
# is answered with AA C5 CMD ...; a query is answered with a data frame.
# Physics: host/tynys/sim/models/sds011.json (sources there): true dry PM x this unit's gain x
# the particles' growth with water above the deliquescence RH (it has no dryer), plus its offset;
# its PM10 channel sees part of the coarse mass. `unit`: this unit's parameters (the median
# unit's, DEFAULTS, where not given). Noise scaled by the scenario's noise / 0.03; 0.1 ug/m3
# steps, at most 999.9.
from .aerosol import growth, unit as _unit
from .scenario import DEFAULT_NOISE
from .uart import UartSim, take

# The median unit of host/tynys/sim/models/sds011.json (a test keeps the two equal).
DEFAULTS = {"scale": 1.0, "gain": 1.0, "offset": 0.0, "kappa": 0.3, "rh_deliquescence": 72.5,
            "coarse_detection": 0.6, "noise_rel": 0.05, "noise_abs": 0.3}


def data_frame(pm25, pm10, device_id):
    """AA C0 PM25 PM10 (LE, 0.1 ug/m3) ID CS AB."""
    b = [pm25 & 0xFF, pm25 >> 8, pm10 & 0xFF, pm10 >> 8, device_id >> 8, device_id & 0xFF]
    return bytes([0xAA, 0xC0] + b + [sum(b) & 0xFF, 0xAB])


def reply_frame(cmd, d1, d2, d3, device_id):
    b = [cmd, d1, d2, d3, device_id >> 8, device_id & 0xFF]
    return bytes([0xAA, 0xC5] + b + [sum(b) & 0xFF, 0xAB])


class SDS011Sim(UartSim):
    PAYLOAD = (2, 8)

    def __init__(self, scenario, faults=None, device_id=0x58D9, period_ms=1000, fw=(18, 11, 16),
                 unit=None):
        UartSim.__init__(self, scenario, faults, period_ms)
        self.unit = _unit(DEFAULTS, unit)
        self.device_id = device_id
        self.fw = fw
        self.query = False
        self.period_min = 0
        self._cycle0 = self.scenario.clock()
        self._cycle = -1

    def _reading(self, t):
        sc = self.scenario
        u = self.unit
        r = self.noise_rand
        pm25 = sc.value("pm25", t)
        coarse = sc.value("pm10", t) - pm25
        g = u["gain"] * u["scale"] * growth(sc.value("rh", t), u["kappa"], u["rh_deliquescence"])
        f = sc.noise / DEFAULT_NOISE
        k = 1.0 + u["noise_rel"] * f * r.gauss()  # one frame's noise for both channels
        a = u["noise_abs"] * f * r.gauss()
        out = []
        for x in (g * pm25 + u["offset"], g * (pm25 + u["coarse_detection"] * (coarse if coarse > 0 else 0.0)) + u["offset"]):
            x = x * k + a
            out.append(min(9999, round(x * 10)) if x > 0 else 0)
        return out

    def _frame(self, v):
        return data_frame(v[0], v[1], self.device_id)

    def _reply(self):
        return reply_frame(2, 0, 1 if self.query else 0, 0, self.device_id)

    def _tick(self):
        if self.period_min and not self.query:  # working period: on for the first 30 s
            self._period()
        UartSim._tick(self)

    def _period(self):
        """Working period: awake for the first 30 s of each period, its first frame a frame
        period after the period starts (a function of time, not of when anyone looks)."""
        p = self.period_min * 60000000
        t = self.scenario.clock() - self._cycle0
        k = t // p
        self.asleep = t - k * p >= 30000000
        if not self.asleep and k != self._cycle:
            self._cycle = k
            self._next = self._cycle0 + k * p + self.period_us
        return self._cycle0 + (k + 1) * p + self.period_us  # the next period's first frame

    def quiet_until(self):
        if self.period_min and not self.query and not self._q:
            nxt = self._period()
            return nxt if self.asleep else min(self._next, nxt)
        return UartSim.quiet_until(self)

    def _command(self, data):
        n, c = take(data, b"\xaa\xb4", 19)
        if c is None:
            return n
        if c[18] != 0xAB or sum(c[2:17]) & 0xFF != c[17]:
            return 1
        self.heard.append(c)
        cmd, d1, d2 = c[2], c[3], c[4]
        if cmd == 0x02:
            if d1:
                self.query = d2 == 1
                self.active = not self.query
            self.send(reply_frame(2, d1, 1 if self.query else 0, 0, self.device_id))
        elif cmd == 0x04 and not self.asleep:
            self.emit()
        elif cmd == 0x06:
            if d1:
                self.asleep = d2 == 0
                if not self.asleep:
                    self._next = self.scenario.clock() + self.period_us
            self.send(reply_frame(6, d1, 0 if self.asleep else 1, 0, self.device_id))
        elif cmd == 0x07:
            self.send(reply_frame(7, self.fw[0], self.fw[1], self.fw[2], self.device_id))
        elif cmd == 0x08:
            if d1:
                self.period_min = d2
                self._cycle0 = self.scenario.clock()
                self._cycle = -1
                self.asleep = False
            self.send(reply_frame(8, d1, self.period_min, 0, self.device_id))
        return 19
