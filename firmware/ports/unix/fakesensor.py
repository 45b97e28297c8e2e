# A fake sensor for the virtual node, following the driver contract (docs/dev.md) without a bus:
# one reading per second of world time, values a plain function of the time, so tests can
# predict every window. Config: {"type": "fake"}, or with "model": "bad10" (every 10th reading
# fails its checksum), "hang" (poll never returns: the watchdog's business) or "hang600" (hangs
# 600 s of world time after it was made). The virtual port registers the type (ports/unix/vnode.py).
from array import array
import time


class Fake:
    TYPE = "fake"
    BUS = None
    CHANNELS = ("pm25", "t_c")
    SCALE = (1, 100)
    WARMUP_MS = 30000

    def __init__(self, bus=None, model=None, warmup_ms=None):
        if model not in (None, "bad10") and not (model or "").startswith("hang"):
            raise ValueError("fake: unknown model '%s'; use bad10, hang, hang<seconds> or none" % model)
        self.model = model
        self.bad_every = 10 if model == "bad10" else 0
        self.hang_at = None
        if model and model.startswith("hang"):
            self.hang_at = time.world_us() // 1000000 + int(model[4:] or 0)
        self.values = array("i", (0, 0))
        self.frames = self.bad = self.replies = self.warming = self.missing = 0
        self.state = 0
        self.ident = "fake-1"
        self.warmup_ms = self.WARMUP_MS if warmup_ms is None else warmup_ms
        self.on = True
        self._last = -1
        self.woke()

    def woke(self):
        self._t0 = time.world_us() // 1000000

    def configure(self):
        pass

    def start(self):
        return 0

    def poll(self):
        if not self.on:
            return False
        s = time.world_us() // 1000000
        if s == self._last:
            return False
        self._last = s
        while self.hang_at is not None and s >= self.hang_at:
            time.sleep_ms(1000)  # stuck, as a driver waiting for a byte that never comes
        if self.bad_every and (s % self.bad_every) == 0:
            self.bad += 1
            return False
        if (s - self._t0) * 1000 < self.warmup_ms:
            self.warming += 1
            return False
        self.frames += 1
        self.values[0] = 10 + s % 7  # pm25 [ug/m3]
        self.values[1] = -431 + (s % 5) * 3  # t_c [0.01 C]
        return True

    def sleep(self):
        self.on = False

    def wake(self):
        self.on = True
        self.woke()
