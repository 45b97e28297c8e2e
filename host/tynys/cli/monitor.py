"""``tynys monitor PORT``: a node's live values and warnings as its records arrive."""

from __future__ import annotations

import threading

import click

from ..keys import KeyFile
from ..monitor import Monitor
from ..timeutil import iso
from .common import counts, ingest_options, keys_path, open_collector, run_until_stopped, setup_logging, verbosity
from .output import dumps, output_options


@click.command()
@click.argument("port")
@click.option("--baud", type=int, default=115200, show_default=True)
@click.option("--db", type=click.Path(dir_okay=False), envvar="TYNYS_DB",
              help="Also store and acknowledge the records (as tynys ingest serial). Without it, only watch.")
@click.option("--keys", type=click.Path(dir_okay=False), envvar="TYNYS_KEYS", help="Key file (default beside --db).")
@click.option("--node", "node_key", help="Check signatures with this node's key from the key file (watch mode).")
@output_options(only=("nl",), nl="One JSON object per record (for streams).")
@click.option("--log/--no-log", "show_log", default=True, show_default=True, help="Show the node's other console lines on stderr.")
@ingest_options
@verbosity
def monitor(port, baud, db, keys, node_key, fmt, show_log, max_future, max_past, max_line, verbose):
    """Show each record from PORT as it arrives: channel means, counters, warnings.

    Example: tynys monitor /dev/ttyUSB0
    """
    from ..transport.serialport import SerialIngest

    setup_logging(verbose)
    key = None
    if node_key:
        key = KeyFile(keys_path(db or "tynys.db", keys)).get(node_key)
    mon = Monitor(key)
    lock = threading.Lock()
    collector = open_collector(db, keys, max_future, max_past, max_line) if db else None

    def on_records(source, lines):
        with lock:
            for line in lines:
                ev = mon.feed(line)
                if ev is not None:
                    click.echo(dumps(ev) if fmt else render(ev))

    def on_noise(source, line):
        if show_log:
            click.echo(f"  | {line.decode('utf-8', 'replace')}", err=True)

    def on_outcomes(source, outcomes):
        with lock:
            for o in outcomes:
                if o.status != "stored":
                    click.echo(f"  ! host {o.status} {o.node} seq {o.seq}: {o.reason}: {o.detail}", err=True)

    watch = SerialIngest(collector, [port], baud=baud, on_records=on_records, on_noise=on_noise, on_outcomes=on_outcomes).start()
    click.echo(f"tynys: watching {port}" + (f", storing into {db}" if db else
               " (not acknowledging: the node keeps its records; add --db to store them)") + "; Ctrl-C to stop", err=True)
    run_until_stopped(collector, watch.stop, lambda: [f"{port}: {counts({**watch.counts()[port], **mon.counts})}"])


def render(ev: dict) -> str:
    """The human view of one monitor event."""
    if ev["kind"] != "record":
        return f"! {ev['warnings'][0]}"
    h = ev["health"]
    sig = {True: "  signature ok", False: "  SIGNATURE BAD", None: ""}[ev["verified"]]
    lines = [f"{ev['node']} boot {ev['boot']} seq {ev['seq']}  {iso(ev['t0'])} .. {iso(ev['t1'])[11:]}  clock {ev['clock']}  "
             f"spool {h['spool']}  heap {h['heap_free']}  rssi {h.get('rssi') if h.get('rssi') is not None else '-'}{sig}"]
    width = max((len(c) for c in ev["values"]), default=0)
    for ch, v in ev["values"].items():
        lines.append(f"  {ch:<{width}}  {'-' if v is None else f'{v:>10.2f}'}  n {ev['n'][ch]}")
    lines += [f"  ! {w}" for w in ev["warnings"]]
    return "\n".join(lines)
