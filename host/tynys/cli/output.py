"""One way to print data rows, shared by every command that prints data.

Human text is the default; ``--json`` prints one JSON document, ``--nl`` one object per line
(for live streams), ``--csv`` a header once then rows (nested values as JSON, booleans
``true``/``false``). Giving two of them is a usage error. Data goes to stdout; logs and hints to
stderr (``click.echo(..., err=True)``). The text forms themselves are :mod:`tynys.rows`.

    @click.command()
    @output_options
    def stats(fmt):
        emit(rows, fmt)

    @output_options(only=("nl",), nl="One JSON object per record outcome.")   # a stream: --nl only
"""

from __future__ import annotations

import functools
import sys
from typing import Iterable

import click

from ..rows import dumps, table, write_csv  # noqa: F401  (table, dumps: re-exported for the commands)

FORMATS = {"json": "One JSON document.", "nl": "One JSON object per line.", "csv": "CSV with a header row."}


def output_options(fn=None, *, only: tuple = tuple(FORMATS), **help_text):
    """Add ``--json``/``--nl``/``--csv`` (or the formats in *only*; *help_text* overrides a
    format's help) as one ``fmt`` argument: the format chosen, or None for the human default."""
    if fn is None:
        return functools.partial(output_options, only=only, **help_text)

    @functools.wraps(fn)
    def wrapper(*args, **kw):
        chosen = [f for f in only if kw.pop(f"fmt_{f}")]
        if len(chosen) > 1:
            raise click.UsageError(f"use just one of {', '.join('--' + f for f in chosen)}: they choose the output format")
        return fn(*args, fmt=chosen[0] if chosen else None, **kw)

    for f in reversed(only):
        wrapper = click.option(f"--{f}", f"fmt_{f}", is_flag=True, help=help_text.get(f, FORMATS[f]))(wrapper)
    return wrapper


def emit(rows: Iterable[dict] | dict, fmt: str | None, human=None, stream=None) -> None:
    """Print *rows* (a list of dicts, or one dict) in *fmt*; ``human(rows)`` renders the default text."""
    out = stream or sys.stdout
    single = isinstance(rows, dict)
    if fmt == "json":
        out.write(dumps(rows if single else list(rows)) + "\n")
    elif fmt == "nl":
        for r in [rows] if single else rows:
            out.write(dumps(r) + "\n")
    elif fmt == "csv":
        write_csv([rows] if single else rows, out)
    elif human is not None:
        human(rows)
    else:
        out.write(table([rows] if single else list(rows)))
