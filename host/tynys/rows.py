"""Rows of data (lists of dicts) as text: an aligned table for people, JSON, and CSV whose cells
are plain values. The ``tynys`` command's output options (``tynys.cli.output``) and the demo
both print through these, so a row looks the same wherever it is shown.

    from tynys import rows
    print(rows.table([{"node": "osk-01", "pm25": 35.1}]), end="")
    rows.write_csv(data, sys.stdout)       # nested values as JSON, booleans true/false, None empty
    rows.dumps({"pm25": float("nan")})     # '{"pm25": null}'
"""

from __future__ import annotations

import csv
import json
import math
from typing import IO, Iterable


def clean(v):
    """*v* with what JSON has no words for made plain: NaN and infinities None, numpy scalars
    Python numbers, tuples lists."""
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if isinstance(v, dict):
        return {k: clean(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [clean(x) for x in v]
    if hasattr(v, "item"):  # numpy scalar
        return clean(v.item())
    return v


def dumps(obj) -> str:
    return json.dumps(clean(obj), ensure_ascii=False)


def csv_cell(v) -> str:
    """One CSV cell: empty for None (and NaN), ``true``/``false`` for booleans (as in JSON),
    nested lists and dicts as JSON text, numbers and text as they are."""
    v = clean(v)
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (dict, list)):
        return dumps(v)
    return str(v)


def write_csv(data: Iterable[dict], stream: IO[str]) -> None:
    """A header row (the first row's keys), then one line per row; nothing for no rows."""
    data = list(data)
    if not data:
        return
    fields = list(data[0].keys())
    w = csv.writer(stream)
    w.writerow(fields)
    for r in data:
        w.writerow([csv_cell(r.get(k)) for k in fields])


def table(data: list[dict]) -> str:
    """A plain aligned text table (what a person sees by default); ``-`` for no value."""
    if not data:
        return "(no rows)\n"
    cols = list(data[0].keys())
    cells = [[cell(r.get(c)) for c in cols] for r in data]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(cols)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(cols, widths)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(v.ljust(w) for v, w in zip(row, widths)).rstrip() for row in cells]
    return "\n".join(lines) + "\n"


def cell(v) -> str:
    """One table cell. Floats show at most 4 significant digits: values that reach a table are
    already rounded to what they can claim (``tynys.aqi.report``)."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "-"
    if isinstance(v, float):
        return f"{v:.4g}" if abs(v) < 1e5 else f"{v:.0f}"
    if isinstance(v, (dict, list)):
        return dumps(v)
    return str(v)
