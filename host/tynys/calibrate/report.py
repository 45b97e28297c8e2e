"""An HTML performance report with matplotlib figures, in the spirit of EPA's sensor reports.

    from tynys.calibrate.report import write_report
    write_report(evaluation, "report.html", title="Oskemen co-location", drift=fits)

One self-contained file (figures embedded as PNG): the metrics table with pass/fail, scatter
against the reference per interval, the time series, metrics against EPA's target bands, and
(when rolling fits are given) slope and intercept over time.
"""

from __future__ import annotations

import base64
import html
import io
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from .drift import rolling_refit as drift_fits
from .evaluate import Evaluation
from .targets import epa_targets, unverified

_TARGET_METRICS = (("r2", "R²"), ("slope", "slope"), ("intercept", "intercept"), ("rmse", "RMSE"),
                   ("sd", "SD"), ("cv", "CV %"))


def _png(fig) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    import matplotlib.pyplot as plt
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode()


def _dates(t):
    return np.asarray(t, "datetime64[s]")


def figures(ev: Evaluation, drift: dict | None = None) -> dict[str, str]:
    """Base64 PNGs by name: scatter_<interval>, timeseries, targets, drift."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = {}
    unit = epa_targets(ev.pollutant)["unit"]
    intervals = sorted({iv for iv, _ in ev.pairs}, key=lambda s: int(s[:-1]))
    for iv in intervals:
        fig, ax = plt.subplots(figsize=(4.5, 4.5))
        top = 0.0
        for (i2, label), p in ev.pairs.items():
            if i2 == iv and len(p):
                ax.scatter(p.reference, p.sensor, s=6 if iv == "1h" else 18, alpha=0.6, label=label)
                top = max(top, float(np.nanmax(p.reference)), float(np.nanmax(p.sensor)))
        ax.plot([0, top], [0, top], "k--", lw=1, label="1:1")
        ax.set_xlabel(f"reference [{unit}]")
        ax.set_ylabel(f"sensor [{unit}]")
        ax.set_title(f"{ev.pollutant} {iv} averages")
        ax.legend(fontsize=7)
        out[f"scatter_{iv}"] = _png(fig)
    finest = intervals[0] if intervals else None
    if finest:
        fig, ax = plt.subplots(figsize=(9, 3))
        ref_done = False
        for (iv, label), p in ev.pairs.items():
            if iv != finest or not len(p):
                continue
            if not ref_done:
                ax.plot(_dates(p.time), p.reference, "k-", lw=1, label="reference")
                ref_done = True
            ax.plot(_dates(p.time), p.sensor, lw=0.8, alpha=0.8, label=label)
        ax.set_ylabel(f"{ev.pollutant} [{unit}]")
        ax.set_title(f"{finest} time series (co-located intervals)")
        ax.legend(fontsize=7, ncol=4)
        fig.autofmt_xdate()
        out["timeseries"] = _png(fig)
    t = epa_targets(ev.pollutant)
    rows = [r for r in ev.rows if r["sensor"] != "deployment"]
    fig, axes = plt.subplots(1, len(_TARGET_METRICS), figsize=(12, 2.8))
    for ax, (m, label) in zip(axes, _TARGET_METRICS):
        lo, hi = t[m]
        vals = [(r["interval"], r.get(m)) for r in rows if r.get(m) is not None and np.isfinite(r.get(m))]
        ys = [v for _, v in vals]
        span = ys + [x for x in (lo, hi) if x is not None]
        if not span:
            ax.set_axis_off()
            continue
        bottom = min(span) - 0.1 * (abs(min(span)) + 1)
        top = max(span) + 0.1 * (abs(max(span)) + 1)
        ax.axhspan(lo if lo is not None else bottom, hi if hi is not None else top, color="tab:green", alpha=0.15)
        for k, (iv, v) in enumerate(vals):
            ax.plot(0.5 if iv == "1h" else 1.5, v, "o", color="tab:blue" if iv == "1h" else "tab:orange")
        ax.set_xlim(0, 2)
        ax.set_xticks([0.5, 1.5], ["1h", "24h"])
        ax.set_ylim(bottom, top)
        ax.set_title(label)
    fig.suptitle("metrics against EPA target ranges (green)", y=1.06)
    out["targets"] = _png(fig)
    if drift is not None and np.isfinite(drift["slope"]).any():
        fig, (a1, a2) = plt.subplots(2, 1, figsize=(9, 4), sharex=True)
        d = _dates(drift["end"])
        a1.plot(d, drift["slope"], "-o", ms=2)
        a1.set_ylabel("slope")
        a2.plot(d, drift["intercept"], "-o", ms=2, color="tab:red")
        a2.set_ylabel(f"intercept [{unit}]")
        a1.set_title("rolling refit against the reference (drift over time)")
        fig.autofmt_xdate()
        out["drift"] = _png(fig)
    return out


def verdict(row: dict) -> str:
    """``pass``/``FAIL``, with ``?`` when the targets it was judged by are unverified (PM10, SO2)."""
    if row.get("pass") is None:
        return "–"
    return ("pass" if row["pass"] else "FAIL") + ("" if row.get("targets_verified", True) else "?")


def _cell(v) -> str:
    if v is None:
        return "–"
    if isinstance(v, bool):
        return "pass" if v else "FAIL"
    if isinstance(v, float):
        return "–" if not np.isfinite(v) else f"{v:.3g}"
    if isinstance(v, list):
        return ", ".join(map(str, v)) or "–"
    return html.escape(str(v))


def rolling_fits(ev: Evaluation, *, window_days: int = 7) -> dict | None:
    """Rolling refit of the first sensor's 1-h pairs (for the drift panel); None with too few pairs."""
    first = next((p for (iv, _), p in ev.pairs.items() if iv == "1h"), None)
    if first is None or len(first) <= 200:
        return None
    return drift_fits(first.time, first.sensor, first.reference, window=window_days * 86400)


def write_report(ev: Evaluation, path, *, title: str = "Sensor performance report", sources: dict | None = None) -> Path:
    """Write the HTML report to *path* and return it."""
    figs = figures(ev, rolling_fits(ev))
    cols = ["interval", "sensor", "r2", "slope", "intercept", "rmse", "nrmse", "sd", "cv", "n", "uptime", "pass", "failed"]
    head = "".join(f"<th>{c}</th>" for c in cols)
    body = "".join("<tr>" + "".join(f"<td>{verdict(r) if c == 'pass' else _cell(r.get(c))}</td>" for c in cols) + "</tr>"
                   for r in ev.rows)
    t = epa_targets(ev.pollutant)
    doubt = unverified(ev.pollutant)
    caveat = f"<p><strong>Unverified targets:</strong> {html.escape(doubt)} (marked “?”).</p>" if doubt else ""
    tgt = ", ".join(f"{m} {lo if lo is not None else ''}…{hi if hi is not None else ''}"
                    for m, (lo, hi) in ((m, t[m]) for m in ("slope", "intercept", "r2", "rmse", "nrmse", "sd", "cv")))
    imgs = "".join(f'<figure><img alt="{k}" src="data:image/png;base64,{v}"><figcaption>{k}</figcaption></figure>'
                   for k, v in figs.items())
    src = "".join(f"<li>{html.escape(k)}: {html.escape(str(v))}</li>" for k, v in (sources or {}).items())
    notes = "".join(f"<li>{html.escape(n)}</li>" for n in ev.notes if n != doubt)
    doc = f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>body{{font-family:sans-serif;max-width:1100px;margin:2em auto}}table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:3px 6px;font-size:13px}}figure{{display:inline-block;margin:6px}}</style></head>
<body><h1>{html.escape(title)}</h1>
<p>Pollutant {ev.pollutant}; EPA targets (applied at {t['applies_to']}): {html.escape(tgt)}.
24-h means: days midnight to midnight {html.escape(ev.days)}.
Generated {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC by tynys.</p>{caveat}
<table><tr>{head}</tr>{body}</table><ul>{src}{notes}</ul>{imgs}</body></html>
"""
    path = Path(path)
    path.write_text(doc, encoding="utf-8")
    return path
