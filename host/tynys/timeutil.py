"""Time on the host, in one place: int64 seconds since 1970 UTC inside; ISO 8601, ``10m``-style
durations, time zones and the timestamps of imported files only at the edges.

    >>> iso(1795813200)
    '2026-11-27T21:00:00Z'
    >>> parse_time("2026-11-27T21:00Z")
    1795813200
    >>> parse_duration("1h30m")
    5400
    >>> parse_times(["2024-01-31 13:00"], tz="+06:00").tolist()
    [1706684400]

Timestamps in files (:func:`parse_times`): those that carry an offset (``2024-01-01T06:00:00+06:00``,
``…Z``) are used as they are. Times without one need a zone from the caller (``tz``): ``UTC``, a
fixed offset (``+06:00``, ``UTC-5``) or an IANA name (``Asia/Almaty``). With an IANA zone, local
times that fall in the hour repeated when daylight saving ends are refused (a local clock cannot
say which one it meant), and so are times that do not exist there (the clock jumped forward: the
logger did not follow daylight saving, so it kept a fixed offset).

A zone also says where local days start: :func:`period_starts` cuts time into hours or days of
the zone's *standard* time, as regulatory daily means are (40 CFR 50 Appendix N: "midnight to
midnight local standard time"; EPA/600/R-20/280 for sensor evaluations): daylight saving is left
out, permanent changes are kept (Asia/Almaty is UTC+06:00 until 2024-03-01, UTC+05:00 after).
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np

from .errors import TynysError

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_DURATION = re.compile(r"(\d+)([smhdw])")


class TimeZoneError(TynysError):
    """Timestamps whose zone is missing or ambiguous: the message names the fix (``--tz``)."""


class TimestampError(TynysError):
    """A timestamp that cannot be read, or names a time that does not exist: the message gives the row."""


def iso(t: int | float | None) -> str | None:
    """``2026-11-27T21:00:00Z`` (UTC, whole seconds); None stays None."""
    if t is None:
        return None
    return datetime.fromtimestamp(int(t), timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


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


TZ_EXAMPLES = "--tz UTC, --tz +06:00 or --tz Asia/Almaty"

_ISO = re.compile(
    r"^\s*(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ](\d{1,2}):(\d{2})(?::(\d{2})(?:\.\d*)?)?)?"
    r"\s*(Z|UTC|[+-]\d{2}(?::?\d{2})?)?\s*$"
)
_SLASH = re.compile(r"^\s*(\d{1,2})/(\d{1,2})/(\d{2,4})(?:\s+(\d{1,2}):(\d{2})(?::(\d{2}))?)?\s*$")
_OFFSET = re.compile(r"^(?:UTC|GMT)?\s*([+-])(\d{1,2})(?::?(\d{2}))?$")


class Zone:
    """A parsed ``--tz``: a fixed offset [s east of UTC] or an IANA zone."""

    def __init__(self, spec: str):
        self.spec = spec.strip()
        self.offset: int | None = None
        self.zone: ZoneInfo | None = None
        s = self.spec
        if s.upper() in ("UTC", "Z", "GMT", "UTC+00:00", "+00:00"):
            self.offset = 0
            return
        m = _OFFSET.match(s.replace(" ", ""))
        if m:
            sign = 1 if m.group(1) == "+" else -1
            self.offset = sign * (int(m.group(2)) * 3600 + int(m.group(3) or 0) * 60)
            return
        try:
            self.zone = ZoneInfo(s)
        except (ZoneInfoNotFoundError, ValueError):
            raise TimeZoneError(f"unknown time zone {spec!r}; use {TZ_EXAMPLES}") from None

    def __repr__(self):
        return f"Zone({self.spec!r})"

    def standard_offsets(self, t) -> np.ndarray:
        """The standard-time offset [s east of UTC] in force at each UTC time *t* (daylight saving
        left out; the tz database's own standard: Europe/Dublin's is +01:00, Irish Standard Time)."""
        t = np.asarray(t, np.int64)
        if self.offset is not None:
            return np.full(t.shape, self.offset, np.int64)
        flat = t.ravel()
        # The standard offset changes rarely: one look-up per day, per half hour only on a day it changes.
        days, inv = np.unique(flat // 86400, return_inverse=True)
        first, last = self._standard(days * 86400), self._standard(days * 86400 + 86399)
        off = first[inv]
        moved = (first != last)[inv]
        if moved.any():
            halves, hinv = np.unique(flat[moved] // 1800, return_inverse=True)
            off[moved] = self._standard(halves * 1800)[hinv]
        return off.reshape(t.shape)

    def _standard(self, seconds: np.ndarray) -> np.ndarray:
        out = np.empty(len(seconds), np.int64)
        for i, s in enumerate(seconds.tolist()):  # one per day of the span, not per row
            local = datetime.fromtimestamp(s, tz=self.zone)
            out[i] = int((local.utcoffset() - local.dst()).total_seconds())
        return out


def zone(tz: str | Zone | None) -> Zone | None:
    """A ``--tz`` spec as a :class:`Zone` (None stays None)."""
    return tz if tz is None or isinstance(tz, Zone) else Zone(tz)


def period_starts(t, interval: int, tz: str | Zone | None = None) -> np.ndarray:
    """The UTC start of the *interval*-second period (an hour, a day) each UTC time *t* falls in,
    periods counted from midnight of *tz*'s standard time (None: UTC).

    A day that a permanent offset change lengthens to 25 hours stays one day: each period takes
    the offset in force at its own start.
    """
    t = np.asarray(t, np.int64)
    z = zone(tz)
    if z is None:
        return t // interval * interval
    off = z.standard_offsets(t)
    local = (t + off) // interval * interval
    return local - z.standard_offsets(local - off)


def _days_from_civil(y, m, d):
    # Howard Hinnant's days_from_civil, vectorised: proleptic Gregorian date -> days since 1970-01-01.
    y = y - (m <= 2)
    era = np.floor_divide(y, 400)
    yoe = y - era * 400
    mp = (m + 9) % 12
    doy = (153 * mp + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def parse_times(cells, *, tz: str | Zone | None = None, order: str = "ymd", what: str = "times") -> np.ndarray:
    """Parse text timestamps to int64 UTC seconds.

    *order* is ``ymd`` (ISO, default), ``mdy`` or ``dmy`` for slashed dates. An empty cell is an
    error (a row without a time cannot be placed). Times without an offset need *tz*.
    """
    cells = [str(c) for c in cells]
    if not cells:
        return np.zeros(0, np.int64)
    pat = _SLASH if order in ("mdy", "dmy") else _ISO
    parts = []
    for i, c in enumerate(cells):  # file edge: one regex per timestamp
        m = pat.match(c)
        if m is None:
            raise TimestampError(
                f"{what}: cannot read timestamp {c!r} (row {i + 1}); expected "
                + ("M/D/YYYY H:MM" if order == "mdy" else "D/M/YYYY H:MM" if order == "dmy"
                   else "ISO 8601 like 2024-01-31T13:00:00+06:00 or 2024-01-31 13:00")
            )
        parts.append(m.groups())
    if order in ("mdy", "dmy"):
        a = np.array([[int(p[0]), int(p[1]), int(p[2]), int(p[3] or 0), int(p[4] or 0), int(p[5] or 0)]
                      for p in parts], dtype=np.int64)
        mo, d = (a[:, 0], a[:, 1]) if order == "mdy" else (a[:, 1], a[:, 0])
        y = np.where(a[:, 2] < 100, a[:, 2] + 2000, a[:, 2])
        hms = a[:, 3:6]
        offs = [None] * len(parts)
    else:
        a = np.array([[int(p[0]), int(p[1]), int(p[2]), int(p[3] or 0), int(p[4] or 0), int(p[5] or 0)]
                      for p in parts], dtype=np.int64)
        y, mo, d, hms = a[:, 0], a[:, 1], a[:, 2], a[:, 3:6]
        offs = [p[6] for p in parts]
    if ((mo < 1) | (mo > 12) | (d < 1) | (d > 31)).any():
        bad = int(np.flatnonzero((mo < 1) | (mo > 12) | (d < 1) | (d > 31))[0])
        raise TimestampError(f"{what}: {cells[bad]!r} (row {bad + 1}) is not a valid date for order {order}")
    naive = _days_from_civil(y, mo, d) * 86400 + hms[:, 0] * 3600 + hms[:, 1] * 60 + hms[:, 2]
    have = np.array([o is not None for o in offs])
    if have.all():
        return naive - np.array([_offset_seconds(o) for o in offs], dtype=np.int64)
    if have.any():
        i = int(np.flatnonzero(~have)[0])
        raise TimeZoneError(f"{what}: some timestamps carry a time zone and some do not (row {i + 1}: {cells[i]!r}); "
                            "fix the file so all rows say the same")
    if tz is None:
        raise TimeZoneError(f"{what}: timestamps carry no time zone (first: {cells[0]!r}); "
                            f"say which zone they are in with {TZ_EXAMPLES}")
    return localize(naive, zone(tz), what=what)


def _offset_seconds(o: str) -> int:
    if o in ("Z", "UTC"):
        return 0
    sign = 1 if o[0] == "+" else -1
    digits = o[1:].replace(":", "")
    return sign * (int(digits[:2]) * 3600 + int(digits[2:4] or 0) * 60)


def localize(naive: np.ndarray, zone: Zone, *, what: str = "times") -> np.ndarray:
    """Wall-clock seconds in *zone* -> UTC seconds; refuses repeated and non-existent local times."""
    naive = np.asarray(naive, dtype=np.int64)
    if zone.offset is not None:
        return naive - zone.offset
    # Offsets change on whole half-hours in every zone in use, so one look-up per half hour.
    slots, inv = np.unique(naive // 1800, return_inverse=True)
    off = np.empty(len(slots), np.int64)
    state = np.zeros(len(slots), np.int8)  # 0 fine, 1 repeated (DST ends), 2 skipped (DST starts)
    epoch = datetime(1970, 1, 1)
    for i, s in enumerate(slots.tolist()):  # one per half hour of the span, not per row
        wall = epoch + timedelta(seconds=s * 1800)
        o0 = wall.replace(tzinfo=zone.zone, fold=0).utcoffset().total_seconds()
        o1 = wall.replace(tzinfo=zone.zone, fold=1).utcoffset().total_seconds()
        off[i] = o0
        state[i] = 0 if o0 == o1 else (1 if o0 > o1 else 2)
    rows = state[inv]
    for code, text in ((1, "fall in the hour repeated when daylight saving ends"),
                       (2, "do not exist (the clock jumps forward when daylight saving starts)")):
        bad = rows == code
        if bad.any():
            first = datetime(1970, 1, 1) + timedelta(seconds=int(naive[bad][0]))
            hint = ("the logger did not follow daylight saving: pass its fixed offset instead, e.g. --tz "
                    if code == 2 else
                    "a local clock cannot say which of the two it means: if the logger keeps standard time "
                    "pass its fixed offset, e.g. --tz ")
            std = _standard_offset(zone.zone, first)
            raise TimeZoneError(f"{what}: {int(bad.sum())} timestamp(s) {text} in {zone.spec} "
                                f"(first: {first:%Y-%m-%d %H:%M}); {hint}{std}, or export the data in UTC")
    return naive - off[inv]


def _standard_offset(zone: ZoneInfo, near: datetime) -> str:
    jan = datetime(near.year, 1, 15, tzinfo=zone).utcoffset()
    jul = datetime(near.year, 7, 15, tzinfo=zone).utcoffset()
    return format_offset(int(min(jan, jul).total_seconds()))


def format_offset(seconds: int) -> str:
    sign = "+" if seconds >= 0 else "-"
    s = abs(int(seconds))
    return f"{sign}{s // 3600:02d}:{s % 3600 // 60:02d}"


def recording_interval(time) -> int | None:
    """The most common step between consecutive distinct times [s] (a logger's recording interval);
    None with fewer than two distinct times."""
    d = np.diff(np.asarray(time, np.int64))
    if (d < 0).any():
        d = np.diff(np.sort(np.asarray(time, np.int64)))
    d = d[d > 0]
    if len(d) == 0:
        return None
    if d.max() < 10**6:  # steps below ~12 days: count them directly
        return int(np.argmax(np.bincount(d)))
    steps, counts = np.unique(d, return_counts=True)
    return int(steps[np.argmax(counts)])
