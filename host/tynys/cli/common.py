"""Options and helpers shared by the host commands: database and key file, ingest limits,
typed values (durations, times, sizes), logging, and running a collector until Ctrl-C."""

from __future__ import annotations

import logging
import signal
import threading
import time
from typing import Callable

import click

from ..errors import TynysError
from ..ingest import DEFAULT_MAX_FUTURE, DEFAULT_MAX_LINE, DEFAULT_MAX_PAST, Collector, open_ingestor
from ..keys import default_path
from ..timeutil import iso, parse_duration, parse_time
from .output import dumps


def cluster_option(fn):
    """``--cluster local:N | tcp://HOST:PORT``: run the per-node parts on Dask workers."""
    return click.option("--cluster", default=None, metavar="local:N|tcp://HOST:PORT",
                        help="Run each node as a part on a Dask cluster: local:N worker processes here, or a running "
                             "scheduler's address. Same results as without.")(fn)


def archive_option(fn):
    """``--archive DIR``: read the nodes and the reference from a Parquet archive instead of --db."""
    return click.option("--archive", default=None, type=click.Path(file_okay=False), metavar="DIR",
                        help="Read the nodes' readings and the reference from this Parquet archive (tynys archive "
                             "export) instead of --db; with --cluster each worker reads only its node's rows.")(fn)


def db_option(fn):
    fn = click.option("--keys", "keys", type=click.Path(dir_okay=False), envvar="TYNYS_KEYS", default=None,
                      help="Node key file (0600). Default: beside a database file, DB with suffix .keys (a PostgreSQL URL needs it named). Env TYNYS_KEYS.")(fn)
    fn = click.option("--db", "db", type=click.Path(dir_okay=False), envvar="TYNYS_DB", default="tynys.db",
                      show_default=True, help="SQLite database file, or a PostgreSQL URL (postgresql://USER:PASSWORD@HOST:5432/DATABASE). Env TYNYS_DB.")(fn)
    return fn


def keys_path(db: str, keys: str | None) -> str:
    return str(keys or default_path(db))


class Parsed(click.ParamType):
    """A value read by one of the toolkit's parsers (their errors name the accepted forms)."""

    def __init__(self, name: str, parse: Callable[[str], int]):
        self.name, self._parse = name, parse

    def convert(self, value, param, ctx):
        if isinstance(value, int):
            return value
        try:
            return self._parse(value)
        except TynysError as e:
            self.fail(str(e), param, ctx)


def _parse_size(text: str) -> int:
    units = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30}
    t = text.strip().lower().removesuffix("b").removesuffix("i")
    num, unit = (t[:-1], t[-1]) if t[-1:] in "kmg" else (t, "")
    try:
        n = int(float(num) * units[unit])
    except (ValueError, OverflowError):
        n = 0
    if n <= 0:
        raise TynysError(f"cannot read size {text!r}: use a positive number of bytes or K/M/G, e.g. 1M")
    return n


Duration = Parsed("duration", parse_duration)
Time = Parsed("time", parse_time)
ByteSize = Parsed("size", _parse_size)


def ingest_options(fn):
    """Limits of the one ingest path, as keyword arguments max_future, max_past, max_line."""
    fn = click.option("--max-line", type=int, default=DEFAULT_MAX_LINE, show_default=True,
                      help="Longest record line accepted [bytes].")(fn)
    fn = click.option("--max-past", type=Duration, default=DEFAULT_MAX_PAST, show_default="366d",
                      help="Keep pending (stored, re-timed later) windows that ended longer ago than this; 0 = no limit.")(fn)
    fn = click.option("--max-future", type=Duration, default=DEFAULT_MAX_FUTURE, show_default="10m",
                      help="Keep pending (stored, re-timed later) windows ending further ahead of the host clock than this; "
                           "0 = no limit (a virtual node running faster than real time).")(fn)
    return fn


def open_collector(db: str, keys: str | None, max_future: int, max_past: int, max_line: int) -> Collector:
    return Collector(open_ingestor(db, keys_path(db, keys), max_future=max_future or None, max_past=max_past or None,
                                   max_line=max_line))


def verbosity(fn):
    return click.option("-v", "--verbose", count=True, help="More log lines on stderr (-vv for debug).")(fn)


def setup_logging(verbose: int) -> None:
    logging.basicConfig(level=logging.INFO if verbose == 0 else logging.DEBUG, force=True,
                        format="tynys: %(message)s" if verbose < 2 else "%(asctime)s %(name)s: %(message)s")


def run_until_stopped(collector: Collector | None, stop: Callable[[], None], summary: Callable[[], list[str]]) -> None:
    """Block until Ctrl-C or SIGTERM; then stop the transport, store what is in hand, print a summary."""
    stopped = threading.Event()

    def handler(signum, frame):
        stopped.set()

    old = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        while not stopped.wait(0.5):
            pass
    finally:
        for s, h in old.items():
            signal.signal(s, h)
        stop()
        if collector is not None:
            collector.close()
        lines = summary()
        if collector is not None:
            lines.append("outcomes: " + counts(collector.ingestor.counts))
        for line in lines:
            click.echo(f"tynys: {line}", err=True)


def counts(c: dict) -> str:
    return ", ".join(f"{k} {v}" for k, v in sorted(c.items())) or "none"


def outcome_printer(fmt: str | None):
    """A callback ``(source, outcomes)`` printing one line per record outcome to stdout."""
    lock = threading.Lock()

    def show(source: str, outcomes) -> None:
        with lock:
            for o in outcomes:
                if fmt in ("nl", "json"):
                    click.echo(dumps(dict(o.as_dict(), source=source, ack=o.ack)))
                else:
                    if o.status == "stored":
                        what = f"stored, {o.detail}" if o.detail else "stored"
                    else:
                        what = f"{o.status} {o.reason}: {o.detail}"
                    ident = f"{o.node} boot {o.boot} seq {o.seq}" if o.node else "?"
                    click.echo(f"{iso(time.time())} {source}: {ident} {what}")

    return show
