# Deterministic pseudo-random numbers that are the same on MicroPython and CPython for a seed
# (xorshift32, Marsaglia 2003), so a simulated run can be replayed on either interpreter.


class Rand:
    def __init__(self, seed=1):
        self.s = (seed * 2654435761 + 1) & 0xFFFFFFFF or 0x9E3779B9

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
        """About N(0, 1): the Irwin-Hall sum of 12 uniforms minus 6 (bounded at +-6)."""
        s = 0.0
        for _ in range(12):
            s += self.uniform()
        return s - 6.0

    def bytes(self, n):
        return bytes(self.next() & 0xFF for _ in range(n))
