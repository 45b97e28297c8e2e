"""The simulated world's clock, as the node notes it: the time shim (firmware/ports/unix/time.py)
writes ``clock`` every simulated minute and at a reset: world time, the RTC's offset from it, the
reset event the firmware made (machine.reset(), the watchdog, deep sleep, a brownout) and the
watchdog as it stood (it outlives a soft reset)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

POWER_ON_RTC = 946684800  # an ESP32's RTC after power-on reads 2000-01-01 until NTP or the host sets it


@dataclass
class Note:
    world_us: int
    rtc_offset_us: int  # the node's clock minus world time
    event: str  # "" when the node noted none
    wdt: str | None  # "timeout_us fed_us" of the armed watchdog, None when not armed


class WorldClock:
    def __init__(self, path: Path, start: int | None):
        self.path = Path(path)
        self.world = int(time.time()) if start is None else int(start)  # [Unix s] where a start begins
        self._seen = 0

    def read(self) -> Note | None:
        try:
            w, off, *rest = self.path.read_text().split()
            wdt = " ".join(rest[1:3]) if len(rest) >= 3 and rest[1] != "0" else None
            return Note(int(w), int(off), rest[0] if rest and rest[0] != "-" else "", wdt)
        except (OSError, ValueError):
            return None

    def clear(self) -> None:
        self.path.unlink(missing_ok=True)

    def now(self) -> int:
        """The world's time [Unix s] as the node last noted it."""
        n = self.read()
        if n:
            self._seen = max(self._seen, n.world_us // 1000000)
        return max(self._seen, self.world)
