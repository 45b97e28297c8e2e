"""One way to print data rows, shared by every command that prints data.

Human text is the default; ``--json`` prints one JSON document, ``--nl`` one object per line
(for live streams), ``--csv`` a header once then rows. Data goes to stdout; logs and hints to
stderr (``click.echo(..., err=True)``).

    @click.command()
    @output_options
    def stats(fmt):
        emit(rows, fmt)
"""

from __future__ import annotations

import csv
import json
import math
import sys
from typing import Iterable

import click


def output_options(fn):
    """Add ``--json``/``--nl``/``--csv`` (mutually exclusive) as a ``fmt`` argument."""
    fn = click.option("--csv", "fmt", flag_value="csv", help="CSV with a header row.")(fn)
    fn = click.option("--nl", "fmt", flag_value="nl", help="One JSON object per line.")(fn)
    fn = click.option("--json", "fmt", flag_value="json", help="One JSON document.")(fn)
    return fn


def _clean(v):
    # JSON has no NaN: a missing number is null.
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if isinstance(v, dict):
        return {k: _clean(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_clean(x) for x in v]
    if hasattr(v, "item"):  # numpy scalar
        return _clean(v.item())
    return v


def dumps(obj) -> str:
    return json.dumps(_clean(obj), ensure_ascii=False)


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
        rs = [rows] if single else list(rows)
        if rs:
            w = csv.DictWriter(out, fieldnames=list(rs[0].keys()), extrasaction="ignore")
            w.writeheader()
            for r in rs:
                w.writerow(_clean(r))
    elif human is not None:
        human(rows)
    else:
        out.write(table([rows] if single else list(rows)))


def table(rows: list[dict]) -> str:
    """A plain aligned text table (what a person sees by default)."""
    if not rows:
        return "(no rows)\n"
    cols = list(rows[0].keys())
    cells = [[_fmt(r.get(c)) for c in cols] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(cols)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(cols, widths)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(v.ljust(w) for v, w in zip(row, widths)).rstrip() for row in cells]
    return "\n".join(lines) + "\n"


def _fmt(v) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "-"
    if isinstance(v, float):
        return f"{v:.4g}" if abs(v) < 1e5 else f"{v:.0f}"
    return str(v)
