# What every sensor driver shares: the counters, warm-up and "missing" bookkeeping of the driver
# contract (docs/dev.md), and for UART sensors the receive loop and a resynchronising framer.
#
# Subclasses set TYPE, CHANNELS, SCALE, WARMUP_MS and implement their protocol:
#   Sensor        I2C drivers implement start() and poll() themselves, calling _take() on a reading.
#   UartSensor    implements poll(); a subclass implements _push(byte) -> True on a new reading.
#   FrameSensor   framing for protocols with a header byte and a length known from the first bytes:
#                 a subclass implements _need(f, k) and _accept(f, n); bytes that fail are rescanned
#                 for the next header, so a false header in garbage never hides the real frame.
# Nothing here allocates per byte or per frame: buffers are made in __init__, values are integers.
from array import array

import time

try:
    from micropython import const
except ImportError:  # CPython imports drivers for host-side checks (tests/firmware/test_bme280.py)
    def const(x):
        return x

_RX = const(64)  # bytes taken from the UART per readinto


class Sensor:
    TYPE = None
    CHANNELS = ()
    SCALE = ()
    WARMUP_MS = 0
    on_checksum = None  # a tool (tynys decode) may set a function(computed, sent) per failed checksum

    def __init__(self, model, warmup_ms):
        self.model = model
        self.values = array("i", [0] * len(self.CHANNELS))
        self.frames = 0    # valid readings
        self.bad = 0       # rejected: checksum, CRC, format, impossible values
        self.replies = 0   # command replies and other valid frames that carry no reading
        self.warming = 0   # readings discarded in warm-up, and the sensor's own "not ready yet"
        self.missing = 0   # start() calls after warm-up whose request brought no valid reading
        self.noise = 0     # bytes that belonged to no frame (UART)
        self.state = None  # last status/error code the sensor reported
        self.ident = None  # identity string ("fw=151", "sn=...") once known
        self.warmup_ms = self.WARMUP_MS if warmup_ms is None else warmup_ms
        self._pending = 0  # 1: asked, no reading yet; 2: asked during warm-up
        self.woke()

    def woke(self):
        """Restart the warm-up clock (the sensor was just powered or woken)."""
        self._t0 = time.ticks_ms()
        self._warm = self.warmup_ms <= 0

    def _request(self):
        """Book-keeping for start(): the previous request that brought nothing is missing,
        unless it was made during warm-up (its reading would have been discarded anyway): a
        duty-cycled sensor warming up after each wake is expected, not a fault."""
        if self._pending == 1:
            self.missing += 1
        warm = self._warm or time.ticks_diff(time.ticks_ms(), self._t0) >= self.warmup_ms
        self._pending = 1 if warm else 2

    def _warming(self):
        """True (and counted) while a reading must be discarded because of warm-up."""
        if self._warm:
            return False
        if time.ticks_diff(time.ticks_ms(), self._t0) >= self.warmup_ms:
            self._warm = True  # checked once: ticks wrap after 12 days
            return False
        self.warming += 1
        return True

    def _take(self):
        """A new valid reading is in values."""
        self.frames += 1
        self._pending = 0
        return True


class UartSensor(Sensor):
    BAUD = 9600

    def __init__(self, bus, model, tx, rx, warmup_ms):
        from . import bus as _bus  # only while constructing: a node unloads it after boot
        Sensor.__init__(self, model, warmup_ms)
        self.uart = _bus.uart(self.TYPE, bus, self.BAUD, tx, rx)
        self._rx = bytearray(_RX)
        self._pos = 0
        self._end = 0

    def _send(self, cmd):
        self.uart.write(cmd)

    def poll(self):
        """Parse what is waiting; True as soon as values holds a new valid reading.

        Bytes after that reading stay buffered: call again until it returns False.
        """
        rx = self._rx
        while True:
            if self._pos >= self._end:
                n = self.uart.any()
                if not n:
                    return False
                n = self.uart.readinto(rx, n if n < _RX else _RX)
                if not n:
                    return False
                self._pos = 0
                self._end = n
            while self._pos < self._end:
                b = rx[self._pos]
                self._pos += 1
                if self._push(b):
                    return True

    def flush(self):
        """Drop bytes waiting on the bus (stale frames after a long pause)."""
        while self.uart.any():
            self.uart.readinto(self._rx, _RX)
        self._pos = self._end = 0
        self._reset()

    def _reset(self):
        pass

    def _push(self, b):
        raise NotImplementedError


class FrameSensor(UartSensor):
    FRAME = 32  # longest frame

    def __init__(self, bus, model, tx, rx, warmup_ms):
        UartSensor.__init__(self, bus, model, tx, rx, warmup_ms)
        self._f = bytearray(self.FRAME)
        self._k = 0

    def _reset(self):
        self._k = 0

    def _push(self, b):
        f = self._f
        k = self._k
        f[k] = b
        k += 1
        got = False
        while k:
            n = self._need(f, k)  # -1: no frame starts at f[0]; 0: need more; n: complete
            if n == 0:
                break
            if n > 0:
                # 1 new reading; 0 consumed (reply, warming, rejected content); -1 not a frame
                r = self._accept(f, n)
                if r >= 0:
                    # A rescan can find a short frame (a reply) with bytes after it: those may
                    # begin the next frame, so they stay (a complete one is taken with the
                    # next byte; after a reading the caller must see values first).
                    for i in range(n, k):
                        f[i - n] = f[i]
                    k -= n
                    if r > 0:
                        got = True
                        break
                    continue
                self.bad += 1
            else:
                self.noise += 1
            for i in range(1, k):  # drop f[0] and look for a header in what is left
                f[i - 1] = f[i]
            k -= 1
        self._k = k
        return got

    def _need(self, f, k):
        raise NotImplementedError

    def _accept(self, f, n):
        raise NotImplementedError
