"""``tynys aqi``: air-quality indices over plain numbers (library: :mod:`tynys.aqi`).

    tynys aqi value --standard us-epa --pollutant pm25 --period 24h 35.9
    tynys aqi nowcast --pollutant pm25 34.9 43 50 64.9 69.2 66.2 53.7 48.6 49.2 35 nan 21
    tynys aqi index --standard us-epa o3:8h=0.078 pm25:24h=35.9 co:8h=8.4
    tynys aqi value --standard kz --pollutant so2 --period 20min 0.4
    tynys aqi standards
"""

from __future__ import annotations

import math

import click
import numpy as np

from .. import aqi as lib
from ..aqi import breakpoints, kz, tables
from ..aqi.tables import AqiError
from .output import emit, output_options, table

_STANDARD = click.option("--standard", "-s", default="us-epa", show_default=True,
                         help="Index standard: " + ", ".join(tables.standards()) + ".")
_VERSION = click.option("--version", "version", default=None,
                        help="Table version (e.g. 2013, 2015, 2024); default: in force on --at.")
_AT = click.option("--at", default=None, help="Date (YYYY-MM-DD) whose table version applies; default today.")
_UNIT = click.option("--unit", default=None, help="Unit of the values (ug/m3, mg/m3, ppb, ppm); default: the table's.")
_TEMP = click.option("--temperature", "temperature_c", type=float, default=None,
                     help="Temperature [degC] for ppb <-> ug/m3; default: the standard's reference.")


def _floats(values) -> np.ndarray:
    out = []
    for v in values:
        try:
            out.append(float(v))
        except ValueError:
            raise AqiError(f"{v!r} is not a number (write a missing hour as nan)") from None
    return np.array(out)


def _refuse_bad(values, pollutant, unit):
    """Typed-in values: negative or absurd ones are an error here, not a silent 'no index'."""
    for v in values:
        if v < 0:
            raise AqiError(f"{pollutant} value {v:g} is negative: a concentration cannot be below 0; check the input")
        if math.isinf(v):
            raise AqiError(f"{pollutant} value {v} is not a concentration")
    if unit in ("ug/m3", "mg/m3"):  # gases in ppb are checked by the table (status 'implausible')
        ug = lib.units.convert(values, pollutant, unit, "ug/m3")
        if np.any(ug > tables.pollutant_facts(pollutant)["plausible_max"]):
            _implausible(pollutant, float(np.nanmax(values)), unit)


def _implausible(pollutant, v, unit):
    cap = tables.pollutant_facts(pollutant)["plausible_max"]
    raise AqiError(f"{pollutant} value {v:g} {unit} is above the plausible limit {cap:g} ug/m3 "
                   f"(tables/pollutants.json): check the unit")


def _std(standard, version, at):
    return tables.load(standard, version=version, at=at)


def _period(std, pollutant, period):
    if period is not None:
        return period
    periods = std.periods(tables.pollutant_id(pollutant))
    if len(periods) == 1:
        return periods[0]
    if std.kind == "ratio":
        return "20min"
    raise AqiError(f"{std.name} has several periods for {pollutant} ({', '.join(periods)}): choose one with --period")


@click.group(name="aqi")
def aqi():
    """Air-quality indices: US EPA (NowCast, SO2/O3 rules), EEA, Kazakhstan ПДК/СИ/НП/ИЗА,
    UK DAQI, India NAQI, China HJ 633, Canada AQHI.

    Example: tynys aqi value --standard us-epa --pollutant pm25 --period 24h 35.9
    """


@aqi.command()
@_STANDARD
@_VERSION
@_AT
@click.option("--pollutant", "-p", required=True, help="pm25, pm10, o3, co, so2, no2, ...")
@click.option("--period", default=None, help="Averaging period of the values (24h, 8h, 1h, 20min, ...).")
@_UNIT
@_TEMP
@click.option("--reference", is_flag=True, help="kz: the values come from reference instruments (not labelled unofficial).")
@click.argument("values", nargs=-1, required=True)
@output_options
def value(standard, version, at, pollutant, period, unit, temperature_c, reference, values, fmt):
    """Index of concentrations of one pollutant averaged over one period.

    Example: tynys aqi value --standard us-epa --pollutant pm25 --period 24h 35.9 --json
    """
    std = _std(standard, version, at)
    pid = tables.pollutant_id(pollutant)
    x = _floats(values)
    u = tables.normalise_unit(unit) if unit else None
    _refuse_bad(x, pid, u or _unit_of(std, pid, period))
    if std.kind == "formula":
        raise AqiError(f"{std.name} combines NO2, O3 and PM2.5 in one formula: use "
                       f"`tynys aqi index --standard {std.id} no2=20 o3=30 pm25=10`")
    period = _period(std, pid, period)
    if std.kind == "ratio":
        rows = _kz_rows(std, pid, period, x, u or "mg/m3", temperature_c, reference)
    else:
        s = lib.sub_index(x, pid, period, std.id, unit=u, version=std.version, temperature_c=temperature_c)
        if (s.status == breakpoints.IMPLAUSIBLE).any():
            _implausible(pid, float(x[s.status == breakpoints.IMPLAUSIBLE][0]), u or s.table.unit)
        rows = s.rows(given=x)
        for r in rows:
            if u and u != r["unit"]:
                r["given_unit"] = u
    emit(rows[0] if len(rows) == 1 else rows, fmt, human=_human_value)


def _unit_of(std, pid, period):
    if std.kind == "ratio":
        return "mg/m3"
    if period is None:
        return None
    try:
        return std.table(pid, period).unit
    except AqiError:
        return None


def _kz_rows(std, pid, period, x, unit, temperature_c, reference):
    m = kz.multiples(x, pid, period, unit=unit, temperature_c=temperature_c, version=std.version)
    lim = kz.limit(pid, period, version=std.version)
    grades = kz.grade(si=m, version=std.version) if period == "20min" else np.zeros(m.shape, int)
    names = kz.grade_names(grades, version=std.version)
    levels = std.data["exceedance_levels"]
    rows = []
    for k, v in enumerate(x):
        mult = None if not np.isfinite(m[k]) else round(float(m[k]), 4)
        rows.append({
            "standard": std.id, "version": std.version, "pollutant": pid, "period": period,
            "unit": unit, "concentration": float(v) if np.isfinite(v) else None,
            "limit": kz.limit_name(period, version=std.version), "limit_mg_m3": lim,
            "multiple": mult,
            "exceeds": [lv["multiple"] for lv in levels if mult is not None and kz.reaches(mult, lv)],
            "grade": names[k] or None,
            "grade_by": "СИ" if period == "20min" and mult is not None else None,
            "official": bool(reference),
            "note": "" if reference else std.data["official_note"],
        })
    return rows


def _human_value(rows):
    rows = rows if isinstance(rows, list) else [rows]
    if "multiple" in rows[0]:
        for r in rows:
            mult = "-" if r["multiple"] is None else f"{r['multiple']:g} x {r['limit']} ({r['limit_mg_m3']:g} mg/m3)"
            grade = f"  grade by СИ: {r['grade']}" if r["grade"] else ""
            click.echo(f"{r['standard']} {r['version']}  {r['pollutant']} {r['period']}  "
                       f"{_g(r['concentration'])} {r['unit']}  ->  {mult}{grade}")
        if not rows[0]["official"]:
            click.echo(f"note: {rows[0]['note']}", err=True)
        return
    for r in rows:
        idx = "no index" if r["index"] is None else f"index {_g(r['index'])}"
        cat = f"  {r['category']}" if r["category"] else ""
        used = f" (used {_g(r['used'])} {r['unit']})" if r["used"] is not None and r["used"] != r["concentration"] else ""
        status = "" if r["status"] == "ok" else f"  [{r['status']}{': ' + r['note'] if r['note'] else ''}]"
        click.echo(f"{r['standard']} {r['version']}  {r['pollutant']} {r['period']}  "
                   f"{_g(r['concentration'])} {r.get('given_unit', r['unit'])}{used}  ->  {idx}{cat}{status}")


def _g(x):
    return "-" if x is None else f"{x:g}"


@aqi.command()
@_STANDARD
@_VERSION
@_AT
@click.option("--pollutant", "-p", default="pm25", show_default=True, help="pm25 or pm10.")
@_UNIT
@click.option("--newest-first", is_flag=True, help="The values run newest first (as AirNow's tables list them).")
@click.option("--all", "all_hours", is_flag=True, help="Print the NowCast for every hour, not only the latest.")
@click.argument("values", nargs=-1, required=True)
@output_options
def nowcast(standard, version, at, pollutant, unit, newest_first, all_hours, values, fmt):
    """PM NowCast from hourly means, OLDEST FIRST (the last value is the current hour).

    A missing hour is `nan`. There is a NowCast when at least 2 of the 3 latest hours are valid.

    Example: tynys aqi nowcast --pollutant pm25 34.9 43 50 64.9 69.2 66.2 53.7 48.6 49.2 35 nan 21
    """
    std = _std(standard, version, at)
    pid = tables.pollutant_id(pollutant)
    if std.data.get("hourly", {}).get(pid) != ["nowcast"]:
        raise AqiError(f"{std.name} does not use the NowCast for {pid} (it does for: "
                       + ", ".join(p for p, r in std.data.get("hourly", {}).items() if r == ["nowcast"]) + ")")
    x = _floats(values)
    if newest_first:
        x = x[::-1]
    u = tables.normalise_unit(unit) if unit else None
    if np.any(np.isinf(x)):
        raise AqiError("an hourly value is infinite: write a missing hour as nan")
    neg = int(np.sum(x < 0))
    if neg:
        click.echo(f"note: {neg} negative hourly value(s) treated as missing", err=True)
    nc = lib.nowcast(x)
    s = lib.sub_index(nc.concentration, pid, "24h", std.id, unit=u, version=std.version)
    rows = []
    for k, r in enumerate(s.rows()):
        rows.append({
            "concentration": r["used"], "index": r["index"], "category": r["category"], "color": r["color"],
            "hour": k + 1 - len(x), "value": _num(x[k]), "nowcast": _num(nc.concentration[k]),
            "weight": _num(nc.weight[k]), "hours_valid": int(nc.hours[k]),
            "status": r["status"] if np.isfinite(nc.concentration[k]) else "incomplete",
            "standard": std.id, "version": std.version, "pollutant": pid, "unit": r["unit"],
        })
    emit(rows if all_hours else rows[-1], fmt, human=_human_nowcast)


def _num(x):
    x = float(x)
    return x if math.isfinite(x) else None


def _whole(x):
    x = _num(x)
    return None if x is None else int(x) if x == int(x) else x


def _human_nowcast(rows):
    if isinstance(rows, list):
        click.echo(table([{k: r[k] for k in ("hour", "value", "nowcast", "weight", "hours_valid", "concentration", "index", "category")} for r in rows]), nl=False)
        return
    r = rows
    if r["nowcast"] is None:
        click.echo(f"{r['standard']} {r['version']}  {r['pollutant']} NowCast: none "
                   f"(needs 2 of the 3 latest hours; {r['hours_valid']} of 12 valid)")
        return
    click.echo(f"{r['standard']} {r['version']}  {r['pollutant']} NowCast {r['nowcast']:.4f} -> "
               f"{_g(r['concentration'])} {r['unit']} (weight {r['weight']:.3g}, {r['hours_valid']} of 12 hours)  "
               f"->  index {_g(r['index'])}  {r['category'] or ''}")


@aqi.command()
@_STANDARD
@_VERSION
@_AT
@_UNIT
@_TEMP
@click.option("--partial", is_flag=True, help="Compute even when the standard's pollutant requirement is not met (marked complete=false).")
@click.option("--reference", is_flag=True, help="kz: the values come from reference instruments.")
@click.argument("items", nargs=-1, required=True, metavar="POLLUTANT[:PERIOD]=VALUE...")
@output_options
def index(standard, version, at, unit, temperature_c, partial, reference, items, fmt):
    """Overall index and main pollutant from several pollutants.

    Give each value as pollutant:period=value (period optional when the table has one).
    kz: pollutant:20min=value (repeat for a series of single concentrations) and
    pollutant:mean=value (period means for ИЗА). canada-aqhi: no2=, o3= (ppb), pm25=.

    Example: tynys aqi index --standard us-epa o3:8h=0.078 pm25:24h=35.9 co:8h=8.4
    """
    std = _std(standard, version, at)
    parsed = _items(items)
    u = tables.normalise_unit(unit) if unit else None
    for (pid, _), vals in parsed.items():
        _refuse_bad(vals, pid, u if std.kind != "ratio" else None)
    if std.kind == "formula":
        doc = _aqhi(std, parsed, u, temperature_c)
    elif std.kind == "ratio":
        doc = _kz_index(std, parsed, u or "mg/m3", temperature_c, reference)
    else:
        doc = _overall(std, parsed, u, temperature_c, partial)
    emit(doc, fmt, human=_human_index)


def _items(items) -> dict:
    parsed: dict = {}
    for item in items:
        key, sep, val = item.partition("=")
        if not sep:
            raise AqiError(f"{item!r}: write pollutant[:period]=value, e.g. pm25:24h=35.9")
        p, _, period = key.partition(":")
        parsed.setdefault((tables.pollutant_id(p), period or None), []).extend(_floats([val]))
    return {k: np.array(v) for k, v in parsed.items()}


def _overall(std, parsed, u, temperature_c, partial):
    by_pollutant: dict = {}
    for (pid, period), vals in parsed.items():
        if len(vals) != 1:
            raise AqiError(f"{pid}:{period} given {len(vals)} times: give one value per pollutant and period")
        by_pollutant.setdefault(pid, {})[_period(std, pid, period)] = vals
    subs = {p: lib.pollutant_index(per, p, std.id, unit=u, version=std.version, temperature_c=temperature_c)
            for p, per in by_pollutant.items()}
    o = lib.overall(subs, std.id, strict=not partial)
    pollutants = []
    for p, s in subs.items():
        r = s.rows()[0]
        r.pop("standard"), r.pop("version")
        r["pollutant"] = p
        pollutants.append(r)
    colors = [c.color for c in std.categories] + [None]
    return {
        "standard": std.id, "version": std.version,
        "index": _whole(o.index[0]),
        "category": o.category_names()[0] or None, "color": colors[o.category[0]],
        "main_pollutant": o.main[0] or None, "status": lib.STATUS[o.status[0]],
        "complete": bool(o.complete[0]), "pollutants": pollutants,
        "note": "" if o.complete[0] else std.data.get("overall", {}).get("requires_note", ""),
    }


def _aqhi(std, parsed, u, temperature_c):
    vals = {}
    for (pid, period), v in parsed.items():
        vals[pid] = v
    missing = [p for p in ("no2", "o3", "pm25") if p not in vals]
    if missing:
        raise AqiError(f"{std.name} needs no2, o3 and pm25 (3-h means); missing: {', '.join(missing)}")
    units_in = {p: u for p in ("no2", "o3")} if u else None
    s = lib.aqhi.aqhi(vals["no2"], vals["o3"], vals["pm25"], units_in=units_in, temperature_c=temperature_c, version=std.version)
    colors = [c.color for c in std.categories] + [None]
    return {"standard": std.id, "version": std.version, "index": _whole(s.index[0]),
            "aqhi": _num(s.concentration[0]), "category": s.category_names()[0] or None, "color": colors[s.category[0]],
            "status": lib.STATUS[s.status[0]], "pollutants": [{"pollutant": p, "value": float(vals[p][0])} for p in ("no2", "o3", "pm25")]}


def _kz_index(std, parsed, unit, temperature_c, reference):
    singles, means = {}, {}
    for (pid, period), vals in parsed.items():
        period = period or "20min"
        if period == "20min":
            singles[pid] = vals
        elif period == "mean":
            if len(vals) != 1:
                raise AqiError(f"{pid}:mean given {len(vals)} times: give one period mean")
            means[pid] = vals[0]
        else:
            raise AqiError(f"kz index takes pollutant:20min=value (single concentrations) and pollutant:mean=value "
                           f"(period means for ИЗА); got period {period!r}")
    a = kz.assess(singles, means or None, reference=reference, unit=unit, temperature_c=temperature_c, version=std.version)
    return {"standard": std.id, "version": std.version, "grade": a.grade_name() or None,
            "si": a.si, "si_by": a.si_by, "np_percent": a.np, "np_by": a.np_by, "iza5": a.iza,
            "iza_terms": a.iza_terms, "pollutants": a.per_pollutant, "official": a.official, "note": a.label}


def _human_index(doc):
    if "grade" in doc:
        click.echo(f"{doc['standard']} {doc['version']}  grade: {doc['grade'] or '-'}  "
                   f"СИ {_g(doc['si'])} ({doc['si_by'] or '-'})  НП {_g(doc['np_percent'])} % ({doc['np_by'] or '-'})  "
                   f"ИЗА5 {_g(doc['iza5'])}")
        if not doc["official"]:
            click.echo(f"note: {doc['note']}", err=True)
        return
    if "aqhi" in doc:
        click.echo(f"{doc['standard']} {doc['version']}  AQHI {_g(doc['index'])} ({_g(doc['aqhi'])})  {doc['category'] or ''}")
        return
    click.echo(table([{k: r[k] for k in ("pollutant", "period", "concentration", "unit", "index", "category", "status")}
                      for r in doc["pollutants"]]), nl=False)
    main = f"  main pollutant: {doc['main_pollutant']}" if doc["main_pollutant"] else ""
    idx = "no index" if doc["index"] is None else f"index {doc['index']}"
    extra = "" if doc["status"] == "ok" else f"[{doc['status']}]"
    cat = f"  {doc['category']}" if doc["category"] else ""
    click.echo(f"{doc['standard']} {doc['version']}  overall: {idx}{cat}{main}  {extra}".rstrip())
    if doc["note"]:
        click.echo(f"note: {doc['note']}", err=True)


@aqi.command()
@click.option("--standard", "-s", default=None, help="Only this standard.")
@output_options
def standards(standard, fmt):
    """The standards, versions, dates, pollutants and sources Tynys knows.

    Example: tynys aqi standards --standard us-epa
    """
    ids = [standard] if standard else tables.standards()
    rows = []
    for sid in ids:
        for s in tables.versions(sid):
            verified = s.data.get("effective_from_verified", s.effective_from is not None)
            rows.append({
                "standard": s.id, "version": s.version, "title": s.title,
                "from": str(s.effective_from) + ("" if verified else " (unverified)") if s.effective_from else "not verified",
                "until": str(s.effective_to) if s.effective_to else "",
                "kind": s.kind,
                "pollutants": _coverage(s),
                "source": s.sources()[0]["ref"], "url": s.sources()[0]["url"],
            })
    emit(rows, fmt, human=lambda rs: click.echo(table([{k: r[k] for k in ("standard", "version", "from", "until", "pollutants")} for r in rs]), nl=False))


def _coverage(s) -> str:
    """'pm25 pm10 (24h); o3 (8h/1h)': pollutants grouped by their periods."""
    if s.kind == "formula":
        return " ".join(s.pollutants()) + f" ({s.data['averaging']['hours']}h, combined)"
    groups: dict = {}
    for p in s.pollutants():
        groups.setdefault("/".join(s.periods(p)), []).append(p)
    return "; ".join(f"{' '.join(ps)} ({per})" for per, ps in groups.items())


@aqi.command()
@click.option("--pollutant", "-p", required=True)
@click.option("--from", "from_unit", required=True, help="ug/m3, mg/m3, ppb or ppm")
@click.option("--to", "to_unit", required=True, help="ug/m3, mg/m3, ppb or ppm")
@click.option("--temperature", "temperature_c", type=float, default=None, help="[degC] needed between ppb and ug/m3 (US EPA 25, EU/UK 20).")
@click.argument("values", nargs=-1, required=True)
@output_options
def convert(pollutant, from_unit, to_unit, temperature_c, values, fmt):
    """Convert concentrations between ppb/ppm and ug/m3/mg/m3 at a stated temperature.

    Example: tynys aqi convert --pollutant so2 --from ppb --to ug/m3 --temperature 25 100
    """
    x = _floats(values)
    y = lib.units.convert(x, pollutant, from_unit, to_unit, temperature_c=temperature_c)
    rows = [{"pollutant": tables.pollutant_id(pollutant), "value": float(a), "unit": tables.normalise_unit(from_unit),
             "converted": float(b), "to": tables.normalise_unit(to_unit), "temperature_c": temperature_c} for a, b in zip(x, y)]
    emit(rows[0] if len(rows) == 1 else rows, fmt,
         human=lambda rs: [click.echo(f"{_g(r['value'])} {r['unit']} {r['pollutant']} = {r['converted']:.4g} {r['to']}")
                           for r in (rs if isinstance(rs, list) else [rs])])


# --- over the store ------------------------------------------------------------------------

def _store_options(fn):
    from .common import Time, db_option
    fn = output_options(fn)
    fn = db_option(fn)
    fn = click.option("--temperature", "temperature_c", type=float, default=20.0, show_default=True,
                      help="kz: temperature [degC] for SO2 ppb -> mg/m3 (the ПДК's reference temperature is not stated).")(fn)
    fn = click.option("--to", "t_to", type=Time, default=None, help="Last hour (exclusive, UTC); default: the newest data.")(fn)
    fn = click.option("--from", "t_from", type=Time, default=None, help="First hour (UTC); default: 24 h before --to.")(fn)
    fn = click.option("--standard", "-s", "standards", multiple=True, default=("us-epa",), show_default=True,
                      help="us-epa (NowCast AQI), kz (ПДК multiples, СИ, grade; unofficial), eea, ... Repeat for several.")(fn)
    return fn


def _hourly(db, nodes, t_from, t_to):
    from ..pipeline import hourly
    from ..store import Store
    store = Store.open(db, create=False)
    try:
        return hourly(store, t_from, t_to, nodes)
    finally:
        store.close()


def _check_standards(standards):
    for s in standards:
        if s != "kz":
            tables.load(s)  # an unknown name fails here with the list of standards


def _notes(h, rows, standards):
    from ..pipeline import prefix
    for n in dict.fromkeys(h.notes):
        click.echo(f"note: {n}", err=True)
    for s in standards:
        if s == "kz":
            click.echo(f"note: {tables.load('kz').data['official_note']}", err=True)
        elif any(r[f"{prefix(s)}_status"] == "incomplete" for r in rows):
            why = tables.load(s).data.get("overall", {}).get("requires_note", "")
            click.echo(f"note: {s}: no overall index where the standard's pollutant requirement is not met. {why} "
                       f"Sub-indices per pollutant are in --json ({prefix(s)}_pm25 …)", err=True)


def _store_table(rows, head, standards):
    from ..pipeline import prefix
    shown = []
    for r in rows:
        row = {k: r.get(k) for k in head}
        for s in standards:
            keys = ("kz_si", "kz_si_by", "kz_grade") if s == "kz" else (prefix(s), f"{prefix(s)}_category", f"{prefix(s)}_main")
            row.update({k: r[k] for k in keys})
        shown.append(row)
    click.echo(table(shown), nl=False)


@aqi.command()
@click.option("--min-nodes", type=int, default=3, show_default=True, help="Fewest usable nodes for an area's value.")
@click.option("--statistic", type=click.Choice(lib.city.STATISTICS), default="median", show_default=True)
@click.option("--no-districts", is_flag=True, help="The whole city only.")
@_store_options
def city(min_nodes, statistic, no_districts, standards, t_from, t_to, temperature_c, db, keys, fmt):
    """The city's and each district's hourly value and index from the stored nodes.

    Outdoor nodes only; calibrated values preferred (see docs/aqi.md "Over the store").

    Example: tynys aqi city --db city.db --standard us-epa --standard kz --from 2026-11-27 --to 2026-11-28
    """
    from ..pipeline import city_rows
    _check_standards(standards)
    h = _hourly(db, None, t_from, t_to)
    rows = city_rows(h, standards, lib.city.Rules(min_nodes=min_nodes, statistic=statistic), not no_districts, temperature_c)
    _notes(h, rows, standards)
    emit(rows, fmt, human=lambda rs: _store_table(rs, ("area", "hour", "nodes", "basis", "pm25", "so2_ppb"), standards))


@aqi.command()
@click.option("--node", "nodes", multiple=True, help="Node id (repeat; default: every node).")
@_store_options
def node(nodes, standards, t_from, t_to, temperature_c, db, keys, fmt):
    """Each node's hourly PM2.5 (raw and corrected), SO2 and index from the store.

    Example: tynys aqi node --db city.db --node osk-01 --standard us-epa --standard kz
    """
    from ..pipeline import node_rows
    _check_standards(standards)
    h = _hourly(db, list(nodes) or None, t_from, t_to)
    rows = node_rows(h, standards, temperature_c)
    _notes(h, rows, standards)
    emit(rows, fmt, human=lambda rs: _store_table(rs, ("node", "hour", "pm25_raw", "pm25_corrected", "pm25_profile", "so2_ppb"),
                                                  standards))
