# Sensor slots: a configured driver (docs/dev.md, driver contract), its bus, its duty cycle and
# the window statistics it feeds.
#
#     slot = Slot("pm", cfg["sensors"]["pm"], board, buses)   # imports only that driver
#     slot.service(now_ms)          # every pass of the scheduler: poll/ask, aggregate
#     slot.window_start(end_tick)   # a window began; plan the sleep/wake of duty-cycled sensors
#     slot.counts()                 # (frames, bad, warmup, missing) of the window, for the record
#     slot.window_end()             # reset for the next window
import time
from micropython import const
from node.stats import Stats
from node import ConfigError

# type: (module, class, bus, ask every [s] (0: the sensor streams), baud). Sources: docs/dev.md
# driver contract; baud rates from the sensors' datasheets (firmware-anchors.md section 4).
TYPES = {
    "pms5003": ("node.drivers.pms", "PMS5003", "uart", 0, 9600),
    "pms5003t": ("node.drivers.pms", "PMS5003T", "uart", 0, 9600),
    "sds011": ("node.drivers.sds011", "SDS011", "uart", 0, 9600),
    "sps30": ("node.drivers.sps30", "SPS30", "uart", 1, 115200),
    "ze03": ("node.drivers.ze03", "ZE03", "uart", 0, 9600),
    "dgs": ("node.drivers.dgs", "DGS", "uart", 0, 9600),
    "isb": ("node.drivers.isb", "ISB", "i2c", 10, 0),
    "sht3x": ("node.drivers.sht3x", "SHT3x", "i2c", 10, 0),
    "bme280": ("node.drivers.bme280", "BME280", "i2c", 10, 0),
}
_GAP_MS = const(5000)  # a streaming sensor silent this long while awake counts one `missing`
_MIN_OFF_S = const(60)  # sleeping less than this between samples is not worth the wear
_RETRY_MS = const(60000)  # an absent sensor is looked for again this often


def _bus(where, s, board, buses, kind, baud):
    # Pins come from the board file; a slot may override them. One object per bus.
    import machine

    bid = s[kind]
    if bid is None:
        ids = sorted(board[kind])
        if len(ids) != 1:
            raise ConfigError("%s: which %s? add \"%s\": one of %s (board %s)" % (
                where, kind.upper(), kind, ", ".join(ids), board["board"]))
        bid = int(ids[0])
    pins = board[kind].get(str(bid), {})
    names = ("tx", "rx") if kind == "uart" else ("scl", "sda")
    p = [s[n] if s[n] is not None else pins.get(n) for n in names]
    for n, v in zip(names, p):
        if v is None:
            raise ConfigError("%s: no %s pin for %s %d on board %s; add \"%s\": <GPIO> or use %s %s" % (
                where, n, kind.upper(), bid, board["board"], n, kind, " or ".join(sorted(board[kind])) or "-"))
    key = (kind, bid)
    if key in buses:
        return buses[key]
    try:
        if kind == "uart":
            bus = machine.UART(bid, baudrate=baud, tx=p[0], rx=p[1], timeout=0, rxbuf=512)
        else:
            bus = machine.I2C(bid, scl=machine.Pin(p[0]), sda=machine.Pin(p[1]), freq=100000)
    except ValueError as e:
        raise ConfigError("%s: %s %d with %s=%d %s=%d: %s; pick GPIOs this chip has (see boards/%s.json)" % (
            where, kind.upper(), bid, names[0], p[0], names[1], p[1], e, board["board"]))
    buses[key] = bus
    return bus


class Slot:
    def __init__(self, name, s, board, buses, where="config.json.sensors"):
        where = "%s.%s" % (where, name)
        self.where = where
        t = TYPES.get(s["type"])
        if t is None:
            raise ConfigError("%s.type: unknown sensor type \"%s\"; use one of %s" % (
                where, s["type"], ", ".join(sorted(TYPES))))
        self.name = name
        self.type = s["type"]
        self.model = s["model"]
        kw = {}
        if s["model"] is not None:
            kw["model"] = s["model"]
        if s["addr"] is not None:
            kw["addr"] = s["addr"]
        bus = _bus(where, s, board, buses, t[2], t[4]) if t[2] else None
        self.gate = None
        if s["power"] is not None:
            g = board.get("power", {}).get(s["power"])
            if g is None:
                raise ConfigError("%s.power: board %s has no power gate \"%s\"; use one of %s" % (
                    where, board["board"], s["power"], ", ".join(sorted(board.get("power", {}))) or "(none)"))
            import machine

            self.gate = (machine.Pin(g["pin"], machine.Pin.OUT), g.get("on", 1))
            self.gate[0].value(self.gate[1])
        cls = getattr(__import__(t[0], None, None, (t[1],)), t[1])
        self._make = lambda: cls(bus, **kw)
        self.channels = cls.CHANNELS
        self.scale = cls.SCALE
        self.warmup_ms = cls.WARMUP_MS
        self.ident = s["id"]
        self.state = None
        self.stats = Stats(len(cls.CHANNELS))
        self.every_ms = (s["every_s"] if s["every_s"] is not None else t[3]) * 1000
        self.sample_ms = s["sample_s"] * 1000
        self.drv = None
        self.error = None  # why the sensor is absent (it is tried again every minute)
        self.awake = True
        self.woke = self.wake_at = self.due = self.next = self._last = time.ticks_ms()
        self.waiting = False
        self._base = [0, 0, 0]  # driver bad/warming/missing at the window start
        self.warm = 0  # readings the node discarded in warm-up this window
        self.gaps = 0  # node-detected silences (and failed attempts to reach the sensor)
        self.can_sleep = hasattr(cls, "sleep") or self.gate is not None
        if not self.can_sleep:
            self.sample_ms = 0
        self._connect(self.woke)
        self._sum = self._activity()

    def _connect(self, now):
        # Build the driver. A bad option is the config's fault (ConfigError at boot); a device
        # that does not answer is the world's: count it missing and try again later.
        try:
            self.drv = self._make()
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
        d = self.drv
        self.error = None
        if self.ident is None:
            self.ident = d.ident
        self._base[0] = d.bad
        self._base[1] = d.warming
        self._base[2] = d.missing
        self._power(True, now)

    def _activity(self):
        d = self.drv
        if d is None:
            return 0
        return d.frames + d.bad + d.replies + d.warming + d.missing

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
        if hasattr(d, "wake"):
            d.wake() if on else d.sleep()
        else:
            self.gate[0].value(self.gate[1] if on else 1 - self.gate[1])
        self.awake = on
        self.woke = self.due = self._last = now
        self.waiting = False

    def service(self, now):
        """One pass: read what the sensor has, ask it again when due. Allocates nothing."""
        if self.drv is None:
            if time.ticks_diff(now, self.due) >= 0:
                self._connect(now)
            return
        if not self.awake:
            if time.ticks_diff(now, self.wake_at) < 0:
                return
            self._power(True, now)
        d = self.drv
        if self.every_ms:  # asked: start, wait the time it names, read
            if not self.waiting:
                if time.ticks_diff(now, self.due) < 0:
                    return
                self.next = time.ticks_add(self.due, self.every_ms)  # a steady period, no drift
                if time.ticks_diff(now, self.next) >= 0:  # fell behind: start afresh
                    self.next = time.ticks_add(now, self.every_ms)
                self._sum = self._activity()
                self.due = time.ticks_add(now, d.start())
                self.waiting = True
                return
            if time.ticks_diff(now, self.due) < 0:
                return
            self.waiting = False
            if d.poll():
                self._take(now)
            elif self._activity() == self._sum:
                self.gaps += 1
            self.due = self.next
            return
        n = 0  # streaming: take every reading waiting (a few per pass at most)
        while n < 8 and d.poll():
            self._take(now)
            n += 1
        a = self._activity()
        if a != self._sum:
            self._sum = a
            self._last = now
        elif time.ticks_diff(now, self._last) > _GAP_MS:
            self.gaps += 1
            self._last = now

    def _take(self, now):
        if time.ticks_diff(now, self.woke) < self.warmup_ms:
            self.warm += 1
        else:
            self.stats.add(self.drv.values)
        self.state = self.drv.state

    def next_ms(self, now):
        """How long the scheduler may sleep as far as this sensor is concerned."""
        if self.drv is None:
            return time.ticks_diff(self.due, now)
        if not self.awake:
            return time.ticks_diff(self.wake_at, now)
        if self.every_ms:
            return time.ticks_diff(self.due, now)
        return 1000  # a streaming sensor sends about once a second; its UART buffer holds more

    def counts(self):
        d = self.drv
        if d is None:
            return (0, self.stats.out, self.warm, self.gaps)
        return (self.stats.n, d.bad - self._base[0] + self.stats.out,
                d.warming - self._base[1] + self.warm, d.missing - self._base[2] + self.gaps)

    def window_end(self):
        d = self.drv
        if d is not None:
            self._base[0] = d.bad
            self._base[1] = d.warming
            self._base[2] = d.missing
        self.warm = 0
        self.gaps = 0
        self.stats.reset()
