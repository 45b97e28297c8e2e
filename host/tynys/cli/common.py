"""Options shared by the host commands: the database, its key file, ingest limits, logging."""

from __future__ import annotations

import logging
import signal
import threading
import time

import click

from ..ingest import DEFAULT_MAX_FUTURE, DEFAULT_MAX_PAST, DEFAULT_MAX_LINE
from ..keys import default_path
from ..timeutil import iso, parse_duration, parse_time
from .output import dumps


def db_option(fn):
    fn = click.option("--keys", "keys", type=click.Path(dir_okay=False), envvar="TYNYS_KEYS", default=None,
                      help="Node key file (0600). Default: beside the database, DB with suffix .keys. Env TYNYS_KEYS.")(fn)
    fn = click.option("--db", "db", type=click.Path(dir_okay=False), envvar="TYNYS_DB", default="tynys.db",
                      show_default=True, help="SQLite database. Env TYNYS_DB.")(fn)
    return fn


def keys_path(db: str, keys: str | None) -> str:
    return str(keys or default_path(db))


class Duration(click.ParamType):
    name = "duration"

    def convert(self, value, param, ctx):
        if isinstance(value, int):
            return value
        try:
            return parse_duration(value)
        except Exception as e:
            self.fail(str(e), param, ctx)


class Time(click.ParamType):
    name = "time"

    def convert(self, value, param, ctx):
        if isinstance(value, int):
            return value
        try:
            return parse_time(value)
        except Exception as e:
            self.fail(str(e), param, ctx)


class ByteSize(click.ParamType):
    name = "size"
    _units = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30}

    def convert(self, value, param, ctx):
        if isinstance(value, int):
            return value
        text = value.strip().lower().removesuffix("b").removesuffix("i")
        num, unit = (text[:-1], text[-1]) if text[-1:] in "kmg" else (text, "")
        try:
            return int(float(num) * self._units[unit])
        except ValueError:
            self.fail(f"cannot read size {value!r}: use bytes or K/M/G, e.g. 1M", param, ctx)


def run_until_stopped(poll: float = 0.5) -> None:
    """Block until Ctrl-C or SIGTERM (both end a collector gracefully)."""
    stop = threading.Event()

    def handler(signum, frame):
        stop.set()

    old = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        while not stop.wait(poll):
            pass
    finally:
        for s, h in old.items():
            signal.signal(s, h)


def outcome_printer(fmt: str | None):
    """A callback ``(source, outcomes)`` printing one line per record outcome to stdout."""
    lock = threading.Lock()

    def show(source: str, outcomes) -> None:
        with lock:
            for o in outcomes:
                if fmt in ("nl", "json"):
                    click.echo(dumps(dict(o.as_dict(), source=source, ack=o.ack)))
                else:
                    what = o.status if o.status == "stored" else f"{o.status} {o.reason}: {o.detail}"
                    ident = f"{o.node} boot {o.boot} seq {o.seq}" if o.node else "?"
                    click.echo(f"{iso(time.time())} {source}: {ident} {what}")

    return show


def ingest_options(fn):
    """Limits of the one ingest path, as keyword arguments max_future, max_past, max_line."""
    fn = click.option("--max-line", type=int, default=DEFAULT_MAX_LINE, show_default=True,
                      help="Longest record line accepted [bytes].")(fn)
    fn = click.option("--max-past", type=Duration(), default=DEFAULT_MAX_PAST, show_default="366d",
                      help="Refuse windows that ended longer ago than this (reason clock); 0 = no limit.")(fn)
    fn = click.option("--max-future", type=Duration(), default=DEFAULT_MAX_FUTURE, show_default="10m",
                      help="Refuse windows ending further ahead of the host clock than this (reason clock).")(fn)
    return fn


def limits(max_future: int, max_past: int, max_line: int) -> dict:
    return {"max_future": max_future, "max_past": max_past or None, "max_line": max_line}


def verbosity(fn):
    fn = click.option("-v", "--verbose", count=True, help="More log lines on stderr (-vv for debug).")(fn)
    return fn


def setup_logging(verbose: int) -> None:
    level = logging.WARNING if verbose < 0 else (logging.INFO if verbose == 0 else logging.DEBUG)
    logging.basicConfig(level=level, format="tynys: %(message)s" if verbose < 2 else "%(asctime)s %(name)s: %(message)s",
                        force=True)
