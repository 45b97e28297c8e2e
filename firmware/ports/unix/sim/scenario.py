# The simulated world the sensor simulators measure: air quantities over (virtual) time.
#
#     from sim.scenario import Scenario
#     sc = Scenario(pm25=35.0, t_c=-12.0, rh=80.0, so2_ppb=40.0, seed=3)   # constants
#     sc = Scenario.load("winter.json")                                    # a table over time
#     sc.value("pm25")        # true value now (world clock), interpolated linearly
#     r = sc.rand("pms5003")  # a seeded noise source for one sensor
#
# Quantities: pm1 pm25 pm10 [ug/m3], t_c [degC], rh [%], p_hpa [hPa], so2_ppb no2_ppb [ppb]. A quantity
# not given takes its default (pm1 = 0.7 * pm25 and pm10 = 1.5 * pm25 when only pm25 is given).
# JSON table: {"seed": 3, "noise": 0.03, "loop": false, "start": 1795813200,
#              "t": [0, 3600, 7200], "pm25": [8, 60, 12], "so2_ppb": [2, 150, 5], "t_c": -15}
# "t" is seconds since the scenario starts ("start", Unix seconds, or the world clock when the
# Scenario is made); each quantity is a list as long as "t" or one constant. After the last
# row values hold (or repeat, with "loop": true). "noise" is the relative standard deviation
# the simulators use for sensor noise (their absolute noise, e.g. 0.02 degC for the SHT3x, is
# documented at the default 0.03 and scales with it; 0 makes a noiseless sensor).
# Runs on the unix port (world clock time.world_us()) and on CPython (wall clock, or `clock`).
import json
import time

from .rand import Rand

QUANTITIES = ("pm1", "pm25", "pm10", "t_c", "rh", "p_hpa", "so2_ppb", "no2_ppb")
DEFAULT_NOISE = 0.03
DEFAULTS = {"pm25": 10.0, "t_c": 20.0, "rh": 50.0, "p_hpa": 1013.25, "so2_ppb": 0.0, "no2_ppb": 0.0}


def now_us():
    w = getattr(time, "world_us", None)
    return w() if w is not None else time.time_ns() // 1000


class Scenario:
    def __init__(self, seed=1, noise=DEFAULT_NOISE, start=None, t=None, loop=False, clock=now_us,
                 **values):
        for k in values:
            if k not in QUANTITIES:
                raise ValueError("scenario: unknown quantity %r; use one of %s"
                                 % (k, ", ".join(QUANTITIES)))
        self.seed = seed
        self.noise = noise
        self.loop = loop
        self.clock = clock
        self.t = [float(x) for x in t] if t is not None else None
        if self.t is not None and any(b <= a for a, b in zip(self.t, self.t[1:])):
            raise ValueError("scenario: \"t\" must increase from row to row")
        self._v = {}
        for k, v in values.items():
            if isinstance(v, (list, tuple)):
                if self.t is None or len(v) != len(self.t):
                    raise ValueError("scenario: %s has %d values but \"t\" has %s; give one per "
                                     "row or a single constant" % (k, len(v), len(self.t or ())))
                v = [float(x) for x in v]
            else:
                v = float(v)
            self._v[k] = v
        self.start_us = int(start * 1000000) if start is not None else clock()
        self._at = None  # world time of the last row lookup, and its answer
        self._if = (0, 0.0)

    @classmethod
    def load(cls, path):
        with open(path) as f:
            d = json.load(f)
        return cls(**d)

    def value(self, name, t_us=None):
        """The true value of a quantity at world time t_us (default: now)."""
        v = self._v.get(name)
        if v is None:
            if name == "pm1" and "pm25" in self._v:
                return 0.7 * self.value("pm25", t_us)
            if name == "pm10" and "pm25" in self._v:
                return 1.5 * self.value("pm25", t_us)
            if name == "pm1":
                return 0.7 * DEFAULTS["pm25"]
            if name == "pm10":
                return 1.5 * DEFAULTS["pm25"]
            return DEFAULTS[name]
        if isinstance(v, float):
            return v
        i, f = self._row(self.clock() if t_us is None else t_us)
        return v[i] if f == 0.0 else v[i] + (v[i + 1] - v[i]) * f

    def _row(self, t_us):
        """(row i, fraction f of the way to row i + 1) at world time t_us; the last answer is
        kept, as every simulator asks about the same moment, and the next row is looked for
        first, as time moves forward."""
        if t_us == self._at:
            return self._if
        s = (t_us - self.start_us) / 1000000
        t = self.t
        if self.loop and s > t[-1]:
            s = t[0] + (s - t[0]) % (t[-1] - t[0]) if t[-1] > t[0] else t[0]
        if s <= t[0]:
            r = (0, 0.0)
        elif s >= t[-1]:
            r = (len(t) - 1, 0.0)
        else:
            i = self._if[0]
            if not t[i] <= s:
                i = 0
            while t[i + 1] < s:  # forward from the last row (from the start after a loop)
                i += 1
            r = (i, (s - t[i]) / (t[i + 1] - t[i]))
        self._at = t_us
        self._if = r
        return r

    def rand(self, tag):
        """A noise source for one simulated sensor, fixed by the seed and the tag."""
        h = self.seed
        for c in tag:
            h = (h * 31 + ord(c)) & 0xFFFFFFFF
        return Rand(h)

    def jitter(self, rand, x, rel=None):
        """x with relative Gaussian noise (scenario noise unless rel is given), never negative."""
        y = x * (1.0 + (self.noise if rel is None else rel) * rand.gauss())
        return y if y > 0 else 0.0

    def wobble(self, rand, sigma):
        """Absolute noise: sigma at the default noise (0.03), scaled with this scenario's."""
        return sigma * self.noise / DEFAULT_NOISE * rand.gauss()
