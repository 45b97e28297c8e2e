# What every UART sensor simulator shares: the peer protocol of machine.attach_uart (any,
# readinto, write), a receive queue capped like the ESP32's UART buffer, frames emitted on the
# world clock, and the faults of faults.Faults applied to each frame.
#
# A subclass implements:
#   _reading(t_us)        -> the values of one reading from the scenario at world time t_us
#                            (None: nothing to send)
#   _frame(values)        -> the bytes of a data frame carrying them
#   _reply()              -> bytes of a command reply, for the `replies` fault
#   _command(data)        -> bytes it takes from the start of `data` (written command bytes);
#                            it acts on complete commands and returns 0 to wait for more
#   PAYLOAD = (lo, end)   bytes lo..end-1 the `bad` fault may change (end < 0: from the frame's
#                         end; None: no checksum to fail)
# and sets self.active (sends on its own every period_ms) and self.asleep.
#
# What a simulator sends depends on world time and on the commands it hears, never on when its
# reader looks (a real sensor does not know when the host polls): quiet_until() tells the reader
# the world time before which nothing will arrive unless it writes, so the virtual node's link
# (simlink.py) need not ask before then.
from .faults import Faults
from .rand import Rand


def take(data, header, size):
    """A fixed-size command at the start of `data`: (bytes to drop or wait for, command or None).

    Bytes before the header are dropped; (0, None) waits for the rest of a command."""
    i = data.find(header)
    if i < 0:  # keep a last byte that may begin the header
        return len(data) - (1 if data[-1:] == header[:1] else 0), None
    if i:
        return i, None
    if len(data) < size:
        return 0, None
    return size, bytes(data[:size])


NEVER = 0x3FFFFFFFFFFFFFFF  # world time [us] that never comes: quiet until a command


class UartSim:
    RXBUF = 256       # ESP32 MicroPython default UART rx buffer: bytes beyond it are lost
    PAYLOAD = (2, -2)

    def __init__(self, scenario, faults=None, period_ms=1000):
        self.scenario = scenario
        self.faults = faults or Faults()
        self.period_us = period_ms * 1000
        self.rand = Rand(self.faults.seed)
        self.noise_rand = scenario.rand(self.__class__.__name__)
        self.active = True
        self.asleep = False
        self.sent = 0      # frames put on the wire (data and replies)
        self.lost = 0      # bytes lost because the receive buffer was full
        self.heard = []    # commands the sensor understood, as bytes (tests check the wire)
        self._q = bytearray()
        self._cmd = bytearray()
        self._next = self.scenario.clock() + self.period_us
        self._last = None  # last data values (the `stuck` fault repeats them)

    # -- the peer protocol of machine.attach_uart --------------------------------------------
    def any(self):
        self._tick()
        return len(self._q)

    def readinto(self, buf, n):
        self._tick()
        n = min(n, len(self._q))
        if self.faults.split and n:
            n = min(n, 1 + self.rand.below(self.faults.split))
        for i in range(n):
            buf[i] = self._q[i]
        self._q = self._q[n:]
        return n

    def write(self, buf):
        if self.faults.unplugged:
            return
        self._tick()  # frames due by now went out before the sensor heard this
        was = self.sending()
        self._cmd.extend(buf)
        while self._cmd:
            n = self._command(self._cmd)
            if not n:
                break
            self._cmd = self._cmd[n:]
        now = self.scenario.clock()
        if not was and self.sending() and self._next <= now:
            self._next = now + self.period_us  # switched on by a command: a period from now

    def quiet_until(self):
        """World time [us] before which this sensor sends nothing unless it hears a command
        (0: bytes are waiting now)."""
        if self._q:
            return 0
        return self._next if self.sending() else NEVER

    def sending(self):
        """True while the sensor sends frames on its own."""
        return self.active and not self.asleep

    # -- for subclasses ------------------------------------------------------------------------
    def send(self, frame, reading=False):
        """Queue a frame with the faults applied (`reading`: a data frame)."""
        f = self.faults
        if f.unplugged or frame is None:
            return
        out = bytearray()
        if f.noise and self.rand.chance(f.noise):
            out.extend(self.rand.bytes(1 + self.rand.below(f.noise_len)))
        if reading and f.replies and self.rand.chance(f.replies):
            out.extend(self._reply())
        frame = bytearray(frame)
        if reading and f.bad and self.PAYLOAD and self.rand.chance(f.bad):
            lo, end = self.PAYLOAD
            end = end if end > 0 else len(frame) + end
            i = lo + self.rand.below(end - lo)
            frame[i] ^= 1 + self.rand.below(255)
        out.extend(frame)
        self.sent += 1
        room = self.RXBUF - len(self._q)
        if len(out) > room:
            self.lost += len(out) - room
            out = out[:room]
        self._q.extend(out)

    def _tick(self):
        if not self.sending():
            return
        now = self.scenario.clock()
        if now < self._next:
            return
        n = (now - self._next) // self.period_us + 1
        for j in range(min(n, self.RXBUF // 8 + 1)):  # more could not fit the buffer anyway
            self.emit(self._next + j * self.period_us)
        self._next += n * self.period_us

    def emit(self, t_us=None):
        """Send one data frame measured at world time t_us (default now; frozen values with
        the `stuck` fault)."""
        if self.faults.stuck and self._last is not None:
            frame = self._frame(self._last)
        else:
            self._last = self._reading(self.scenario.clock() if t_us is None else t_us)
            frame = self._frame(self._last) if self._last is not None else None
        self.send(frame, reading=True)

    def _reading(self, t_us):
        raise NotImplementedError

    def _frame(self, values):
        raise NotImplementedError

    def _reply(self):
        raise NotImplementedError

    def _command(self, data):
        return len(data)  # a sensor that ignores what it hears
