"""Imported sites (reference stations, other networks' sensors) and their observations: one value
per ``(site, parameter, period start)``, never mixed with the nodes' records."""

from __future__ import annotations

import time

import numpy as np

from .model import SITE_COLS, Observations, Site, StoreError, span

_SELECT = f"SELECT {', '.join(SITE_COLS)} FROM sites"


def sites(db) -> list[Site]:
    return [Site(*r) for r in db.execute(f"{_SELECT} ORDER BY provider, provider_id")]


def site(db, ref: str | int) -> Site:
    """A site by ``provider:provider_id``, its number, its provider id or its name (when unique)."""
    text = str(ref).strip()
    provider, _, pid = text.partition(":")
    found = [Site(*r) for r in db.execute(  # both by index: (provider, provider_id) and id
        f"{_SELECT} WHERE (provider = ? AND provider_id = ?) OR id = ?", (provider, pid, int(text) if text.isdigit() else None))]
    if not found:
        found = [Site(*r) for r in db.execute(
            f"{_SELECT} WHERE provider_id = ? OR name = ? ORDER BY provider, provider_id", (text, text))]
    if len(found) == 1:
        return found[0]
    if not found:
        raise StoreError(f"no imported site {text!r} in {db.path}: see tynys db sites (import one with tynys import)")
    raise StoreError(f"site {text!r} is ambiguous: {', '.join(s.ref for s in found)}; name it as provider:id")


_find = site  # for functions whose argument is called site


def ensure_site(db, provider: str, provider_id: str, *, kind: str, name: str = "", lat: float | None = None,
                lon: float | None = None, tz: str = "", notes: str = "") -> tuple[Site, bool]:
    """The site ``provider:provider_id``, created if new (inside the caller's transaction);
    returns ``(site, created)``. A known site keeps its kind; missing name/location are filled in."""
    row = db.execute(f"{_SELECT} WHERE provider=? AND provider_id=?", (provider, provider_id)).fetchone()
    if row is None:
        sid = db.execute(
            "INSERT INTO sites (provider, provider_id, name, lat, lon, kind, tz, notes, added) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " RETURNING id", (provider, provider_id, name, lat, lon, kind, tz, notes, int(time.time()))).fetchone()[0]
        return Site(sid, provider, provider_id, name, lat, lon, kind, tz, notes), True
    s = Site(*row)
    if s.kind != kind:
        raise StoreError(f"site {s.ref} is stored as a {s.kind} site, this import says {kind}: "
                         f"import with --kind {s.kind}, or under another site id")
    if (not s.name and name) or (s.lat is None and lat is not None):
        s.name = s.name or name
        s.lat, s.lon = (lat, lon) if s.lat is None else (s.lat, s.lon)
        db.execute("UPDATE sites SET name=?, lat=?, lon=? WHERE id=?", (s.name, s.lat, s.lon, s.id))
    return s, False


def observation_unit(db, site: int, parameter: str) -> str | None:
    row = db.execute("SELECT unit FROM observations WHERE site=? AND parameter=? LIMIT 1", (site, parameter)).fetchone()
    return None if row is None else row[0]


_STAGE = ("i", "site", "parameter", "t0", "t1", "value", "unit", "qc")


def insert_observations(db, import_id: int, site: int, parameter: str, t0, t1, value, unit: str, qc=None) -> dict:
    """Store one parameter's values of one site (inside the caller's transaction).

    ``(site, parameter, t0)`` is stored once: values already stored (an overlapping file) are
    kept as they are. Returns counts: ``new``, ``duplicate`` (already stored), ``differing``
    (already stored with another value: the stored one was kept), ``repeated`` (the same time
    twice in this batch: the first was kept)."""
    t0 = np.asarray(t0, np.int64)
    n = len(t0)
    qc = [""] * n if qc is None else np.asarray(qc, dtype=str).tolist()
    db.execute(db.ddl("CREATE TEMP TABLE IF NOT EXISTS obs_stage (i INTEGER PRIMARY KEY, site INTEGER, parameter TEXT, t0 INTEGER,"
                      " t1 INTEGER, value REAL, unit TEXT, qc TEXT)"))
    db.execute("DELETE FROM obs_stage")
    db.bulk_insert("obs_stage", _STAGE, zip(range(n), [site] * n, [parameter] * n, t0.tolist(),
                                            np.asarray(t1, np.int64).tolist(), np.asarray(value, np.float64).tolist(),
                                            [unit] * n, qc))
    dup, differ = db.execute(
        "SELECT COUNT(*), COALESCE(SUM(CASE WHEN o.value != s.value THEN 1 ELSE 0 END), 0) FROM obs_stage s"
        " JOIN observations o ON o.site = s.site AND o.parameter = s.parameter AND o.t0 = s.t0").fetchone()
    # rows in file order, so of a time given twice the first is kept (WHERE: SQLite's upsert-after-SELECT rule)
    new = db.execute("INSERT INTO observations (site, parameter, t0, t1, value, unit, qc, import)"
                     " SELECT site, parameter, t0, t1, value, unit, qc, ? FROM obs_stage WHERE 1 = 1 ORDER BY i"
                     " ON CONFLICT DO NOTHING", (import_id,)).rowcount
    db.execute("DELETE FROM obs_stage")
    return {"new": new, "duplicate": dup, "differing": differ, "repeated": n - new - dup}


def observations(db, site: Site | str | int, parameter: str, t0: int | None = None, t1: int | None = None,
                 *, include_flagged: bool = False) -> Observations:
    """Parameter *parameter* of an imported site for periods starting in ``[t0, t1)``, by time.
    Values the source flagged are left out unless *include_flagged*."""
    site = site if isinstance(site, Site) else _find(db, site)
    params = site_parameters(db, site.id)
    if parameter not in params:
        raise StoreError(f"site {site.ref} has no {parameter!r}; it has {', '.join(params) or 'nothing'}")
    flag = "" if include_flagged else " AND qc = ''"
    rows = db.execute(
        f"SELECT t0, t1, value, qc FROM observations WHERE site=? AND parameter=? AND t0 >= ? AND t0 < ?{flag} ORDER BY t0",
        (site.id, parameter, *span(t0, t1))).fetchall()
    times = np.array([r[:2] for r in rows], dtype=np.int64).reshape(-1, 2)
    return Observations(site, parameter, params[parameter]["unit"], times[:, 0], times[:, 1],
                        np.array([r[2] for r in rows], dtype=np.float64), np.array([r[3] for r in rows], dtype=object))


def site_parameters(db, site: int) -> dict[str, dict]:
    """Per parameter of a site: ``unit``, ``n``, ``flagged``, ``first``/``last`` period start."""
    return {p: {"unit": u, "n": n, "flagged": f, "first": a, "last": b} for p, u, n, f, a, b in db.execute(
        "SELECT parameter, MIN(unit), COUNT(*), SUM(CASE WHEN qc != '' THEN 1 ELSE 0 END), MIN(t0), MAX(t0)"
        " FROM observations WHERE site=? GROUP BY parameter ORDER BY parameter", (site,))}
