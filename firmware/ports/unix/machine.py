# `machine` for the virtual node: an ESP32-shaped API over simulated peripherals.
#
# Shadows the unix port's built-in `machine`. Simulated sensors are attached before the firmware
# runs:
#     import machine
#     machine.attach_uart(1, pms_sim)           # what a UART on bus 1 is wired to
#     machine.attach_i2c(0, 0x44, sht3x_sim)    # a device at address 0x44 on I2C bus 0
#
# A UART peer implements:
#     readinto(buf, n) -> number of bytes copied into buf[0:n] (0 when nothing is waiting);
#                         must not allocate (driver allocation benchmarks run through it)
#     any() -> bytes waiting;   write(buf) -> bytes the driver sent (commands)
# An I2C peer implements:
#     i2c_write(buf, n)            a write transaction of buf[0:n] (register address first)
#     i2c_read_into(buf, n)        a read transaction filling buf[0:n]
#     i2c_write_read(w, wn, r, rn) optional: a register read, the write and the read in one
#                                  transfer (repeated start); without it, the two above in turn
#     (a NACK is raised by the peer as OSError(19), as the ESP32 port does for ENODEV)
#
# Resets (machine.reset, WDT expiry, deepsleep) stop the process at once, like a chip; see _stop.
#
# Pins are checked against the ESP32 rules MicroPython enforces on the chip, so a config that
# names a missing pin fails here as it would on a board. This module lives in the capped heap
# of the virtual node although a board has it in ROM, so it is kept small.
import time
import os

PWRON_RESET = 1
HARD_RESET = 2
WDT_RESET = 3
DEEPSLEEP_RESET = 4
SOFT_RESET = 5

_uarts = {}
_i2c = {}
_NO_DEVICES = {}
_pin_listeners = []
# TYNYS_RESET_CAUSE: "<cause> [<watchdog timeout us> <fed us>]" (the watchdog: see WDT)
_reset_cause = [int(x) for x in (os.getenv("TYNYS_RESET_CAUSE") or "1").split()] + [0, 0]
_scratch = bytearray(66)  # register address + up to 64 data bytes


def attach_uart(uart_id, peer):
    _uarts[uart_id] = peer


def attach_i2c(bus_id, addr, peer):
    _i2c.setdefault(bus_id, {})[addr] = peer


def on_pin(fn):
    """Call fn(pin_id, value) whenever an output pin changes (power gates, SET/RESET lines)."""
    _pin_listeners.append(fn)


def _pin(pin, output=False):
    # ESP32 (WROOM/WROVER) GPIOs: 0-39 without 20, 24, 28-31; 34-39 are inputs only.
    if isinstance(pin, Pin):
        pin = pin.id
    if not 0 <= pin <= 39 or pin in (20, 24, 28, 29, 30, 31):
        raise ValueError("invalid pin")
    if output and pin >= 34:
        raise ValueError("pin can only be input")
    return pin


class Pin:
    IN = 1
    OUT = 3

    def __init__(self, id, mode=-1, pull=-1, value=None):
        self.id = _pin(id, mode in (3, 7))
        self._value = 0
        if value is not None:
            self.value(value)

    def value(self, v=None):
        if v is None:
            return self._value
        v = 1 if v else 0
        if v != self._value:
            self._value = v
            for fn in _pin_listeners:
                fn(self.id, v)

    __call__ = value


class UART:
    def __init__(self, id, baudrate=9600, bits=8, parity=None, stop=1, tx=None, rx=None, **kw):
        if id not in (0, 1, 2):
            raise ValueError("UART(%s) doesn't exist" % (id,))
        if tx is not None:
            _pin(tx, True)
        if rx is not None:
            _pin(rx)
        self.id = id
        p = _uarts.get(id)
        if p is not None and hasattr(p, "opened"):
            p.opened(tx, rx, baudrate)  # the wires and speed decide what a simulated sensor hears

    def any(self):
        p = _uarts.get(self.id)
        return p.any() if p is not None else 0

    def readinto(self, buf, nbytes=-1):
        p = _uarts.get(self.id)
        n = p.readinto(buf, len(buf) if nbytes < 0 else nbytes) if p is not None else 0
        return n if n else None  # a board returns None on timeout with nothing read

    def read(self, nbytes=-1):
        n = self.any() if nbytes < 0 else nbytes
        buf = bytearray(n)
        got = self.readinto(buf, n) if n > 0 else None
        return bytes(buf[:got]) if got else None

    def write(self, buf):
        p = _uarts.get(self.id)
        if p is not None:
            p.write(buf)
        return len(buf)


class I2C:
    def __init__(self, id=0, scl=None, sda=None, freq=400000, timeout=50000):
        if id not in (0, 1):
            raise ValueError("I2C(%s) doesn't exist" % (id,))
        for p in (scl, sda):
            if p is not None:
                _pin(p, True)
        self.id = id

    def _dev(self, addr):
        d = _i2c.get(self.id, _NO_DEVICES).get(addr)  # no {} per call: transfers must not allocate
        if d is None:
            raise OSError(19)  # ENODEV: no ACK from that address
        return d

    def scan(self):
        # as a chip does: an empty write to each address; the ones that ACK are there
        found = []
        for a, d in sorted(_i2c.get(self.id, {}).items()):
            try:
                d.i2c_write(_scratch, 0)
                found.append(a)
            except OSError:
                pass
        return found

    def writeto(self, addr, buf, stop=True):
        self._dev(addr).i2c_write(buf, len(buf))
        return len(buf)

    def readfrom_into(self, addr, buf, stop=True):
        self._dev(addr).i2c_read_into(buf, len(buf))

    def readfrom(self, addr, nbytes, stop=True):
        buf = bytearray(nbytes)
        self._dev(addr).i2c_read_into(buf, nbytes)
        return bytes(buf)

    def writeto_mem(self, addr, memaddr, buf, addrsize=8):
        d = self._dev(addr)
        n = _reg(memaddr, addrsize)
        for i in range(len(buf)):  # copy by index: the shim must not allocate per transfer
            _scratch[n + i] = buf[i]
        d.i2c_write(_scratch, n + len(buf))

    def readfrom_mem_into(self, addr, memaddr, buf, addrsize=8):
        d = self._dev(addr)
        wr = getattr(d, "i2c_write_read", None)
        if wr is not None:
            wr(_scratch, _reg(memaddr, addrsize), buf, len(buf))
            return
        d.i2c_write(_scratch, _reg(memaddr, addrsize))
        d.i2c_read_into(buf, len(buf))

    def readfrom_mem(self, addr, memaddr, nbytes, addrsize=8):
        buf = bytearray(nbytes)
        self.readfrom_mem_into(addr, memaddr, buf, addrsize)
        return bytes(buf)



def _reg(memaddr, addrsize):
    if addrsize == 16:
        _scratch[0] = (memaddr >> 8) & 0xFF
        _scratch[1] = memaddr & 0xFF
        return 2
    _scratch[0] = memaddr & 0xFF
    return 1


class WDT:
    """Watchdog: if not fed within `timeout` ms of virtual time, the node resets as a board does.
    A second WDT(timeout=...) re-arms the same watchdog with the new timeout. The chip has one
    (WDT.timeout [us], 0: not armed; WDT._last: world us when fed last): like the chip's, it
    survives a soft reset (the launcher hands it to the next process with the reset cause) and
    nothing stops it; every Timer stops at a soft reset (a new process has none)."""

    timeout = _reset_cause[1]
    _last = _reset_cause[2]

    def __init__(self, id=0, timeout=5000):
        WDT.timeout = timeout * 1000
        self.feed()

    def feed(self):
        WDT._last = time.world_us()


def _check(now_us):
    if WDT.timeout and now_us - WDT._last > WDT.timeout:
        _stop(WDT_RESET, "watchdog expired")


time.on_advance(_check)


class Timer:
    """A periodic software timer on (virtual) time: enough to feed a watchdog from the REPL."""

    PERIODIC = 1

    def __init__(self, id=-1):
        self._cb = None

    def init(self, mode=1, period=1000, callback=None):
        self._period_us = period * 1000
        self._due = time.world_us() + self._period_us
        if self._cb is None:
            time.on_advance(self._tick)
        self._cb = callback

    def deinit(self):
        self._due = 1e30  # never again, until init()

    def _tick(self, now_us):
        while now_us >= self._due:
            self._due += self._period_us
            self._cb(self)


class RTC:
    def datetime(self, dt=None):
        if dt is None:
            t = time.gmtime()
            # (year, month, day, weekday, hours, minutes, seconds, subseconds)
            return (t[0], t[1], t[2], t[6], t[3], t[4], t[5], 0)
        time.set_rtc(time.mktime((dt[0], dt[1], dt[2], dt[4], dt[5], dt[6], 0, 0)))


def reset_cause():
    return _reset_cause[0]


def _stop(cause, why):
    # A reset stops the chip dead: no finally blocks, no buffered writes. The process kills
    # itself; the launcher (host/tynys/vnode/board.py) reads the event from the clock file and starts
    # the node again with TYNYS_RESET_CAUSE set as the chip reports it, as a board's reset
    # circuit would. PWRON_RESET here is a brownout (the network shim's).
    name = ("", "brownout", "hard", "wdt", "deepsleep", "soft")[cause]
    print("virtual node: %s (reset: %s)" % (why, name))
    time.note(name, (WDT.timeout, WDT._last))
    os.system("kill -9 $PPID")


# Leaving the REPL (Ctrl-D) is a soft reset too: the launcher starts the next process with the
# watchdog as it is now.
__import__("sys").atexit(lambda: time.note("", (WDT.timeout, WDT._last)))


def reset():
    _stop(HARD_RESET, "machine.reset()")


def soft_reset():
    _stop(SOFT_RESET, "machine.soft_reset()")  # a board restarts MicroPython, not the chip


def deepsleep(ms=0):
    time.advance_us(ms * 1000)  # the launcher restarts the node when the world gets there
    _stop(DEEPSLEEP_RESET, "deep sleep for %d ms" % ms)


def unique_id():
    # An ESP32 returns its 6-byte base MAC; TYNYS_UNIQUE_ID gives a virtual node its own (hex).
    return bytes.fromhex(os.getenv("TYNYS_UNIQUE_ID") or "240ac4000001")
