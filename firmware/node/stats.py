# Per-channel window statistics in integers: count, mean, population SD, min, max.
#
#     st = Stats(3)              # three channels
#     st.add(values)             # values: array('i') of raw readings; allocates nothing
#     st.n; s1, s2, lo, hi = st.get(0)   # exact sums (big ints) at window end
#     st.reset()
#
# Why the limbs: an ESP32 small int holds 31 bits. A square of a 16-bit reading is 32 bits, and a
# sum of them over a window more, so every sum is kept as carry-save pairs (lo in [0, 2**29),
# carries counted in the next cell) and a square is split as |x| = h*2**14 + l, so
# x*x = h*h*2**28 + 2*h*l*2**14 + l*l with each partial product below 2**29. Readings must lie
# in (-2**28, 2**28); a reading with a channel outside is not aggregated (`out` counts it).
from array import array
from micropython import const

_C = const(536870912)  # 2**29: carry threshold of a limb
_LIM = const(268435456)  # 2**28: largest magnitude aggregated
_W = const(10)  # cells per channel: s1 lo/hi, l*l lo/hi, 2hl lo/hi, h*h lo/hi, min, max


class Stats:
    def __init__(self, nch):
        self.nch = nch
        self.a = array("i", bytes(4 * _W * nch))
        self.n = 0
        self.out = 0

    def reset(self):
        a = self.a
        for i in range(len(a)):
            a[i] = 0
        self.n = 0
        self.out = 0

    def add(self, v):
        nch = self.nch
        for i in range(nch):
            x = v[i]
            if x >= _LIM or x <= -_LIM:
                self.out += 1
                return False
        a = self.a
        first = self.n == 0
        k = 0
        for i in range(nch):
            x = v[i]
            lo = a[k] + x  # sum
            if lo >= _C:
                lo -= _C
                a[k + 1] += 1
            elif lo < 0:
                lo += _C
                a[k + 1] -= 1
            a[k] = lo
            if x < 0:
                x = -x
            h = x >> 14
            l = x & 0x3FFF
            lo = a[k + 2] + l * l
            if lo >= _C:
                lo -= _C
                a[k + 3] += 1
            a[k + 2] = lo
            lo = a[k + 4] + 2 * h * l
            if lo >= _C:
                lo -= _C
                a[k + 5] += 1
            a[k + 4] = lo
            lo = a[k + 6] + h * h
            if lo >= _C:
                lo -= _C
                a[k + 7] += 1
            a[k + 6] = lo
            x = v[i]
            if first or x < a[k + 8]:
                a[k + 8] = x
            if first or x > a[k + 9]:
                a[k + 9] = x
            k += _W
        self.n += 1
        return True

    def get(self, i):
        """(sum, sum of squares, min, max) of channel i: exact ints, read once per window."""
        a = self.a
        k = i * _W
        return (a[k + 1] * _C + a[k],
                (((a[k + 7] * _C + a[k + 6]) << 28) + ((a[k + 5] * _C + a[k + 4]) << 14)
                 + a[k + 3] * _C + a[k + 2]),
                a[k + 8], a[k + 9])
