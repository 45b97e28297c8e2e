# Peers that replay given bytes instead of simulating a sensor: for the driver benchmarks and
# the zero-allocation tests (UART: Replay; I2C: Registers).
#
#     from sim.replay import Replay
#     p = Replay(bytearray(4096)); p.load(frames, n)   # serve frames[0:n]
#     machine.attach_uart(1, p)
#
# Replay copies byte by byte into the driver's buffer, so it allocates nothing per read (the
# allocation benchmarks measure the driver through it). `chunk` > 0 caps each read (split
# frames); `rewind()` serves the same bytes again.


class Replay:
    def __init__(self, buf, chunk=0):
        self.buf = buf
        self.n = 0
        self.pos = 0
        self.chunk = chunk
        self.written = 0

    def load(self, data, n=None):
        n = len(data) if n is None else n
        for i in range(n):
            self.buf[i] = data[i]
        self.n = n
        self.pos = 0

    def rewind(self):
        self.pos = 0

    def any(self):
        return self.n - self.pos

    def readinto(self, buf, n):
        left = self.n - self.pos
        if n > left:
            n = left
        if self.chunk and n > self.chunk:
            n = self.chunk
        p = self.pos
        b = self.buf
        for i in range(n):
            buf[i] = b[p + i]
        self.pos = p + n
        return n

    def write(self, buf):
        self.written += len(buf)  # commands go nowhere


class Registers:
    """An I2C peer that is a register file: a write sets the register pointer (and, if
    `writable`, stores the bytes after it), a read copies from the pointer on. `width` bytes
    per register (2 for the ADS1115). With `fixed`, every read returns regs[0:n] (a command
    chip like the SHT3x). No allocation per transfer."""

    def __init__(self, regs, width=1, writable=False, fixed=False):
        self.regs = regs
        self.width = width
        self.writable = writable
        self.fixed = fixed
        self.ptr = 0

    def i2c_write(self, buf, n):
        if self.fixed or not n:
            return
        self.ptr = buf[0] * self.width
        if self.writable:
            for i in range(1, n):
                self.regs[self.ptr + i - 1] = buf[i]

    def i2c_read_into(self, buf, n):
        p = 0 if self.fixed else self.ptr
        r = self.regs
        for i in range(n):
            buf[i] = r[p + i]
