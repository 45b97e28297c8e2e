# Deterministic pseudo-random numbers that are the same on MicroPython and CPython for a seed
# (xorshift32, Marsaglia 2003), so a simulated run can be replayed on either interpreter (the
# normal deviates go through the C library's log, sin and cos: equal to the last bit or so).
import math


class Rand:
    def __init__(self, seed=1):
        self.s = (seed * 2654435761 + 1) & 0xFFFFFFFF or 0x9E3779B9
        self._spare = None

    def next(self):
        x = self.s
        x ^= (x << 13) & 0xFFFFFFFF
        x ^= x >> 17
        x ^= (x << 5) & 0xFFFFFFFF
        self.s = x
        return x

    def uniform(self):
        """[0, 1)"""
        return self.next() / 4294967296.0

    def below(self, n):
        return self.next() % n

    def chance(self, p):
        return p > 0 and self.uniform() < p

    def gauss(self):
        """N(0, 1) by the Box-Muller transform: two uniforms make two normals, the second kept
        for the next call (a sum of uniforms took six times as long: the simulators draw one
        per value they send)."""
        g = self._spare
        if g is not None:
            self._spare = None
            return g
        r = math.sqrt(-2.0 * math.log(1.0 - self.uniform()))  # 1 - u: never log(0)
        a = 6.283185307179586 * self.uniform()
        self._spare = r * math.sin(a)
        return r * math.cos(a)

    def bytes(self, n):
        return bytes(self.next() & 0xFF for _ in range(n))
