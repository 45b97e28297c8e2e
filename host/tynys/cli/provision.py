"""``tynys provision``: firmware, board file and config onto a board, its key into the registry."""

from __future__ import annotations

import click

from .. import boards, provision as lib
from .common import db_option
from .output import emit, output_options


@click.command()
@click.option("--board", required=True, help=f"The board ({', '.join(boards.names())}).")
@click.option("--port", required=True, help="Its serial port, e.g. /dev/ttyUSB0.")
@click.option("--node", "node", required=True, help="The node's id, e.g. osk-07 (registered now).")
@click.option("--wifi", metavar="SSID", help="The WiFi network (needed for --uplink http or mqtt).")
@click.option("--password", default="", help="The WiFi password.")
@click.option("--uplink", type=click.Choice(lib.UPLINKS), default="serial", show_default=True,
              help="How records reach the host.")
@click.option("--host", help="Where records go: the collector's URL (http) or broker host[:port] (mqtt).")
@click.option("--sensor", "sensors", multiple=True, metavar="SLOT=TYPE[:MODEL]",
              help="Name a sensor instead of detecting it, e.g. pm=pms5003. Repeat.")
@click.option("--window", "window_s", type=int, default=300, show_default=True, help="Averaging window [s].")
@click.option("--update", is_flag=True, help="The node is registered: refresh its firmware and config, keep its key.")
@click.option("--timeout", type=float, help="Seconds to wait for the first record (default: a window and 2 minutes).")
@db_option
@output_options
def provision(board, port, node, wifi, password, uplink, host, sensors, window_s, update, timeout, db, keys, fmt):
    """Set up a board that runs MicroPython as node NODE: copy the firmware (only changed files),
    write board.json and a checked config.json with the detected sensors, register the node and
    its new key, set its clock, reset it and wait for its first record.

    Example: tynys provision --board esp32-devkitc --port /dev/ttyUSB0 --node osk-07 --db city.db
    """
    done = lib.provision(board, port, node, db=db, keys=keys, wifi=wifi, password=password, uplink=uplink, host=host,
                         sensors=list(sensors), window_s=window_s, update=update, timeout=timeout,
                         say=lambda s: click.echo(f"tynys: {s}", err=True))
    r = done["first_record"]
    emit(done, fmt, human=lambda d: click.echo(
        f"{node} runs on board {board} at {port} (MicroPython {d['micropython']}): sensors "
        f"{', '.join(k + '=' + v['type'] for k, v in sorted(d['sensors'].items()))}; {d['copied']} file(s) copied, "
        f"{d['up_to_date']} up to date.\nFirst record: seq {r.get('seq')}, clock {r.get('clock')}, stored in {db}."))
