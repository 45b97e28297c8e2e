"""Keeping a published site current while ``tynys serve`` or ``tynys ingest`` store records.

    stop = watch.Stop()
    with watch.stopped_by_signals(stop):      # SIGINT/SIGTERM: stop waiting, abandon a run in progress
        watch.every(3600, lambda: watch.rebuild("city.db", "site", city="oskemen", stop=stop), stop)  # on the hour
        watch.on_new_hour("city.db", lambda: watch.rebuild(...), stop, poll_s=30)  # when data complete an hour

:func:`rebuild` opens the database read-side for one run (SQLite in WAL mode lets the collector
go on writing), writes the site and its open data, and the bulletin of the local day the latest
complete hour belongs to (each language asked for) into ``bulletin/`` beside the site, which the
site links to. After midnight the first run finishes yesterday's bulletin; the next starts today's.

Stopping is prompt and leaves a whole site: a stop request ends a wait at once, and a run in
progress is abandoned at its next file (or before its files are swapped in), its staged files
removed, the site as the previous run left it (:class:`tynys.publish.folder.Folder`).
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
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
            rules: aqi_city.Rules = aqi_city.Rules(), at: int | None = None, day: str | None = None,
            stop: "Stop | threading.Event | None" = None) -> Published:
    """One run: the site, its open data and the bulletin in each of *langs* of *day* (default: the
    local day of the latest complete hour). Once *stop* is set the run is abandoned
    (:class:`~tynys.publish.folder.Abandoned`), the site left as it was."""

    def bulletins(snap, folder) -> list[dict]:
        off = snap.city.utc_offset_s if snap.city else 0
        when = day or iso(snap.end - HOUR + off)[:10]
        out = []
        for lang in langs:
            b = bulletin.write(store, when, lang=lang, city=city, standard=standard, rules=rules, folder=folder)
            for p in (b.pdf, b.png):
                out.append({"name": p.name, "path": p.relative_to(folder.root).as_posix()})
        return out

    with Store.open(db, readonly=True) as store:  # a reader beside the collector: it never takes the write lock
        try:
            return build(store, out, city=city, standard=standard, at=at, tiles=tiles, licence=licence, rules=rules,
                         bulletin=bulletins if langs else None, stop=stop)
        except store.db.Error as e:  # the engine's own error (a locked or lost database), SQLite's or PostgreSQL's
            raise StoreError(f"{db}: {e}") from e


class Stop:
    """A request to stop that a signal handler (or another thread) makes and a wait sees at once.

    Not threading.Event: Event.wait holds the event's lock for a moment, and a signal handler that
    calls Event.set in that moment waits on its own thread forever (``tynys publish --watch`` hung
    so in about 3 of 100 stops). :meth:`set` takes no lock; it writes a byte to a pipe, and
    :meth:`wait` sleeps in ``select`` on that pipe. With :func:`stopped_by_signals` the
    interpreter's own C-level handler writes the signal's number to it too, so a signal arriving
    between a check and the sleep still ends the sleep (no lost wake-up)."""

    def __init__(self):
        self._r, self._w = os.pipe()
        for fd in (self._r, self._w):
            os.set_blocking(fd, False)
        self._wakers = {0}  # bytes meaning "stop": set()'s, and the numbers of the signals that stop
        self._set = False

    def set(self) -> None:
        self._set = True
        with contextlib.suppress(BlockingIOError):  # the pipe is full: a wake-up is already waiting
            os.write(self._w, b"\0")

    def is_set(self) -> bool:
        return self._set

    def wait(self, timeout: float) -> bool:
        """Sleep up to *timeout* seconds or until set; returns whether it is set."""
        end = time.monotonic() + timeout
        while not self._set and (left := end - time.monotonic()) > 0:
            if select.select([self._r], [], [], left)[0]:
                with contextlib.suppress(BlockingIOError):
                    if self._wakers & set(os.read(self._r, 512)):
                        self._set = True
        return self._set

    def close(self) -> None:
        os.close(self._r)
        os.close(self._w)


@contextlib.contextmanager
def stopped_by_signals(stop: Stop, signals=(signal.SIGINT, signal.SIGTERM)):
    """While the block runs (in the main thread), each of *signals* sets *stop*; afterwards the
    former handlers are back (a second Ctrl-C after the block interrupts as usual)."""
    old = {s: signal.signal(s, lambda *_: stop.set()) for s in signals}
    stop._wakers |= {int(s) for s in signals}
    old_fd = signal.set_wakeup_fd(stop._w, warn_on_full_buffer=False)
    try:
        yield stop
    finally:
        signal.set_wakeup_fd(old_fd)
        for s, h in old.items():
            signal.signal(s, h)


def every(interval_s: int, run: Callable[[], object], stop: Stop | threading.Event, *, clock=time.time) -> int:
    """Call *run* now, then at each multiple of *interval_s* on the clock (an hourly run comes on
    the hour), until *stop* is set; returns how many runs were made."""
    runs = 0
    while not stop.is_set():
        run()
        runs += 1
        if stop.wait(interval_s - clock() % interval_s):
            break
    return runs


def on_new_hour(db, run: Callable[[], object], stop: Stop | threading.Event, *, poll_s: float = 30.0) -> int:
    """Call *run* now and whenever the stored windows complete a new hour (the newest window's end
    passes an hour boundary; checked every *poll_s* seconds), until *stop* is set; returns how
    many runs were made."""
    runs, seen = 0, None
    while not stop.is_set():
        with Store.open(db, readonly=True) as store:
            last = max((r["t1"] for r in store.latest()), default=None)
        hour = None if last is None else last // HOUR
        if runs == 0 or hour != seen:
            run()
            runs += 1
            seen = hour
        if stop.wait(poll_s):
            break
    return runs
