"""Co-location inputs from files: ``FILE[:COLUMN]`` read into series labelled by sensor or site,
and each sensor paired with *its* reference (and RH, T) by label — never by position or guess.

    from tynys.calibrate import inputs
    how = inputs.Reading(tz="-05:00")
    data = inputs.colocated(["RT01.csv:pm25"], "airnowtech.csv", rh="RT01.csv:rh", reading=how)
    data.x, data.y, data.rh, data.time, data.site     # pooled pairs, one row per interval and sensor
    data.pollutant, data.unit, data.interval, data.notes

The rules (each broken one is an error saying what to do, or a note the caller prints):

- **Labels.** A file with one series is labelled by its name (``RT01`` for ``RT01.csv``); a file
  with several sites or sensors (``--site-column``, or a format that names them) by each one's id.
- **Pairing.** A reference (RH, T) file with one series serves every sensor; one with several is
  matched site by site, and a sensor without its own is refused (``Reading.site`` picks one site).
- **One series per label.** A plain CSV whose rows repeat a time holds several sensors: it is
  refused until ``--site-column`` says which column tells them apart (never averaged together).
- **Pollutant.** ``pollutant=`` or the column's Tynys name (``pm25``, ``pm10``, ``so2``, as a
  format's reader names it or the column is literally called); a column's meaning is never read
  from parts of its name (``A_B_Avg_pm10`` says nothing).
- **Interval.** The finest of 1 h and 24 h the recordings allow, with a note when it is not 1 h;
  an interval finer than the data is refused, never raised silently.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import TynysError
from ..importers import detect, read
from ..timeutil import iso
from .colocation import INTERVALS, colocate, days_label, recording_interval
from .targets import epa_targets

POLLUTANTS = ("pm25", "pm10", "so2")
LABELS = {"pm25": "PM2.5", "pm10": "PM10", "so2": "SO2"}  # as people write them


@dataclass(frozen=True)
class Reading:
    """How to read the files: zones, plain-CSV columns, which site of a multi-site file."""

    tz: str | None = None  # zone of timestamps that carry none
    day_tz: str | None = None  # zone whose standard-time midnight starts a 24-h day (default: tz, or a file's own)
    time_column: str | None = None  # plain CSV
    site_column: str | None = None  # plain CSV holding several sensors/sites
    keep_flagged: bool = False  # keep reference values the source flagged (AirNow-Tech QC codes)
    site: str | None = None  # only this site of files that hold several


@dataclass
class Source:
    """One ``FILE[:COLUMN]`` as read: its series by label, the column's Tynys name and the zone."""

    spec: str
    path: str
    column: str  # as asked: a Tynys name or the file's own header
    name: str  # the column's Tynys name (the file's own header in a plain CSV)
    series: dict[str, tuple[np.ndarray, np.ndarray]]
    zone: str | None  # zone the file's times were read in (its preamble's, or --tz)
    unit: str = ""
    notes: list[str] = field(default_factory=list)  # values the reader dropped, rows it skipped

    def step(self) -> int:
        """The slowest recording interval of its series [s]."""
        return max(recording_interval(t) for t, _ in self.series.values())


def split_spec(spec: str) -> tuple[str, str | None]:
    """``FILE[:COLUMN]`` -> (path, column or None); a path that exists as given wins over a colon inside it."""
    if Path(spec).exists() or ":" not in spec:
        return spec, None
    path, col = spec.rsplit(":", 1)
    return path, col or None


def read_source(spec: str, column: str | None, reading: Reading = Reading(), *, what: str = "sensor") -> Source:
    """Read ``FILE[:COLUMN]``; *column* is used when the spec names none."""
    path, col = split_spec(spec)
    col = col or column
    fmt = detect(path)
    opts = {k: getattr(reading, k) for k in ("time_column", "site_column") if fmt == "csv" and getattr(reading, k)}
    tab = read(path, fmt, tz=reading.tz, keep_flagged=reading.keep_flagged, **opts)
    if col is None:
        raise TynysError(f"{what} {path}: which column? write {path}:COLUMN (columns: {', '.join(tab.names())}) "
                         "or name the pollutant with --pollutant")
    values = tab.column(col)
    name = col if col in tab.columns else next(k for k, v in tab.source_names.items() if v == col)
    label = Path(path).name.split(".")[0]
    if tab.site is None:
        _one_series(path, tab.time)
        series = {label: (tab.time, values)}
    else:
        series = {s: (sub.time, sub.column(col)) for s in tab.sites() for sub in [tab.select(s)]}
    if reading.site is not None and len(series) > 1:
        if reading.site not in series:
            raise TynysError(f"{what} {path} has no site {reading.site!r}; its sites: {_few(series)}")
        series = {reading.site: series[reading.site]}
    return Source(spec, path, col, name, series, tab.meta.get("tz"), tab.units.get(name, ""), tab.messages())


def _one_series(path, time) -> None:
    """A single-series file whose times repeat holds several sensors: refuse rather than average them."""
    t = np.sort(np.asarray(time, np.int64))
    same = np.flatnonzero(np.diff(t) == 0)
    if len(same):
        raise TynysError(f"{path}: {len(same)} rows repeat the time of another row (first {iso(t[same[0]])}): the file "
                         "holds several sensors or sites; say which column tells them apart with --site-column COLUMN")


def _few(series) -> str:
    names = list(series)
    return ", ".join(names[:8]) + (f" … ({len(names)} in all)" if len(names) > 8 else "")


def pollutant_of(given: str | None, *sources: Source | None) -> str:
    """*given*, else the Tynys pollutant name of the first source column that has one."""
    if given:
        return given
    for s in sources:
        if s is not None and s.name in POLLUTANTS:
            return s.name
    cols = ", ".join(repr(s.column) for s in sources if s is not None) or "none named"
    raise TynysError(f"which pollutant is this ({cols})? say --pollutant {'|'.join(POLLUTANTS)} "
                     "(a column's meaning is not guessed from its name)")


def spec_pollutant(given: str | None, *specs: str | None) -> str | None:
    """The pollutant named by *given* or by a spec's COLUMN when it is literally a Tynys pollutant name."""
    if given:
        return given
    for spec in specs:
        col = split_spec(spec)[1] if spec else None
        if col in POLLUTANTS:
            return col
    return None


def matched(labels, source: Source, what: str) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """*source*'s series for each sensor label: its only series for all, or the one of the same label."""
    if len(source.series) == 1:
        only = next(iter(source.series.values()))
        return {label: only for label in labels}
    missing = [label for label in labels if label not in source.series]
    if missing:
        raise TynysError(f"{what} {source.path} holds {len(source.series)} sites ({_few(source.series)}) and none is "
                         f"named like sensor(s) {', '.join(missing)}: pair them by the same site names (--site-column), "
                         f"pick one {what} site with --site SITE, or give a {what} file with one series")
    return {label: source.series[label] for label in labels}


def day_zone(reading: Reading, *sources: Source | None) -> str | None:
    """The zone whose standard-time days make 24-h means: ``day_tz``, ``tz``, else the first zone a file
    was read in (a sensortoolkit preamble); None for UTC days."""
    found = [s.zone for s in sources if s is not None and s.zone]
    return reading.day_tz or reading.tz or (found[0] if found else None)


def choose_interval(asked: str | None, sources) -> tuple[str, str | None]:
    """``(interval, note)``: *asked*, refused when finer than the recordings; else the finest they allow."""
    slowest = max(s.step() for s in sources if s is not None)
    slow = [s.path for s in sources if s is not None and s.step() == slowest]
    every = f"every {slowest // 3600} h" if slowest % 3600 == 0 else f"every {slowest} s"
    if asked is not None:
        if asked not in INTERVALS:
            raise TynysError(f"unknown averaging interval {asked!r}; use one of {', '.join(INTERVALS)}")
        if INTERVALS[asked] < slowest:
            raise TynysError(f"{asked} means cannot be made: {slow[0]} is recorded {every}; use --interval 24h")
        return asked, None
    for iv, sec in INTERVALS.items():
        if sec >= slowest:
            note = None if iv == "1h" else f"{iv} intervals: {slow[0]} is recorded {every} (--interval to choose)"
            return iv, note
    raise TynysError(f"{slow[0]} is recorded {every}: 24-h means are the longest calibrate makes")


@dataclass
class Colocated:
    """Co-located pairs of every sensor with its reference, pooled: one row per interval and sensor."""

    pollutant: str
    unit: str
    interval: str
    day_tz: str | None  # zone of the 24-h days (None: UTC days)
    x: np.ndarray  # sensor
    y: np.ndarray  # reference
    rh: np.ndarray | None
    t_c: np.ndarray | None
    time: np.ndarray
    site: np.ndarray  # the sensor's label per row
    sensors: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    reference: str = ""  # the reference spec, for provenance

    def __len__(self) -> int:
        return len(self.time)

    @property
    def days(self) -> str:
        return days_label(self.day_tz)

    def data(self) -> dict:
        """The inputs of :mod:`tynys.calibrate.models`: ``x``, ``rh``, ``t_c``."""
        return {"x": self.x, "rh": self.rh, "t_c": self.t_c}


def colocated(sensors, reference: str, *, rh: str | None = None, t_c: str | None = None, interval: str | None = None,
              pollutant: str | None = None, reading: Reading = Reading()) -> Colocated:
    """Read *sensors* (``FILE[:COLUMN]`` each), *reference*, and optional RH and T specs, pair each
    sensor with its own reference values and average both to *interval* (EPA's 75 % rule)."""
    sensors = [sensors] if isinstance(sensors, str) else list(sensors)
    if not sensors:
        raise TynysError("no sensor file given (--sensor FILE[:COLUMN])")
    pol = spec_pollutant(pollutant, sensors[0], reference)
    srcs = [read_source(s, pol, reading) for s in sensors]
    pol = pol or (srcs[0].name if srcs[0].name in POLLUTANTS else None)
    ref = read_source(reference, pol, reading, what="reference")
    pol = pollutant_of(pol, srcs[0], ref)
    extra = {k: read_source(spec, k, reading, what=k) for k, spec in (("rh", rh), ("t_c", t_c)) if spec}
    series: dict[str, tuple] = {}
    for s in srcs:
        for label, tv in s.series.items():
            if label in series:
                raise TynysError(f"sensor {label} is given twice ({s.spec}): give each sensor once")
            series[label] = tv
    labels = list(series)
    refs = matched(labels, ref, "reference")
    more = {k: matched(labels, src, k) for k, src in extra.items()}
    iv, note = choose_interval(interval, [*srcs, ref])
    tz = day_zone(reading, *srcs, ref)
    notes = list(dict.fromkeys(n for src in (*srcs, ref, *extra.values()) for n in src.notes))
    notes += [note] if note else []
    parts = []
    for label in labels:
        (t, v), (rt, rv) = series[label], refs[label]
        p = colocate(t, v, rt, rv, iv, extras={k: m[label] for k, m in more.items()}, tz=tz)
        if not len(p):
            notes.append(f"{label}: no co-located {iv} intervals with the reference: check the files overlap in time "
                         "and the time zone")
        parts.append((label, p))
    cat = lambda f: np.concatenate([f(p) for _, p in parts]) if parts else np.zeros(0)  # noqa: E731
    unit = epa_targets(pol)["unit"] if pol in POLLUTANTS else ""
    return Colocated(pol, unit, iv, tz, cat(lambda p: p.sensor), cat(lambda p: p.reference),
                     cat(lambda p: p.extras["rh"]) if "rh" in more else None,
                     cat(lambda p: p.extras["t_c"]) if "t_c" in more else None,
                     cat(lambda p: p.time).astype(np.int64),
                     np.concatenate([np.full(len(p), label, dtype=object) for label, p in parts]).astype(str),
                     labels, notes, reference)
