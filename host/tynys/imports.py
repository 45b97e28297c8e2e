"""Imports: data that did not come from a Tynys node — reference stations and other networks'
sensors — into the store, each file once.

    from tynys.imports import import_file
    res = import_file(store, "airnowtech_example_reference_data.csv", "airnowtech")
    res.status                      # 'imported', or 'already imported' (same content, read the same way)
    res.new, res.duplicate          # values stored now / already stored from an overlapping file
    res.sites[0]["site"]            # 'airnowtech:370630099', how calibrate fit --reference names it

The files are read by :mod:`tynys.importers` (one reader per source); this module decides the
site of each value, its averaging period and unit, and stores it in ``sites``/``observations``
with the file's entry in the import ledger, all in one transaction: a file lands whole or not
at all. One value per ``(site, parameter, period start)``: an overlapping file adds only what is
new and keeps what is stored (it says how many values differ).
"""

from __future__ import annotations

import csv
import hashlib
import json
import zlib
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from . import importers
from .errors import TynysError
from .store import Store
from .timeutil import iso, recording_interval


class ImportRefused(TynysError):
    """The file cannot be stored as asked (site unknown, unit missing or changed): nothing was stored."""


@dataclass(frozen=True)
class Format:
    reader: str  # key of tynys.importers.FORMATS
    kind: str  # what its sites are by default: 'reference' or 'sensor'
    interval: int | None  # averaging period [s] the format defines; None: the file's own step
    what: str


FORMATS = {
    "sensor-community": Format("sensor_community", "sensor", None, "Sensor.Community archive CSV (;-separated; P1 = PM10, P2 = PM2.5)"),
    "airnowtech": Format("airnowtech", "reference", 3600, "AirNow-Tech export (long format, QC codes kept as flags)"),
    "aqs": Format("aqs", "reference", 3600, "EPA AQS pre-generated hourly CSV"),
    "openaq": Format("openaq", "reference", None, "OpenAQ CSV (S3 archive or Explorer download)"),
    "sensortoolkit": Format("sensortoolkit", "sensor", None, "sensortoolkit sensor export (with its preamble)"),
    "csv": Format("csv", "reference", None, "any CSV with a time column (--time-column, --map NAME=COLUMN, --site)"),
}
_BY_READER = {f.reader: name for name, f in FORMATS.items()}
KINDS = ("reference", "sensor")
# Units that go without saying; a gas without a unit is refused (ppb or ug/m3 differ by 2.6x for SO2).
DEFAULT_UNITS = {"pm1": "µg/m³", "pm25": "µg/m³", "pm10": "µg/m³", "rh": "%", "t_c": "°C"}


@dataclass
class ImportResult:
    """What became of one file. ``status``: ``imported`` or ``already imported``."""

    path: str
    format: str
    sha256: str
    status: str
    values: int = 0  # values offered by the file (finite, or flagged by the source)
    new: int = 0
    duplicate: int = 0  # already stored (an overlapping file)
    differing: int = 0  # already stored with another value: the stored one was kept
    repeated: int = 0  # the same time twice in this file: the first was kept
    sites: list[dict] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    earlier: dict | None = None  # the ledger entry of the earlier import of the same content

    def as_dict(self) -> dict:
        return asdict(self)


def sha256_of(path) -> tuple[str, int]:
    h, size = hashlib.sha256(), 0
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
            size += len(block)
    return h.hexdigest(), size


def import_file(store: Store, path, fmt: str = "auto", *, tz: str | None = None, kind: str | None = None,
                site: str | None = None, name: str = "", lat: float | None = None, lon: float | None = None,
                interval: int | None = None, units: dict | None = None, **csv_options) -> ImportResult:
    """Import one file into *store*. *fmt* is a key of :data:`FORMATS` or ``auto`` (detected).

    *site* names the site of a single-site file that does not name it (plain CSV), *kind*
    overrides the format's (``reference``/``sensor``), *interval* [s] the averaging period,
    *units* ``{parameter: unit}`` the units of plain CSV columns. *csv_options* go to
    :func:`tynys.importers.generic.read_csv` (``time_column``, ``columns``, ``site_column``, ``order``).
    """
    path = Path(path)
    if not path.is_file():
        raise ImportRefused(f"{path}: no such file")
    if fmt == "auto":
        fmt = _BY_READER[_unreadable_as_refused(path, importers.detect, path)]
    if fmt not in FORMATS:
        raise ImportRefused(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)} or auto")
    spec = FORMATS[fmt]
    key_options = {"tz": tz, "kind": kind, "site": site, "interval": interval, "units": units,
                   **{k: v for k, v in csv_options.items() if (k, v) != ("order", "ymd")}}  # the default order says nothing
    kind = kind or spec.kind
    if kind not in KINDS:
        raise ImportRefused(f"kind {kind!r}: use one of {', '.join(KINDS)}")
    digest, size = sha256_of(path)
    key = ledger_key(digest, key_options)
    earlier = store.imported(key)
    if earlier is not None:
        return ImportResult(str(path), fmt, digest, "already imported", earlier=_ledger(earlier))
    if fmt != "csv" and (csv_options.get("columns") or units):
        raise ImportRefused(f"--map and --unit are for plain CSV; a {fmt} file names its own columns and units")
    table = _unreadable_as_refused(path, importers.read, path, spec.reader, tz=tz, keep_flagged=True,
                                   **(csv_options if fmt == "csv" else {}))
    given = {p: (units or {}).get(p) or table.units.get(p) or DEFAULT_UNITS.get(p, "") for p in table.columns}
    table.check_ranges(given)
    parts = _sites(table, site, path, fmt)
    res = ImportResult(str(path), fmt, digest, "imported", notes=table.messages(given))
    before = store.imported(digest) if key != digest else None
    if before is not None:
        res.notes.append(f"{path}: the same content was imported {iso(before['imported'])} as {before['name']} without "
                         "these options; read again as asked now: values already stored are kept and counted as such")
    with store.transaction():
        import_id = store.record_import(key, path.name, fmt, size, 0)
        if import_id is None:  # another process imported the same content a moment ago
            return ImportResult(str(path), fmt, digest, "already imported", earlier=_ledger(store.imported(key)))
        for site_id, sub in parts:
            info = {**table.meta.get("sites", {}).get(site_id, {}), **({"name": name} if name else {}),
                    **({"lat": lat, "lon": lon} if lat is not None else {})}
            st, created = store.ensure_site(fmt, site_id, kind=kind, name=info.get("name") or "", lat=info.get("lat"),
                                            lon=info.get("lon"), tz=str(table.meta.get("tz") or tz or ""))
            step = interval or spec.interval or table.meta.get("interval_s") or _step(sub, res, st.ref)
            row = {"site": st.ref, "name": st.name, "kind": st.kind, "created": created, "interval_s": step, "parameters": {}}
            for param, values in sub.columns.items():
                unit = _unit(param, (units or {}).get(param) or sub.units.get(param, ""), path)
                stored = store.observation_unit(st.id, param)
                if stored is not None and stored != unit:
                    raise ImportRefused(f"{path}: {st.ref} {param} is stored in {stored}, this file gives {unit}: "
                                        "convert the file, or import it under another site")
                qc = sub.qc.get(param)
                flagged = np.zeros(len(values), bool) if qc is None else qc != ""
                keep = np.isfinite(values)
                if not keep.any():
                    continue
                counts = store_values(store, import_id, st.id, param, sub.time[keep], step, values[keep], unit,
                                      None if qc is None else qc[keep])
                t = sub.time[keep]
                row["parameters"][param] = {"unit": unit, **counts, "flagged": int(flagged[keep].sum()),
                                            "first": iso(t.min()), "last": iso(t.max())}
                res.values += int(keep.sum())
                for k in ("new", "duplicate", "differing", "repeated"):
                    setattr(res, k, getattr(res, k) + counts[k])
            res.sites.append(row)
        store.finish_import(import_id, res.new, _detail(res))
    return res


CHUNK = 10_000  # values handed to the store at a time: its rows never exist all at once as Python objects


def store_values(store: Store, import_id: int, site: int, parameter: str, t0, step: int, values, unit: str,
                 qc=None) -> dict:
    """``Store.insert_observations`` in chunks of :data:`CHUNK` values (inside the caller's
    transaction), cut where the time changes so a time repeated in the file is still counted as
    ``repeated``; returns the summed counts."""
    order = np.argsort(t0, kind="stable")
    t0, values = np.asarray(t0)[order], np.asarray(values)[order]
    qc = None if qc is None else np.asarray(qc)[order]
    counts = dict.fromkeys(("new", "duplicate", "differing", "repeated"), 0)
    start = 0
    while start < len(t0):
        end = min(start + CHUNK, len(t0))
        while end < len(t0) and t0[end] == t0[end - 1]:
            end += 1
        got = store.insert_observations(import_id, site, parameter, t0[start:end], t0[start:end] + step,
                                        values[start:end], unit, None if qc is None else qc[start:end])
        for k in counts:
            counts[k] += got[k]
        start = end
    return counts


def ledger_key(digest: str, options: dict) -> str:
    """The import ledger's key: the file's SHA-256, and — when options say how to read it (``--map``,
    ``--site``, ``--tz`` …) — those options too. The same file read the same way lands once; read
    another way (another ``--map``) it is a new import."""
    given = {k: v for k, v in options.items() if v not in (None, "", {}, ())}
    if not given:
        return digest
    text = json.dumps(given, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(f"{digest}\n{text}".encode()).hexdigest()


def _unreadable_as_refused(path, fn, *args, **kw):
    """Call a reader; a file that is not UTF-8 text or not gzip though named .gz is refused with the fix."""
    try:
        return fn(*args, **kw)
    except UnicodeDecodeError as e:
        raise ImportRefused(f"{path}: not UTF-8 text ({e.reason} at byte {e.object[e.start:e.start + 1]!r}): save it as UTF-8, "
                            f"e.g. iconv -f CP1251 -t UTF-8 {path} > utf8.csv for a Windows Cyrillic export") from None
    except (OSError, EOFError, zlib.error) as e:  # gzip.BadGzipFile is an OSError
        gz = ": a .gz file must be gzip-compressed text" if Path(path).suffix == ".gz" else ""
        raise ImportRefused(f"{path}: cannot read it ({e}){gz}") from None
    except csv.Error as e:
        raise ImportRefused(f"{path}: not a readable CSV ({e})") from None


def _sites(table, site: str | None, path, fmt):
    """``(site id, table of that site)`` for each of the file's own sites, or the one named; each
    site's rows are taken when its turn comes (one site's copy in memory at a time)."""
    if table.site is not None:
        if site:
            raise ImportRefused(f"{path} holds {len(table.sites())} sites ({', '.join(table.sites()[:5])}…); "
                                "they are imported under their own ids: drop --site")
        return ((s, table.select(s)) for s in table.sites())
    own = table.meta.get("site") or table.meta.get("serial")
    if site and own and site != own and fmt != "csv":
        raise ImportRefused(f"{path} names its site {own!r}; it is imported under that id: drop --site")
    sid = site or own
    if not sid:
        raise ImportRefused(f"{path}: the file does not say which site it is from: name it with --site ID "
                            "(e.g. --site kazhydromet-oskemen-1), or --site-column COLUMN when it holds several")
    return [(str(sid), table)]


def _step(table, res: ImportResult, ref: str) -> int:
    """The site's recording interval [s]: the most common step between its times."""
    step = recording_interval(table.time)
    if step is None:
        res.notes.append(f"{ref}: one time only, its averaging period taken as 1 h (say --interval)")
        return 3600
    return step


def _unit(param: str, unit: str, path) -> str:
    unit = unit or DEFAULT_UNITS.get(param, "")
    if not unit:
        raise ImportRefused(f"{path}: no unit for {param!r}: say it with --unit {param}=UNIT (e.g. ppb, ug/m3, ppm)")
    return unit


def _ledger(entry: dict) -> dict:
    return {"name": entry["name"], "format": entry["kind"], "imported": iso(entry["imported"]), "values": entry["rows"],
            "detail": entry["detail"]}


def _detail(res: ImportResult) -> str:
    return (f"{len(res.sites)} site(s) {', '.join(s['site'] for s in res.sites)}: {res.values} values, {res.new} new, "
            f"{res.duplicate} already stored ({res.differing} differing)")
