"""Host time at the edges: int seconds since 1970 UTC inside, ISO 8601 and ``10m``-style
durations where people read or type them.

    >>> iso(1795813200)
    '2026-11-27T21:00:00Z'
    >>> parse_time("2026-11-27T21:00Z")
    1795813200
    >>> parse_duration("1h30m")
    5400
"""

from __future__ import annotations

import re
from datetime import datetime, timezone

from .errors import TynysError

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_DURATION = re.compile(r"(\d+)([smhdw])")


def iso(t: int | float | None) -> str | None:
    """``2026-11-27T21:00:00Z`` (UTC, whole seconds); None stays None."""
    if t is None:
        return None
    try:
        return datetime.fromtimestamp(int(t), timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    except (ValueError, OverflowError, OSError):  # beyond years 1..9999: a wrong clock, still printable
        return f"{int(t)} s (Unix time outside years 1..9999)"


def parse_time(text: str) -> int:
    """Seconds since 1970 UTC from ``2026-05-01``, ``2026-05-01T08:00``, ``…Z``/``+05:00`` or an integer."""
    text = text.strip()
    if re.fullmatch(r"\d{9,}", text):
        return int(text)
    try:
        dt = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise TynysError(f"cannot read time {text!r}: use ISO 8601 such as 2026-05-01 or 2026-05-01T08:00Z (UTC unless an offset is given)") from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return int(dt.timestamp())


def parse_duration(text: str) -> int:
    """Seconds from ``600``, ``10m``, ``1h30m``, ``366d``, ``2w``."""
    text = text.strip().lower()
    if text.isdigit():
        return int(text)
    parts = _DURATION.findall(text)
    if not parts or "".join(n + u for n, u in parts) != text:
        raise TynysError(f"cannot read duration {text!r}: use seconds or a number with s/m/h/d/w, e.g. 600, 10m, 1h30m, 366d")
    return sum(int(n) * _UNITS[u] for n, u in parts)
