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
    try:
        return datetime.fromtimestamp(int(t), timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    except (ValueError, OverflowError, OSError):  # beyond years 1..9999: a wrong clock, still printable
        return f"{int(t)} s (Unix time outside years 1..9999)"


def isos(ts) -> list[str]:
    """:func:`iso` of many integer times at once (a day's windows in the open data's archive)."""
    t = np.asarray(ts, dtype=np.int64)
    if not len(t) or t.min() < 0 or t.max() > 253402300799:  # before 1970 (strftime pads no year < 1000) or after 9999
        return [iso(x) for x in t.tolist()]
    return [x + "Z" for x in np.datetime_as_string(t.astype("datetime64[s]"), unit="s").tolist()]


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

# Timestamp forms in files, as RE2 patterns (pyarrow's C regex engine runs them over a whole column).
_ISO = (r"^\s*(?P<y>\d{4})-(?P<mo>\d{1,2})-(?P<d>\d{1,2})(?:[T ](?P<H>\d{1,2}):(?P<M>\d{2})(?::(?P<S>\d{2})(?:\.\d*)?)?)?"
        r"\s*(?P<z>Z|UTC|[+-]\d{2}(?::?\d{2})?)?\s*$")
_SLASH = (r"^\s*(?P<a>\d{1,2})/(?P<b>\d{1,2})/(?P<y>\d{2,4})(?:\s+(?P<H>\d{1,2}):(?P<M>\d{2})(?::(?P<S>\d{2}))?)?"
          r"(?P<z>)\s*$")
# Fixed-width ISO layouts read straight from the column's bytes: length -> (time?, seconds?, zone start or None).
_FIXED = {10: (False, False, None), 16: (True, False, None), 17: (True, False, 16), 19: (True, True, None),
          20: (True, True, 19), 22: (True, False, 16), 25: (True, True, 19)}
# A measurement's time lies in these years; outside is a logger's fill value or a typo (0001-01-01).
PLAUSIBLE_YEARS = (1900, 2200)
NO_TIME = np.iinfo(np.int64).min  # a row whose time is outside PLAUSIBLE_YEARS (parse_times(..., implausible="mark"))
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


def parse_times(cells, *, tz: str | Zone | None = None, order: str = "ymd", what: str = "times", first_row: int = 1,
                implausible: str = "raise") -> np.ndarray:
    """Parse text timestamps (a sequence of str or a pyarrow string array) to int64 UTC seconds.

    *order* is ``ymd`` (ISO, default), ``mdy`` or ``dmy`` for slashed dates. Times without an
    offset need *tz*. A date without a time is that whole day: midnight of *tz*'s standard time,
    whatever daylight saving does to the clocks (so a daily value lands in its own day).
    Refused, with the row (counted from *first_row*) and the fix: an empty or unreadable cell, a
    time that does not exist (``2024-02-30``, ``25:00``: never rolled over into the next day or
    month), a year outside :data:`PLAUSIBLE_YEARS` — or, with ``implausible="mark"``, such a
    row's time is :data:`NO_TIME` for the caller to drop and count.

    Vectorised: uniform-width ISO columns are read from their bytes with numpy, other forms by
    one C regex over the column; no Python loop per row.
    """
    import pyarrow as pa

    arr = cells if isinstance(cells, (pa.Array, pa.ChunkedArray)) else pa.array([str(c) for c in cells], pa.string())
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks() if arr.num_chunks else pa.array([], pa.string())
    if len(arr) == 0:
        return np.zeros(0, np.int64)
    if arr.null_count:
        bad = int(np.flatnonzero(np.asarray(arr.is_null()))[0])
        raise TimestampError(f"{what}: row {first_row + bad} has no time: a value that cannot be placed in time "
                             "cannot be stored; fill in its time or remove the row")
    f = _fields(arr, order, what, first_row)
    _check_real(arr, f, what, first_row)
    y, mo, d = f["y"], f["mo"], f["d"]
    naive = _days_from_civil(y, mo, d) * 86400 + f["H"] * 3600 + f["M"] * 60 + f["S"]
    odd = (y < PLAUSIBLE_YEARS[0]) | (y >= PLAUSIBLE_YEARS[1])
    if odd.any() and implausible != "mark":
        k = int(np.flatnonzero(odd)[0])
        raise TimestampError(f"{what}: {arr[k].as_py()!r} (row {first_row + k}) is in the year {int(y[k]):04d}, not a "
                             f"measurement's ({PLAUSIBLE_YEARS[0]}-{PLAUSIBLE_YEARS[1] - 1}): a fill value or a typo; "
                             "fix or remove the row")
    have = f["has_zone"]
    if have.all():
        out = naive - f["offset"]
    elif have.any():
        i = int(np.flatnonzero(~have)[0])
        raise TimeZoneError(f"{what}: some timestamps carry a time zone and some do not (row {first_row + i}: "
                            f"{arr[i].as_py()!r}); fix the file so all rows say the same")
    elif tz is None:
        raise TimeZoneError(f"{what}: timestamps carry no time zone (first: {arr[0].as_py()!r}); "
                            f"say which zone they are in with {TZ_EXAMPLES}")
    else:
        z = zone(tz)
        out = np.empty(len(naive), np.int64)
        timed = f["has_time"] & ~odd
        out[timed] = localize(naive[timed], z, what=what)
        dates = ~f["has_time"] & ~odd
        out[dates] = naive[dates] - z.standard_offsets(naive[dates])  # that day, in the zone's standard time
    if odd.any():
        out[odd] = NO_TIME
    return out


def _fields(arr, order: str, what: str, first_row: int) -> dict:
    """y, mo, d, H, M, S, offset [int64], has_time, has_zone [bool] per row."""
    import pyarrow as pa

    n = len(arr)
    f = {k: np.zeros(n, np.int64) for k in ("y", "mo", "d", "H", "M", "S", "offset")}
    f["has_time"], f["has_zone"] = np.zeros(n, bool), np.zeros(n, bool)
    rest = np.arange(n)
    if order == "ymd" and arr.type == pa.string() and arr.offset == 0:
        offs = np.frombuffer(arr.buffers()[1], np.int32, count=n + 1)
        width = np.diff(offs)
        data = np.frombuffer(arr.buffers()[2], np.uint8, count=int(offs[-1])) if n and offs[-1] else np.zeros(0, np.uint8)
        done = np.zeros(n, bool)
        for w in np.unique(width).tolist():
            if w in _FIXED:
                rows = np.flatnonzero(width == w)
                block = (data[offs[rows][:, None] + np.arange(w)] if len(rows) < n else
                         data[offs[0]:offs[0] + n * w].reshape(n, w))
                done[rows[_fixed_width(block, w, f, rows)]] = True
        rest = np.flatnonzero(~done)
    if len(rest):
        _by_regex(arr, rest, order, what, first_row, f)
    return f


def _fixed_width(b: np.ndarray, w: int, f: dict, rows: np.ndarray) -> np.ndarray:
    """Read ISO timestamps of width *w* from their bytes *b* (rows x w) into *f*; returns which rows fit the layout."""
    timed, secs, zpos = _FIXED[w]
    ok = (b[:, 4] == 45) & (b[:, 7] == 45)  # '-'
    if timed:
        ok &= ((b[:, 10] == 84) | (b[:, 10] == 32)) & (b[:, 13] == 58)  # 'T' or ' ', ':'
    if secs:
        ok &= b[:, 16] == 58

    def num(at, k):
        v = np.zeros(len(b), np.int64)
        for i in range(at, at + k):
            c = b[:, i] - np.uint8(48)
            ok.__iand__(c <= 9)
            v *= 10
            v += c
        return v

    got = {"y": num(0, 4), "mo": num(5, 2), "d": num(8, 2)}
    if timed:
        got["H"], got["M"] = num(11, 2), num(14, 2)
    if secs:
        got["S"] = num(17, 2)
    if zpos is not None:
        z = b[:, zpos]
        utc = (z == 90) if w in (17, 20) else np.zeros(len(b), bool)  # 'Z'
        if w in (22, 25):
            sign = np.where(z == 43, 1, np.where(z == 45, -1, 0))  # '+' / '-'
            ok &= (sign != 0) & (b[:, zpos + 3] == 58)
            got["offset"] = sign * (num(zpos + 1, 2) * 3600 + num(zpos + 4, 2) * 60)
        else:
            ok &= utc
        f["has_zone"][rows[ok]] = True
    for k, v in got.items():
        f[k][rows[ok]] = v[ok]
    f["has_time"][rows[ok]] = timed
    return ok


def _by_regex(arr, rows: np.ndarray, order: str, what: str, first_row: int, f: dict) -> None:
    import pyarrow as pa
    import pyarrow.compute as pc

    sub = arr.take(pa.array(rows)) if len(rows) < len(arr) else arr
    parts = pc.extract_regex(sub, _SLASH if order in ("mdy", "dmy") else _ISO)
    valid = np.asarray(parts.is_valid())
    if not valid.all():
        k = int(np.flatnonzero(~valid)[0])
        expected = ("M/D/YYYY H:MM" if order == "mdy" else "D/M/YYYY H:MM" if order == "dmy"
                    else "ISO 8601 like 2024-01-31T13:00:00+06:00 or 2024-01-31 13:00")
        raise TimestampError(f"{what}: cannot read timestamp {sub[k].as_py()!r} (row {first_row + int(rows[k])}); "
                             f"expected {expected}")

    def num(name):
        s = parts.field(name)
        return pc.cast(pc.if_else(pc.equal(s, ""), "0", s), pa.int64()).to_numpy()

    if order in ("mdy", "dmy"):
        a, b, y = num("a"), num("b"), num("y")
        f["mo"][rows], f["d"][rows] = (a, b) if order == "mdy" else (b, a)
        f["y"][rows] = np.where(y < 100, y + 2000, y)
    else:
        f["y"][rows], f["mo"][rows], f["d"][rows] = num("y"), num("mo"), num("d")
    f["H"][rows], f["M"][rows], f["S"][rows] = num("H"), num("M"), num("S")
    f["has_time"][rows] = np.asarray(pc.not_equal(parts.field("H"), ""))
    zcodes = pc.dictionary_encode(parts.field("z"))
    labels = zcodes.dictionary.to_pylist()
    idx = np.asarray(zcodes.indices)
    f["has_zone"][rows] = np.array([z != "" for z in labels], bool)[idx]
    f["offset"][rows] = np.array([_offset_seconds(z) if z else 0 for z in labels], np.int64)[idx]


_MONTH_DAYS = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])


def _check_real(arr, f: dict, what: str, first_row: int) -> None:
    """Refuse a date or clock time that does not exist, naming the row: it is never rolled over."""
    y, mo, d, H, M, S = (f[k] for k in ("y", "mo", "d", "H", "M", "S"))
    leap = (y % 4 == 0) & ((y % 100 != 0) | (y % 400 == 0))
    month_ok = (mo >= 1) & (mo <= 12)
    days = np.where(month_ok, _MONTH_DAYS[np.clip(mo - 1, 0, 11)] + ((mo == 2) & leap), 31)
    for bad, why in ((~month_ok, lambda k: f"there is no month {mo[k]}"),
                     ((d < 1) | (d > days), lambda k: f"{_month_name(mo[k])} {y[k]:04d} has {days[k]} days"),
                     (H > 23, lambda k: "hours run 00 to 23" + (": 24:00 is 00:00 of the next day" if H[k] == 24 else "")),
                     (M > 59, lambda k: "minutes run 00 to 59"), (S > 59, lambda k: "seconds run 00 to 59")):
        if bad.any():
            k = int(np.flatnonzero(bad)[0])
            raise TimestampError(f"{what}: {arr[k].as_py()!r} (row {first_row + k}) is not a real time ({why(k)}); "
                                 "correct it in the file: a time is never rolled over into the next day or month")


def _month_name(m: int) -> str:
    return datetime(2000, int(m), 1).strftime("%B")


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
