"""An HTML performance report with matplotlib figures, in the spirit of EPA's sensor reports.

    from tynys.calibrate.report import write_report
    write_report(evaluation, "report.html", title="Oskemen co-location")
    write_report(raw, "report.html", after=corrected, after_label="barkjohn2021")   # before and after

One self-contained file (figures embedded as PNG, each with a caption in words): the EPA targets
in a sentence, the metrics table with pass/fail (and, given *after*, the same for the corrected
sensors), scatter against the reference per interval, the time series, metrics against EPA's
target bands, and a rolling refit of every sensor against the reference (slope and intercept
over time, one labelled line per sensor).
"""

from __future__ import annotations

import base64
import html
import io
import time
from pathlib import Path

import numpy as np

from ..timeutil import iso
from .drift import rolling_refit
from .evaluate import Evaluation
from .inputs import LABELS
from .targets import epa_targets, unverified

_TARGET_METRICS = (("r2", "R²"), ("slope", "slope"), ("intercept", "intercept"), ("rmse", "RMSE"),
                   ("sd", "SD"), ("cv", "CV %"))
REFIT_DAYS = 7
_WORDS = {"1h": "1-hour", "24h": "24-hour"}


def _png(fig) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    import matplotlib.pyplot as plt
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode()


def _dates(t):
    return np.asarray(t, "datetime64[s]")


def _name(ev: Evaluation) -> str:
    return LABELS.get(ev.pollutant, ev.pollutant)


def figures(ev: Evaluation, *, label: str = "") -> list[tuple[str, str]]:
    """``[(caption, base64 PNG)]``: scatter per interval, time series, targets, rolling refit per sensor.
    *label* names what the sensor values are (``as measured``, ``after barkjohn2021``)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = []
    unit = epa_targets(ev.pollutant)["unit"]
    what = f" ({label})" if label else ""
    intervals = sorted({iv for iv, _ in ev.pairs}, key=lambda s: int(s[:-1]))
    for iv in intervals:
        fig, ax = plt.subplots(figsize=(4.5, 4.5))
        top = 0.0
        for (i2, sensor), p in ev.pairs.items():
            if i2 == iv and len(p):
                ax.scatter(p.reference, p.sensor, s=6 if iv == "1h" else 18, alpha=0.6, label=sensor)
                top = max(top, float(np.nanmax(p.reference)), float(np.nanmax(p.sensor)))
        ax.plot([0, top], [0, top], "k--", lw=1, label="1:1")
        ax.set_xlabel(f"reference {_name(ev)} [{unit}]")
        ax.set_ylabel(f"sensor {_name(ev)} [{unit}]")
        ax.legend(fontsize=7)
        out.append((f"Sensor{what} against reference, {_WORDS[iv]} means of {_name(ev)} [{unit}]; dashed: 1:1", _png(fig)))
    finest = intervals[0] if intervals else None
    if finest:
        fig, ax = plt.subplots(figsize=(9, 3))
        ref_done = False
        for (iv, sensor), p in ev.pairs.items():
            if iv != finest or not len(p):
                continue
            if not ref_done:
                ax.plot(_dates(p.time), p.reference, "k-", lw=1, label="reference")
                ref_done = True
            ax.plot(_dates(p.time), p.sensor, lw=0.8, alpha=0.8, label=sensor)
        ax.set_ylabel(f"{_name(ev)} [{unit}]")
        ax.legend(fontsize=7, ncol=4)
        fig.autofmt_xdate()
        out.append((f"{_name(ev)} over time{what}, {_WORDS[finest]} means where sensor and reference both have one",
                    _png(fig)))
    t = epa_targets(ev.pollutant)
    rows = [r for r in ev.rows if r["sensor"] != "deployment"]
    fig, axes = plt.subplots(1, len(_TARGET_METRICS), figsize=(12, 2.8))
    for ax, (m, name) in zip(axes, _TARGET_METRICS):
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
        for iv, v in vals:
            ax.plot(0.5 if iv == "1h" else 1.5, v, "o", color="tab:blue" if iv == "1h" else "tab:orange")
        ax.set_xlim(0, 2)
        ax.set_xticks([0.5, 1.5], ["1h", "24h"])
        ax.set_ylim(bottom, top)
        ax.set_title(name)
    out.append((f"Each sensor's metrics{what} against EPA's target range (green band); blue: 1-hour, orange: "
                f"24-hour means (the targets apply to {_WORDS[t['applies_to']]} means)", _png(fig)))
    fits = rolling_fits(ev)
    if fits:
        fig, (a1, a2) = plt.subplots(2, 1, figsize=(9, 4), sharex=True)
        for sensor, f in fits.items():
            d = _dates(f["end"])
            a1.plot(d, f["slope"], "-o", ms=2, label=sensor)
            a2.plot(d, f["intercept"], "-o", ms=2, label=sensor)
        a1.set_ylabel("slope")
        a2.set_ylabel(f"intercept [{unit}]")
        a1.legend(fontsize=7, ncol=4)
        fig.autofmt_xdate()
        out.append((f"Drift: reference = intercept + slope·sensor{what} refitted on the last {REFIT_DAYS} days of 1-hour "
                    "means, every day, per sensor; a steady sensor gives flat lines", _png(fig)))
    return out


def rolling_fits(ev: Evaluation, *, window_days: int = REFIT_DAYS) -> dict[str, dict]:
    """Per sensor, the rolling refit of its 1-h pairs (sensors with too few pairs left out)."""
    out = {}
    for (iv, sensor), p in ev.pairs.items():
        if iv == "1h" and len(p) > 200:
            f = rolling_refit(p.time, p.sensor, p.reference, window=window_days * 86400)
            if np.isfinite(f["slope"]).any():
                out[sensor] = f
    return out


def verdict(row: dict) -> str:
    """``pass``/``FAIL``, with ``?`` when the targets it was judged by are unverified (PM10, SO2)."""
    if row.get("pass") is None:
        return "–"
    return ("pass" if row["pass"] else "FAIL") + ("" if row.get("targets_verified", True) else "?")


def targets_sentence(pollutant: str) -> str:
    """EPA's targets for *pollutant* in words: ``slope 0.65 to 1.35; intercept −5 to 5 µg/m³; …``."""
    t = epa_targets(pollutant)
    u = t["unit"]

    def rng(m, unit=""):
        lo, hi = t[m]
        unit = f" {unit}" if unit else ""
        return (f"{lo:g} to {hi:g}{unit}" if lo is not None and hi is not None else
                f"≥ {lo:g}{unit}" if lo is not None else f"≤ {hi:g}{unit}")

    parts = [f"slope {rng('slope')}", f"intercept {rng('intercept', u)}", f"R² {rng('r2')}",
             f"RMSE {rng('rmse', u)}" + (f" or NRMSE {rng('nrmse', '%')}" if t["nrmse"] != [None, None] else ""),
             f"SD {rng('sd', u)} or CV {rng('cv', '%')} (between co-located sensors)"]
    return (f"EPA's targets for {LABELS.get(pollutant, pollutant)} sensors, judged on {_WORDS[t['applies_to']]} means: "
            + "; ".join(parts) + ".")


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


def _table(ev: Evaluation) -> str:
    u = epa_targets(ev.pollutant)["unit"]
    cols = [("interval", "interval"), ("sensor", "sensor"), ("n", "n"), ("r2", "R²"), ("slope", "slope"),
            ("intercept", f"intercept [{u}]"), ("rmse", f"RMSE [{u}]"), ("nrmse", "NRMSE %"), ("sd", f"SD [{u}]"),
            ("cv", "CV %"), ("uptime", "uptime %"), ("pass", "targets"), ("failed", "missed")]
    head = "".join(f"<th>{html.escape(name)}</th>" for _, name in cols)

    def cell(r, c):
        if c == "pass":
            return verdict(r) if r["targets_apply"] and r["sensor"] != "deployment" else "–"
        if c == "failed" and not r["targets_apply"]:
            return "–"
        return _cell(r.get(c))

    body = "".join("<tr>" + "".join(f"<td>{cell(r, c)}</td>" for c, _ in cols) + "</tr>" for r in ev.rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def write_report(ev: Evaluation, path, *, title: str = "Sensor performance report", sources: dict | None = None,
                 after: Evaluation | None = None, after_label: str = "") -> Path:
    """Write the HTML report to *path* and return it; *after*: the same sensors corrected (by *after_label*)."""
    doubt = unverified(ev.pollutant)
    caveat = f"<p><strong>Unverified targets:</strong> {html.escape(doubt)} (marked “?”).</p>" if doubt else ""
    figs = figures(ev, label="as measured" if after else "")
    tables = f"<h2>As measured</h2>{_table(ev)}" if after else _table(ev)
    if after is not None:
        figs += figures(after, label=f"after {after_label}")
        tables += f"<h2>After {html.escape(after_label)}</h2>{_table(after)}"
    imgs = "".join(f'<figure><img alt="{html.escape(cap)}" src="data:image/png;base64,{png}">'
                   f"<figcaption>{html.escape(cap)}</figcaption></figure>" for cap, png in figs)
    src = "".join(f"<li>{html.escape(k)}: {html.escape(str(v))}</li>" for k, v in (sources or {}).items())
    notes = "".join(f"<li>{html.escape(n)}</li>" for n in ev.notes if n != doubt)
    doc = f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>body{{font-family:sans-serif;max-width:1100px;margin:2em auto}}table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:3px 6px;font-size:13px}}figure{{display:inline-block;margin:6px;max-width:760px}}
figcaption{{font-size:13px;color:#444}}</style></head>
<body><h1>{html.escape(title)}</h1>
<p>{html.escape(targets_sentence(ev.pollutant))} 24-hour means run midnight to midnight {html.escape(ev.days)}.
Generated {iso(time.time())[:16].replace('T', ' ')} UTC by tynys.</p>{caveat}
{tables}<ul>{src}{notes}</ul>{imgs}</body></html>
"""
    path = Path(path)
    path.write_text(doc, encoding="utf-8")
    return path
