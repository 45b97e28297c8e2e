"""The simulated world's clock, as the node notes it: the time shim (firmware/ports/unix/time.py)
writes ``clock`` every simulated minute and at a reset: world time, the RTC's offset from it, the
reset event the firmware made (machine.reset(), the watchdog, deep sleep, a brownout) and the
watchdog as it stood (it outlives a soft reset)."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

NOTE_S = 60  # the node notes the world's time every simulated minute
POWER_ON_RTC = 946684800  # an ESP32's RTC after power-on reads 2000-01-01 until NTP or the host sets it


@dataclass
class Note:
    world_us: int
    rtc_offset_us: int  # the node's clock minus world time
    event: str  # "" when the node noted none
    wdt: str | None  # "timeout_us fed_us" of the armed watchdog, None when not armed
    speed: int = 0  # world seconds per real second from the note on; 0 while a virtual clock races
    written: float = 0.0  # when the note was written [Unix s, the host's clock]


class WorldClock:
    def __init__(self, path: Path, start: int | None):
        self.path = Path(path)
        self.world = int(time.time()) if start is None else int(start)  # [Unix s] where a start begins
        self._seen = 0

    def read(self) -> Note | None:
        try:
            with open(self.path) as f:
                written = os.fstat(f.fileno()).st_mtime
                w, off, *rest = f.read().split()
            wdt = " ".join(rest[1:3]) if len(rest) >= 3 and rest[1] != "0" else None
            speed = int(rest[3]) if len(rest) >= 4 else 0
            return Note(int(w), int(off), rest[0] if rest and rest[0] != "-" else "", wdt, speed, written)
        except (OSError, ValueError):
            return None

    def clear(self) -> None:
        self.path.unlink(missing_ok=True)

    def now(self) -> int:
        """The world's time [Unix s] as the node last noted it."""
        return self._noted(self.read())

    def _noted(self, n: Note | None) -> int:
        if n:
            self._seen = max(self._seen, n.world_us // 1000000)
        return max(self._seen, self.world)

    def current(self) -> int:
        """The world's time [Unix s] now: the last note, carried on by the real time since it was
        written where the world keeps a pace (real time, a speed factor, after a virtual run's
        end), at most one note's interval. A host's clock for the node's replies: a clock noted
        only each simulated minute would be up to a minute behind, and every reply would step
        the node's clock and cut its window short."""
        n = self.read()
        t = self._noted(n)
        if n and n.speed:
            t = max(t, int(n.world_us / 1e6 + min(max(time.time() - n.written, 0.0) * n.speed, NOTE_S)))
        return t
