# Sensor slots: a configured driver (docs/dev.md, driver contract) on its bus, when to ask it,
# when it sleeps, and the window statistics it feeds.
#
#     slot = node.wiring.slot("pm", cfg["sensors"]["pm"], board)   # at boot
#     slot.service(now_ms)          # every pass of the scheduler: ask when due, take readings
#     slot.window_start(end_tick, window_s)   # plan the sleep/wake of a duty-cycled sensor
#     slot.counts()                 # (frames, bad, warmup, missing) of the window, for the record
#     slot.window_end()             # reset for the next window
import time
from micropython import const
from node.stats import Stats
from node import ConfigError
from node.drivers.base import UartSensor

_MIN_OFF_S = const(60)  # sleeping less than this between samples is not worth the wear
_RETRY_MS = const(60000)  # a sensor that did not answer at boot is looked for again this often
_POLL_MS = const(1000)  # longest pause between polls of an awake sensor (UART buffers fill)
# Asked and waiting: an I2C sensor converts in a few ms; a UART sensor's frame takes its own time
# (a PMS in active mode sends every 0.2-2.3 s), and its bytes wait in the UART's buffer meanwhile.
_I2C_WAIT_MS = const(20)
_UART_WAIT_MS = const(200)


class Slot:
    def __init__(self, name, cls, bus, kw, every_ms, sample_ms, gate, ident, where):
        # node.wiring.slot() works these out from config.json and the board file.
        self.name = name
        self.where = where
        self.type = cls.TYPE
        self.model = kw.get("model")
        self._make = (cls, bus, kw)  # builds the driver (again, if it did not answer at first)
        self.every_ms = every_ms
        self.sample_ms = sample_ms
        self.gate = gate  # (Pin, level that powers the sensor) or None
        self.channels = cls.CHANNELS
        self.scale = getattr(cls, "SCALE", ())  # the ISB sets its own per instance
        self.warmup_ms = getattr(cls, "WARMUP_MS", 0)
        self.ident = ident  # the config's "id", else what the driver learns (firmware byte, serial)
        self._id = ident
        self.state = None
        self.stats = Stats(len(cls.CHANNELS))
        self.drv = None
        self.error = None  # why the sensor did not answer (it is tried again every minute)
        self.awake = True
        self.due = self.ready = self.wake_at = time.ticks_ms()
        self.pending = False  # asked, reading not yet taken
        self._base = [0, 0, 0]  # driver bad/warming/missing at the window start
        self.gaps = 0  # failed attempts to reach a sensor that did not answer at boot
        self._connect(self.due)

    def _connect(self, now):
        # Build the driver. A bad option is the config's fault (ConfigError at boot); a device
        # that does not answer is the world's: count it missing and try again later.
        cls, bus, kw = self._make
        try:
            d = cls(bus, **kw)
        except ValueError as e:
            raise ConfigError("%s: %s" % (self.where, e))
        except OSError as e:
            if self.error is None:
                from node import log

                log("%s: %s does not answer (%s); counted as missing, trying again every minute" % (
                    self.name, self.type, e))
            self.error = e
            self.gaps += 1
            self.due = time.ticks_add(now, _RETRY_MS)
            return
        self.drv = d
        self.error = None
        self.scale = d.SCALE
        self.warmup_ms = d.warmup_ms
        if self.model is None:
            self.model = getattr(d, "model", None)
        self._base[0] = d.bad
        self._base[1] = d.warming
        self._base[2] = d.missing

    def window_start(self, end_tick, window_s):
        """A window began: a duty-cycled sensor sleeps until sample + warm-up before its end
        (when that leaves it a minute or more asleep); any other sensor stays awake."""
        now = time.ticks_ms()
        on = self.sample_ms + self.warmup_ms
        if self.sample_ms and window_s * 1000 - on >= _MIN_OFF_S * 1000:
            self.wake_at = time.ticks_add(end_tick, -on)
            if self.awake and time.ticks_diff(self.wake_at, now) > 0:
                self._power(False, now)
        elif not self.awake:
            self._power(True, now)

    def _power(self, on, now):
        d = self.drv
        if d is None:
            return
        if hasattr(d, "sleep"):
            d.wake() if on else d.sleep()  # wake() restarts the driver's warm-up
        else:
            self.gate[0].value(self.gate[1] if on else 1 - self.gate[1])
            if on:
                d.woke()
                d.configure()  # a power-cycled sensor forgets its mode
        self.awake = on
        self.due = now
        self.pending = False

    def service(self, now):
        """One pass: ask the sensor when due, take every reading waiting. Allocates nothing."""
        d = self.drv
        if d is None:
            if time.ticks_diff(now, self.due) >= 0:
                self._connect(now)
            return
        if not self.awake:
            if time.ticks_diff(now, self.wake_at) < 0:
                return
            self._power(True, now)
        if time.ticks_diff(now, self.due) >= 0:
            self.due = time.ticks_add(self.due, self.every_ms)  # a steady period, no drift
            if time.ticks_diff(now, self.due) >= 0:
                self.due = time.ticks_add(now, self.every_ms)  # fell behind: start afresh
            self.ready = time.ticks_add(now, d.start())
            self.pending = True
        if time.ticks_diff(now, self.ready) < 0:
            return
        for _ in range(8):  # readings waiting (a UART sensor may have sent several)
            if not d.poll():
                break
            self.stats.add(d.values)
            self.pending = False
        self.state = d.state

    def next_ms(self, now):
        """How long the scheduler may sleep as far as this sensor is concerned."""
        if self.drv is None:
            return time.ticks_diff(self.due, now)
        if not self.awake:
            return time.ticks_diff(self.wake_at, now)
        if self.pending:  # asked: look again soon
            return max(time.ticks_diff(self.ready, now), _UART_WAIT_MS if isinstance(self.drv, UartSensor) else _I2C_WAIT_MS)
        return min(time.ticks_diff(self.due, now), _POLL_MS)

    def counts(self):
        """(frames, bad, warmup, missing) of this window; called when its record is built."""
        d = self.drv
        if d is None:
            return (0, self.stats.out, 0, self.gaps)
        if self._id is None:
            self.ident = d.ident  # a PMS names its firmware only in its frames
        return (self.stats.n, d.bad - self._base[0] + self.stats.out,
                d.warming - self._base[1], d.missing - self._base[2] + self.gaps)

    def window_end(self):
        d = self.drv
        if d is not None:
            self._base[0] = d.bad
            self._base[1] = d.warming
            self._base[2] = d.missing
        self.gaps = 0
        self.stats.reset()
