"""Keeping a published site current while ``tynys serve`` or ``tynys ingest`` store records.

    stop = threading.Event()
    watch.every(3600, lambda: watch.rebuild("city.db", "site", city="oskemen"), stop)   # on the hour
    watch.on_new_hour("city.db", lambda: watch.rebuild(...), stop, poll_s=30)          # when data complete an hour

:func:`rebuild` opens the database read-side for one run (SQLite in WAL mode lets the collector
go on writing), writes the site and its open data, and the bulletin of the local day the latest
complete hour belongs to (each language asked for) into ``bulletin/`` beside the site, which the
site links to. After midnight the first run finishes yesterday's bulletin; the next starts today's.
"""

from __future__ import annotations

import threading
import time
from typing import Callable

from ..aqi import city as aqi_city
from ..store import Store, StoreError
from . import Published, build, bulletin, opendata, site as _site
from .snapshot import HOUR
from ..timeutil import iso


def rebuild(db, out, *, city: str | None = None, standard: str = "us-epa", langs=("kk", "ru", "en"),
            tiles: _site.Tiles | None = _site.OSM, licence: str = opendata.LICENCE,
            rules: aqi_city.Rules = aqi_city.Rules(), at: int | None = None, day: str | None = None) -> Published:
    """One run: the site, its open data and the bulletin in each of *langs* of *day* (default: the
    local day of the latest complete hour)."""

    def bulletins(snap, folder) -> list[dict]:
        off = snap.city.utc_offset_s if snap.city else 0
        when = day or iso(snap.end - HOUR + off)[:10]
        out = []
        for lang in langs:
            b = bulletin.write(store, when, lang=lang, city=city, standard=standard, rules=rules, folder=folder)
            for p in (b.pdf, b.png):
                out.append({"name": p.name, "path": p.relative_to(folder.root).as_posix()})
        return out

    with Store.open(db, create=False) as store:
        try:
            return build(store, out, city=city, standard=standard, at=at, tiles=tiles, licence=licence, rules=rules,
                         bulletin=bulletins if langs else None)
        except store.db.Error as e:  # the engine's own error (a locked or lost database), SQLite's or PostgreSQL's
            raise StoreError(f"{db}: {e}") from e


def every(interval_s: int, run: Callable[[], object], stop: threading.Event, *, clock=time.time) -> int:
    """Call *run* now, then at each multiple of *interval_s* on the clock (an hourly run comes on
    the hour), until *stop* is set; returns how many runs were made."""
    runs = 0
    while not stop.is_set():
        run()
        runs += 1
        if stop.wait(interval_s - clock() % interval_s):
            break
    return runs


def on_new_hour(db, run: Callable[[], object], stop: threading.Event, *, poll_s: float = 30.0) -> int:
    """Call *run* now and whenever the stored windows complete a new hour (the newest window's end
    passes an hour boundary; checked every *poll_s* seconds), until *stop* is set; returns how
    many runs were made."""
    runs, seen = 0, None
    while not stop.is_set():
        with Store.open(db, create=False) as store:
            last = max((r["t1"] for r in store.latest()), default=None)
        hour = None if last is None else last // HOUR
        if runs == 0 or hour != seen:
            run()
            runs += 1
            seen = hour
        if stop.wait(poll_s):
            break
    return runs
