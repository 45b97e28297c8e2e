"""``tynys doctor``: a wiring self-test on the node, with the fix for each fault."""

from __future__ import annotations

import click

from .. import boards, doctor as lib
from .output import emit, output_options


@click.command()
@click.option("--port", required=True, help="The node's serial port, e.g. /dev/ttyUSB0.")
@click.option("--board", help=f"The board, when the node has no board.json yet ({', '.join(boards.names())}).")
@click.option("--forum", is_flag=True, help="Also print a block to paste into a forum post.")
@output_options
def doctor(port, board, forum, fmt):
    """Check the node's wiring: which UART pins see which sensor's frames (and swapped TX/RX), an
    I2C scan, ISB electrode voltages, free heap and flash, the last reset cause.

    The node stops measuring while it runs (about 20 s on a board); reset it afterwards, or run
    tynys provision. --json prints the whole report (findings and the raw probe); --nl and --csv
    one finding per line.

    Example: tynys doctor --port /dev/ttyUSB0
    """
    report = lib.examine(port, board)
    emit(report if fmt == "json" else report["findings"], fmt, human=lambda _: click.echo(lib.render(report)))
    if forum:
        click.echo("\n--- paste this into a forum post (the node's key is left out) ---\n" + lib.forum_block(report))
