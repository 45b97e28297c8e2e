"""``tynys flash``: MicroPython onto a board, through esptool's Python API."""

from __future__ import annotations

import click

from .. import boards, flash as lib
from ..errors import TynysError
from .output import emit, output_options


def _bar():
    shown = [-1]

    def progress(done, total):
        pct = 100 * done // max(total, 1)
        if pct != shown[0]:
            shown[0] = pct
            n = pct * 30 // 100
            click.echo(f"\rwriting [{'#' * n}{'.' * (30 - n)}] {pct:3d}%", err=True, nl=pct == 100)

    return progress


@click.command()
@click.option("--board", required=True, help=f"The board ({', '.join(boards.names())}).")
@click.option("--port", required=True, help="Its serial port, e.g. /dev/ttyUSB0 (or socket://host:port).")
@click.option("--image", type=click.Path(dir_okay=False), help="MicroPython's whole .bin for the board.")
@click.option("--version", "version", metavar="V", help="Download (or take from the cache) MicroPython V, e.g. 1.24.1.")
@click.option("--baud", type=int, default=460800, show_default=True, help="Speed while writing (115200 if it fails).")
@click.option("--no-stub", is_flag=True, help="Talk to the ROM bootloader only (slower; for boards where the stub fails).")
@click.option("-v", "--verbose", is_flag=True, help="Show esptool's messages.")
@output_options
def flash(board, port, image, version, baud, no_stub, verbose, fmt):
    """Erase the board and write MicroPython at the board's offset, then verify it.

    The chip on the port must be the board's; nothing is written otherwise. Give the image as a
    file, or --version to download the official one (checked; kept in ~/.cache/tynys/firmware).

    Example: tynys flash --board esp32-devkitc --port /dev/ttyUSB0 --version 1.24.1
    """
    if (image is None) == (version is None):
        raise TynysError("give exactly one of --image FILE or --version V")
    b = boards.load(board)
    if version:
        image = lib.image_for(board, version)
        click.echo(f"tynys: image {image}", err=True)
    say = (lambda s: click.echo(f"  esptool: {s}", err=True)) if verbose else (lambda s: None)
    done = lib.flash(board, port, lib.read_image(image, b, version), baud=baud, stub=not no_stub, say=say,
                     progress=_bar())
    emit(done, fmt, human=lambda d: click.echo(
        f"MicroPython {d['version'] or '(version unknown)'} written to the {d['chip']} on {port} "
        f"({d['bytes']} bytes at {d['offset']}, {d['flash_size']} flash, MAC {d['mac']}), verified (MD5 {d['md5']}).\n"
        f"Next: tynys provision --board {board} --port {port} --node <id>"))
