"""``tynys config check FILE``: a node's config.json judged by the node's own checker."""

from __future__ import annotations

import click

from .. import boards, nodeconfig
from ..errors import TynysError
from .output import emit, output_options


class ConfigProblems(TynysError):
    """The config has problems (each already printed)."""


@click.group()
def config():
    """Check node configuration files.

    Example: tynys config check config.json --board esp32-devkitc
    """


@config.command()
@click.argument("file", type=click.Path(dir_okay=False, allow_dash=True))
@click.option("--board", help=f"Check pins against this board file ({', '.join(boards.names())}).")
@output_options
def check(file, board, fmt):
    """Report every problem in FILE at once, each with its fix (the node's own checks).

    Without --board the pins are not checked. Exit status 2 when there are problems.

    Example: tynys config check config.json --board esp32-c3-supermini
    """
    if board:
        boards.load(board)  # an unknown board is named with the known ones
    problems = nodeconfig.check_file(file, board)
    if fmt:
        emit([{"file": file, "board": board, "problem": p} for p in problems], fmt)
    else:
        for p in problems:
            click.echo(p)
    if not board:
        click.echo("tynys: pins not checked; add --board (one of: " + ", ".join(boards.names()) + ")", err=True)
    if problems:
        raise ConfigProblems(f"{len(problems)} problem(s) in {file}; fix them and check again")
    click.echo(f"tynys: {file}: no problems" + (f" on board {board}" if board else ""), err=True)
