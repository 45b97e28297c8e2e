"""The daily bulletin: one day of a city as a PDF (every page) and a PNG (the summary page), in
Kazakh, Russian or English, drawn with matplotlib (DejaVu Sans, which has every Kazakh letter).

    b = bulletin.write(store, "2026-11-27", out=".", lang="ru", city="oskemen")
    b.pdf, b.png   # tynys-bulletin-oskemen-2026-11-27-ru.pdf, ….png
    b.notes        # what is missing (no data, no profile …), also printed in the PDF

Pages:

1. **The city through the day**: the city index of each hour (the chosen standard, median of the
   nodes) and Kazakhstan's hourly СИ, with the day's figures.
2. **The nodes through the day**: one small chart per node, PM2.5 and SO2 by hour.
3. **Exceedances of ПДК** (Kazakhstan): per node and pollutant the highest single (20-min)
   concentration and its multiple of ПДК м.р. (СИ), how many single values exceed ПДК м.р. (НП),
   the daily mean against ПДК с.с.; then the day's СИ, НП and grade over all outdoor nodes.
4. **Calibration status** of each node: the profile behind each pollutant, hours with data,
   the last value, flags.

The day is the city's local calendar day (the layout's UTC offset; UTC without ``city``). Values
come from :mod:`tynys.publish.snapshot` (the same as the site's); sensor data are unofficial.
"""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from matplotlib import rcParams
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure

from ..aqi import kz, tables, units
from ..aqi.results import conversion_temperature
from ..aqi import city as aqi_city
from ..errors import TynysError
from ..store import Store
from ..timeutil import iso, parse_time
from . import site, snapshot
from .folder import TMP
from .snapshot import PublishError, Snapshot

A4 = (8.27, 11.69)
LANGS = site.LANGS
ROWS_PER_PAGE = 38  # table rows on one A4 page
CHARTS_PER_PAGE = 12  # node charts on one page (3 x 4)
KZ_UNITS = {"pm25": "ug/m3", "so2": "ppb"}
NONE_COLOUR = "#bdbdbd"


def _texts(lang: str):
    if lang not in LANGS:
        raise PublishError(f"unknown language {lang!r}: use one of {', '.join(LANGS)}")
    all_texts = site.texts()
    own, en = all_texts[lang], all_texts["en"]

    def t(key: str, **params) -> str:
        s = own.get(key, en.get(key, key))
        for k, v in params.items():
            s = s.replace("{" + k + "}", ", ".join(map(str, v)) if isinstance(v, (list, tuple)) else str(v))
        return s
    return t


def day_window(day: str, city) -> tuple[int, int, int]:
    """``(start, end, utc_offset_s)`` of the local calendar day *day* (``YYYY-MM-DD``)."""
    try:
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", day):
            raise TynysError(day)
        midnight = parse_time(day)  # UTC midnight; refuses Feb 30
    except (TypeError, TynysError):
        raise PublishError(f"cannot read --day {day!r}: use a date such as 2026-11-27") from None
    off = city.utc_offset_s if city is not None else 0
    return midnight - off, midnight - off + 86400, off


@dataclass
class Bulletin:
    pdf: Path
    png: Path
    notes: list  # snapshot.Note: what is missing that day


def write(store: Store, day: str, *, out=".", lang: str = "en", city: str | None = None, standard: str = "us-epa",
          rules: aqi_city.Rules = aqi_city.Rules(), folder=None) -> Bulletin:
    """Write the bulletin of *day* as PDF and PNG into *out* (or into a publish ``Folder``)."""
    t = _texts(lang)
    layout = snapshot.load_city(city)
    start, end, off = day_window(day, layout)
    snap = snapshot.take(store, city=layout, standard=standard, at=end, rules=rules)
    check = folder.check if folder is not None else _go_on  # between pages: a run asked to stop ends soon
    pages = render(snap, t, day, off, check)
    stem = f"tynys-bulletin-{layout.name if layout else 'network'}-{day}-{lang}"
    if folder is not None:  # staged: swapped in with the rest of the site when the run finishes
        rels = (f"bulletin/{stem}.pdf", f"bulletin/{stem}.png")
        _save(pages, *(folder.stage(r) for r in rels), check)
        pdf, png = (folder.path(r) for r in rels)
    else:
        Path(out).mkdir(parents=True, exist_ok=True)
        pdf, png = Path(out) / f"{stem}.pdf", Path(out) / f"{stem}.png"
        tmp = [p.with_name(TMP + p.name) for p in (pdf, png)]
        _save(pages, *tmp)
        for staged, final in zip(tmp, (pdf, png)):
            staged.replace(final)
    return Bulletin(pdf, png, snap.notes)


def _go_on() -> None:
    """A bulletin written on its own is never asked to stop."""


def _save(pages: list[Figure], pdf: Path, png: Path, check=_go_on) -> None:
    with PdfPages(pdf, metadata={"Title": pages[0].texts[0].get_text(), "Creator": "tynys report"}) as doc:
        for fig in pages:
            check()
            doc.savefig(fig)
    check()
    pages[0].savefig(png, dpi=110, format="png")


# --- pages --------------------------------------------------------------------------------

def _style() -> dict:
    return {"font.family": "DejaVu Sans", "font.size": 8, "pdf.fonttype": 42, "axes.titlesize": 9,
            "axes.titleweight": "bold", "svg.fonttype": "none"}


def render(snap: Snapshot, t, day: str, off: int, check=_go_on) -> list[Figure]:
    """The bulletin's pages; *check* is called between them (it raises to stop)."""
    with rcParams_context(_style()):
        place = snap.city.title if snap.city else t("ui.network")
        head = t("b.title", place=place, day=day)
        zone = f"UTC{'+' if off >= 0 else '-'}{abs(off) // 3600:02d}:{abs(off) % 3600 // 60:02d}"
        sub = t("b.window", start=_local(snap.start, off), end=_local(snap.end, off), zone=zone)
        check()
        pages = [_page_city(snap, t, head, sub, off)]
        pages += _page_nodes(snap, t, head, off, check)
        check()
        pages += _page_exceedances(snap, t, head)
        check()
        pages += _page_calibration(snap, t, head, off)
    return pages


class rcParams_context:  # noqa: N801  (matplotlib.rc_context, without importing pyplot)
    def __init__(self, params: dict):
        self.params, self.old = params, {}

    def __enter__(self):
        self.old = {k: rcParams[k] for k in self.params}
        rcParams.update(self.params)

    def __exit__(self, *exc):
        rcParams.update(self.old)


def _local(t0: int, off: int, part: slice = slice(0, 16)) -> str:
    """Local time (UTC + *off*) as ``2026-11-27 14:00``, or the *part* of it (``HOUR``, ``HOUR_MINUTE``)."""
    return iso(t0 + off)[:16].replace("T", " ")[part]


HOUR, HOUR_MINUTE = slice(11, 13), slice(11, 16)


def _page(head: str, title: str, sub: str = "") -> Figure:
    fig = Figure(figsize=A4)
    fig.text(0.06, 0.965, head, fontsize=12, weight="bold")
    fig.text(0.06, 0.94, title, fontsize=11)
    if sub:
        fig.text(0.06, 0.922, sub, fontsize=7.5, color="#555")
    return fig


def _category_colours(snap: Snapshot, sid: str, cats) -> list[str]:
    info = snap.standard(sid)
    return [info.categories[c][1] if c >= 0 else NONE_COLOUR for c in cats]


def _std_name(t, snap: Snapshot, sid: str) -> str:
    k = f"std.{sid}"
    name = t(k)
    return snap.standard(sid).title if name == k else name


def _cat_name(t, snap: Snapshot, sid: str, c: int) -> str:
    if c < 0:
        return t("status.missing")
    k = f"cat.{sid}.{c}"
    name = t(k)
    return snap.standard(sid).categories[c][0] if name == k else name


def _hour_axis(ax, snap: Snapshot, off: int) -> None:
    ax.set_xticks(range(0, 24, 3))
    ax.set_xticklabels([_local(int(h), off, HOUR_MINUTE) for h in snap.hours[::3]])
    ax.set_xlim(-0.6, 23.6)
    ax.grid(axis="y", color="#ddd")
    ax.set_axisbelow(True)


def _page_city(snap: Snapshot, t, head: str, sub: str, off: int) -> Figure:
    fig = _page(head, t("b.page_city"), sub)
    std = snap.default
    x = np.arange(len(snap.hours))
    for k, (sid, ylabel) in enumerate(((std, _std_name(t, snap, std)), ("kz", t("b.si_axis")))):
        ax = fig.add_axes((0.1, 0.62 - k * 0.3, 0.84, 0.24))
        sc = snap.area_index[sid]
        v = np.nan_to_num(sc.index[0], nan=0.0)
        ax.bar(x, v, color=_category_colours(snap, sid, sc.category[0]), edgecolor="#0004", linewidth=0.5)
        ax.set_ylim(0, max(1.3 if sid == "kz" else 1, float(v.max(initial=0)) * 1.35))  # room for the legend
        if sid == "kz":
            ax.axhline(1.0, color="#b71c1c", linewidth=1, linestyle="--")
            ax.text(23.5, 1.0, t("b.limit_line"), ha="right", va="bottom", color="#b71c1c", fontsize=7)
        ax.set_ylabel(ylabel)
        ax.set_title(t("b.city_index", index=_std_name(t, snap, sid)), loc="left")
        _hour_axis(ax, snap, off)
        info = snap.standard(sid)
        for c, (name, colour) in enumerate(info.categories):
            ax.bar([0], [0], color=colour, label=_cat_name(t, snap, sid, c))
        ax.legend(fontsize=6.5, ncol=3, loc="upper left", frameon=False)
    # The day's figures.
    lines = []
    sc = snap.area_index[std]
    if np.isfinite(sc.index[0]).any():
        j = int(np.nanargmax(sc.index[0]))
        lines.append(t("b.highest", index=_std_name(t, snap, std), value=int(sc.index[0][j]),
                       category=_cat_name(t, snap, std, int(sc.category[0][j])), hour=_local(int(snap.hours[j]), off, HOUR_MINUTE)))
    day = assess_day(snap)
    if day["si"] is not None:
        lines.append(t("b.day_kz", si=f"{day['si']:.2f}", si_by=t(f"pol.{day['si_by']}"), np=f"{day['np']:.1f}",
                       grade=_cat_name(t, snap, "kz", day["grade"] - 1)))
    lines.append(t("b.rule", rule=t(f"rule.{snap.rules.statistic}", n=int(np.max(snap.area_values["nodes"][0], initial=0)),
                                    min=snap.rules.min_nodes, trim=int(snap.rules.trim * 100))))
    lines.append(t("b.unofficial"))
    for note in snap.notes:
        lines.append("• " + _note(t, snap, note))
    y = 0.26
    for line in [w for line in lines for w in textwrap.wrap(line, 120)][:14]:
        fig.text(0.06, y, line, fontsize=8)
        y -= 0.017
    return fig


def _note(t, snap: Snapshot, note) -> str:
    if note.key == "note.text":
        return note.text
    named = lambda v: [t(f"pol.{x}") if f"pol.{x}" != t(f"pol.{x}") else x for x in v]  # noqa: E731
    params = {k: named(v) if isinstance(v, list) else v for k, v in note.params.items()}
    if "standard" in params:
        params["standard"] = _std_name(t, snap, params["standard"])
    return t(note.key, **params)


def _page_nodes(snap: Snapshot, t, head: str, off: int, check=_go_on) -> list[Figure]:
    pages = []
    n = len(snap.nodes)
    x = np.arange(len(snap.hours))
    for first in range(0, max(n, 1), CHARTS_PER_PAGE):
        check()
        fig = _page(head, t("b.page_nodes"), t("b.nodes_sub"))
        for k, i in enumerate(range(first, min(first + CHARTS_PER_PAGE, n))):
            r, c = divmod(k, 3)
            ax = fig.add_axes((0.08 + c * 0.31, 0.72 - r * 0.21, 0.25, 0.15))
            node = snap.nodes[i]
            pm = snap.values["pm25"][i]
            ax.bar(x, np.nan_to_num(pm), color=_category_colours(snap, snap.default, snap.index[snap.default].category[i]),
                   edgecolor="none")
            ax.set_title(f"{node.id}" + (f" · {node.district}" if node.district else ""), fontsize=7.5, loc="left")
            ax.set_ylabel("PM2.5 µg/m³", fontsize=6.5)
            ax.tick_params(labelsize=6)
            _hour_axis(ax, snap, off)
            ax.set_xticks(range(0, 24, 6))
            ax.set_xticklabels([_local(int(h), off, HOUR) for h in snap.hours[::6]])
            so2 = snap.values["so2"][i]
            if np.isfinite(so2).any():
                ax2 = ax.twinx()
                ax2.plot(x, so2, color="#37474f", linewidth=1)
                ax2.set_ylabel("SO₂ ppb", fontsize=6.5)
                ax2.tick_params(labelsize=6)
            if not np.isfinite(pm).any() and not np.isfinite(so2).any():
                ax.text(11.5, 0.5, t("status.missing"), ha="center", transform=ax.transData)
        if n == 0:
            fig.text(0.06, 0.85, t("hl.no_nodes"))
        pages.append(fig)
    return pages


def _mg(values, pol: str) -> np.ndarray:
    return units.convert(values, pol, KZ_UNITS[pol], "mg/m3", temperature_c=conversion_temperature(tables.load("kz"), None))


def exceedances(snap: Snapshot) -> list[dict]:
    """Per node and pollutant: the highest single (20-min) value [mg/m³] and СИ, how many single
    values exceed ПДК м.р. of how many, НП %, the daily mean [mg/m³] and its multiple of ПДК с.с."""
    out = []
    for i, n in enumerate(snap.nodes):
        for pol in ("pm25", "so2"):
            singles = _mg(snap.values[f"{pol}_20min"][i], pol)
            ok = np.isfinite(singles)
            if not ok.any():
                continue
            m = kz.multiples(singles, pol, "20min", unit="mg/m3")
            hourly = _mg(snap.values[pol][i], pol)
            mean = float(np.nanmean(hourly)) if np.isfinite(hourly).sum() >= 18 else None
            above = kz.exceedances(m)
            out.append({"node": n.id, "pollutant": pol, "max_single_mg": float(np.nanmax(singles)),
                        "si": float(np.nanmax(m)), "above": int(above[1.0]), "at_least_10": int(above[10.0]),
                        "singles": int(ok.sum()), "np": 100.0 * int(above[1.0]) / int(ok.sum()),
                        "daily_mean_mg": mean,
                        "daily_multiple": None if mean is None else float(kz.multiples([mean], pol, "24h", unit="mg/m3")[0])})
    return out


def assess_day(snap: Snapshot) -> dict:
    """The day's СИ, НП and grade over every outdoor node's single values (unofficial)."""
    out = [n.placement == "outdoor" for n in snap.nodes]
    singles = {}
    for pol in ("pm25", "so2"):
        v = _mg(snap.values[f"{pol}_20min"][np.array(out, dtype=bool)], pol) if any(out) else np.array([])
        if np.isfinite(v).any():
            singles[pol] = v.ravel()
    if not singles:
        return {"si": None, "si_by": None, "np": None, "np_by": None, "grade": 0}
    a = kz.assess(singles, unit="mg/m3")
    return {"si": a.si, "si_by": a.si_by, "np": a.np, "np_by": a.np_by, "grade": a.grade}


def _fmt(v, d: int) -> str:
    return "–" if v is None or v != v else f"{v:.{d}f}"


def _table_pages(head: str, title: str, sub: str, cols: list[str], rows: list[list[str]], widths, tail=()) -> list[Figure]:
    pages = []
    for first in range(0, max(len(rows), 1), ROWS_PER_PAGE):
        fig = _page(head, title, sub)
        ax = fig.add_axes((0.05, 0.08, 0.9, 0.82))
        ax.axis("off")
        part = rows[first:first + ROWS_PER_PAGE] or [["–"] * len(cols)]
        tbl = ax.table(cellText=part, colLabels=cols, loc="upper left", cellLoc="left", colWidths=widths)
        tbl.auto_set_font_size(False)
        tbl.set_fontsize(7)
        tbl.scale(1, 1.25)
        for (r, _), cell in tbl.get_celld().items():
            if r == 0:
                cell.set_text_props(weight="bold")
                cell.set_facecolor("#eceff1")
        pages.append(fig)
    y = 0.06
    for line in tail:
        pages[-1].text(0.06, y, line, fontsize=8, weight="bold")
        y -= 0.016
    return pages


def _page_exceedances(snap: Snapshot, t, head: str) -> list[Figure]:
    rows = [[r["node"], t(f"pol.{r['pollutant']}"), _fmt(r["max_single_mg"], 3), _fmt(r["si"], 2),
             f"{r['above']} / {r['singles']}", _fmt(r["np"], 1), _fmt(r["daily_mean_mg"], 3), _fmt(r["daily_multiple"], 2)]
            for r in exceedances(snap)]
    cols = [t("ui.node"), t("b.col_pollutant"), t("b.col_max_single"), t("b.col_si"), t("b.col_above"), t("b.col_np"),
            t("b.col_daily_mean"), t("b.col_daily_multiple")]
    limits = "; ".join(f"{t(f'pol.{p}')}: ПДК м.р. {kz.limit(p, '20min')}, ПДК с.с. {kz.limit(p, '24h')} mg/m³"
                       for p in ("pm25", "so2"))
    day = assess_day(snap)
    tail = [t("b.day_table", si=_fmt(day["si"], 2), si_by=t(f"pol.{day['si_by']}") if day["si_by"] else "–",
              np=_fmt(day["np"], 1), np_by=t(f"pol.{day['np_by']}") if day["np_by"] else "–",
              grade=_cat_name(t, snap, "kz", day["grade"] - 1) if day["grade"] else "–")]
    return _table_pages(head, t("b.page_exceedances"), t("b.exceedances_sub", limits=limits), cols, rows,
                        [0.12, 0.08, 0.14, 0.12, 0.15, 0.08, 0.14, 0.12], tail)


def _page_calibration(snap: Snapshot, t, head: str, off: int) -> list[Figure]:
    rows = []
    for i, n in enumerate(snap.nodes):
        q = snap.quality[i]
        prof = lambda p: "–" if q["calibration"][p] is None else q["calibration"][p]["profile"]  # noqa: E731
        hours = int((np.isfinite(snap.values["pm25"][i]) | np.isfinite(snap.values["so2"][i])).sum())
        last = _local(parse_time(q["last"]), off) if q["last"] else "–"
        flags = "; ".join(t(f["key"], **f["params"]) for f in q["flags"]) or "–"
        rows.append([n.id, n.district or "–", t(f"q.{q['state']}"), prof("pm25"), prof("so2"), f"{hours} / 24", last,
                     flags[:60]])
    cols = [t("ui.node"), t("ui.district"), t("b.col_state"), "PM2.5", t("pol.so2"), t("b.col_hours"), t("b.col_last"),
            t("b.col_flags")]
    return _table_pages(head, t("b.page_calibration"), t("b.calibration_sub"), cols, rows,
                        [0.1, 0.1, 0.13, 0.13, 0.12, 0.08, 0.14, 0.2])

