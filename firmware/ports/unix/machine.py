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
#     (a NACK is raised by the peer as OSError(19), as the ESP32 port does for ENODEV)
#
# Resets (machine.reset, WDT expiry, deepsleep) stop the process at once, like a chip; see _stop.
#
# Pins are checked against the ESP32 rules MicroPython enforces on the chip, so a config that
# names a missing pin fails here as it would on a board.
import time
import os

PWRON_RESET = 1
HARD_RESET = 2
WDT_RESET = 3
DEEPSLEEP_RESET = 4
SOFT_RESET = 5

# ESP32 (WROOM/WROVER) GPIOs: 6-11 belong to the SPI flash, 20/24/28-31 do not exist,
# 34-39 are input only.
_GPIO = tuple(i for i in range(40) if i not in (20, 24, 28, 29, 30, 31))
_INPUT_ONLY = (34, 35, 36, 37, 38, 39)

_uarts = {}
_i2c = {}
_NO_DEVICES = {}
_pin_listeners = []
_reset_cause = int(os.getenv("TYNYS_RESET_CAUSE") or PWRON_RESET)


def attach_uart(uart_id, peer):
    _uarts[uart_id] = peer


def attach_i2c(bus_id, addr, peer):
    _i2c.setdefault(bus_id, {})[addr] = peer


def on_pin(fn):
    """Call fn(pin_id, value) whenever an output pin changes (power gates, SET/RESET lines)."""
    _pin_listeners.append(fn)


def _check_pin(pin, output=False):
    if isinstance(pin, Pin):
        pin = pin.id
    if pin not in _GPIO:
        raise ValueError("invalid pin")
    if output and pin in _INPUT_ONLY:
        raise ValueError("pin can only be input")
    return pin


class Pin:
    IN = 1
    OUT = 3
    OPEN_DRAIN = 7
    PULL_UP = 2
    PULL_DOWN = 1
    IRQ_RISING = 1
    IRQ_FALLING = 2

    def __init__(self, id, mode=-1, pull=-1, value=None):
        self.id = _check_pin(id, mode in (Pin.OUT, Pin.OPEN_DRAIN))
        self._mode = mode
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
    def __init__(self, id, baudrate=9600, bits=8, parity=None, stop=1, tx=None, rx=None,
                 timeout=0, timeout_char=0, rxbuf=256, **kw):
        if id not in (0, 1, 2):
            raise ValueError("UART(%s) doesn't exist" % (id,))
        if tx is not None:
            _check_pin(tx, True)
        if rx is not None:
            _check_pin(rx)
        self.id = id
        self.baudrate = baudrate

    def _peer(self):
        return _uarts.get(self.id)

    def any(self):
        p = self._peer()
        return p.any() if p is not None else 0

    def readinto(self, buf, nbytes=-1):
        p = self._peer()
        if p is None:
            return None
        n = p.readinto(buf, len(buf) if nbytes < 0 else nbytes)
        return n if n else None  # a board returns None on timeout with nothing read

    def read(self, nbytes=-1):
        p = self._peer()
        if p is None:
            return None
        n = p.any() if nbytes < 0 else nbytes
        if n <= 0:
            return None
        buf = bytearray(n)
        got = p.readinto(buf, n)
        return bytes(buf[:got]) if got else None

    def write(self, buf):
        p = self._peer()
        if p is not None:
            p.write(buf)
        return len(buf)


class I2C:
    def __init__(self, id=0, scl=None, sda=None, freq=400000, timeout=50000):
        if id not in (0, 1):
            raise ValueError("I2C(%s) doesn't exist" % (id,))
        if scl is not None:
            _check_pin(scl, True)
        if sda is not None:
            _check_pin(sda, True)
        self.id = id
        self.freq = freq

    def _dev(self, addr):
        d = _i2c.get(self.id, _NO_DEVICES).get(addr)  # no {} per call: transfers must not allocate
        if d is None:
            raise OSError(19)  # ENODEV: no ACK from that address
        return d

    def scan(self):
        return sorted(_i2c.get(self.id, {}))

    def writeto(self, addr, buf, stop=True):
        self._dev(addr).i2c_write(buf, len(buf))
        return len(buf)

    def readfrom_into(self, addr, buf, stop=True):
        self._dev(addr).i2c_read_into(buf, len(buf))

    def readfrom(self, addr, nbytes, stop=True):
        buf = bytearray(nbytes)
        self.readfrom_into(addr, buf)
        return bytes(buf)

    def writeto_mem(self, addr, memaddr, buf, addrsize=8):
        d = self._dev(addr)
        n = _put_reg(memaddr, addrsize)
        for i in range(len(buf)):  # copy by index: the shim must not allocate per transfer
            _scratch[n + i] = buf[i]
        d.i2c_write(_scratch, n + len(buf))

    def readfrom_mem_into(self, addr, memaddr, buf, addrsize=8):
        d = self._dev(addr)
        d.i2c_write(_scratch, _put_reg(memaddr, addrsize))
        d.i2c_read_into(buf, len(buf))

    def readfrom_mem(self, addr, memaddr, nbytes, addrsize=8):
        buf = bytearray(nbytes)
        self.readfrom_mem_into(addr, memaddr, buf, addrsize)
        return bytes(buf)


SoftI2C = I2C
_scratch = bytearray(66)  # register address + up to 64 data bytes


def _put_reg(memaddr, addrsize):
    if addrsize == 16:
        _scratch[0] = (memaddr >> 8) & 0xFF
        _scratch[1] = memaddr & 0xFF
        return 2
    _scratch[0] = memaddr & 0xFF
    return 1


class WDT:
    """Watchdog: if not fed within `timeout` ms of virtual time, the node resets as a board does."""

    def __init__(self, id=0, timeout=5000):
        self.timeout_us = timeout * 1000
        self._last = time.world_us()
        time.on_advance(self._check)

    def feed(self):
        self._last = time.world_us()

    def _check(self, now_us):
        if now_us - self._last > self.timeout_us:
            _stop(WDT_RESET, "watchdog expired")


class Timer:
    """Software timer driven by (virtual) time, enough for a watchdog feeder or a blink."""

    ONE_SHOT = 0
    PERIODIC = 1

    def __init__(self, id=-1, **kw):
        self._cb = None
        if kw:
            self.init(**kw)

    def init(self, mode=PERIODIC, period=-1, freq=-1, callback=None):
        self._mode = mode
        self._period_us = int(1000000 // freq) if freq > 0 else period * 1000
        self._due = time.world_us() + self._period_us
        if self._cb is None:
            time.on_advance(self._tick)
        self._cb = callback

    def deinit(self):
        self._period_us = -1

    def _tick(self, now_us):
        while self._cb is not None and self._period_us >= 0 and now_us >= self._due:
            self._due += self._period_us
            if self._mode == Timer.ONE_SHOT:
                self._period_us = -1
            self._cb(self)


class RTC:
    def datetime(self, dt=None):
        if dt is None:
            t = time.gmtime()
            # (year, month, day, weekday, hours, minutes, seconds, subseconds)
            return (t[0], t[1], t[2], t[6], t[3], t[4], t[5], 0)
        y, mo, d, _wd, h, mi, s = dt[:7]
        time.set_rtc(time.mktime((y, mo, d, h, mi, s, 0, 0)))


def reset_cause():
    return _reset_cause


_CAUSES = {HARD_RESET: "hard", WDT_RESET: "wdt", DEEPSLEEP_RESET: "deepsleep", SOFT_RESET: "soft"}


def _stop(cause, why):
    # A reset stops the chip dead: no finally blocks, no buffered writes. The process kills
    # itself; the launcher (host/tynys/vnode.py) reads the cause from the clock file and starts
    # the node again with TYNYS_RESET_CAUSE set, as a board's reset circuit would.
    print("virtual node: %s (reset: %s)" % (why, _CAUSES[cause]))
    time.note(_CAUSES[cause])
    os.system("kill -9 $PPID")


def reset():
    _stop(HARD_RESET, "machine.reset()")


def soft_reset():
    _stop(SOFT_RESET, "machine.soft_reset()")


def deepsleep(ms=0):
    time.advance_us(ms * 1000)  # the launcher restarts the node when the world gets there
    _stop(DEEPSLEEP_RESET, "deep sleep for %d ms" % ms)


def idle():
    pass


def unique_id():
    # An ESP32 returns its 6-byte base MAC; TYNYS_UNIQUE_ID gives a virtual node its own (hex).
    return bytes.fromhex(os.getenv("TYNYS_UNIQUE_ID") or "240ac4000001")
