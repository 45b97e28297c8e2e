"""``tynys aqi``: air-quality indices over plain numbers (library: :mod:`tynys.aqi`).

    tynys aqi value --standard us-epa --pollutant pm25 --period 24h 35.9
    tynys aqi nowcast --pollutant pm25 34.9 43 50 64.9 69.2 66.2 53.7 48.6 49.2 35 nan 21
    tynys aqi index --standard us-epa o3:8h=0.078 pm25:24h=35.9 co:8h=8.4
    tynys aqi value --standard kz --pollutant so2 --period 20min 0.4
    tynys aqi standards
"""

from __future__ import annotations

import click
import numpy as np

from .. import aqi as lib
from ..aqi import results, tables
from .output import emit, output_options, table

_STANDARD = click.option("--standard", "-s", default="us-epa", show_default=True,
                         help="Index standard: " + ", ".join(tables.standards()) + ".")
_VERSION = click.option("--version", "version", default=None,
                        help="Table version (e.g. 2013, 2015, 2024); default: in force on --at.")
_AT = click.option("--at", default=None, help="Date (YYYY-MM-DD) whose table version applies; default today.")
_UNIT = click.option("--unit", default=None, help="Unit of the values (ug/m3, mg/m3, ppb, ppm); default: the table's.")
_TEMP = click.option("--temperature", "temperature_c", type=float, default=None,
                     help="Temperature [degC] for ppb <-> ug/m3; default: the standard's reference.")


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
    rows = results.value_rows(results.numbers(values), pollutant, period, standard, version=version, at=at, unit=unit,
                              temperature_c=temperature_c, reference=reference)
    emit(rows[0] if len(rows) == 1 else rows, fmt, human=_human_value)


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
    x = results.numbers(values)
    x = x[::-1] if newest_first else x
    neg = int(np.sum(x < 0))
    rows = results.nowcast_rows(x, pollutant, standard, version=version, at=at, unit=unit)
    if neg:
        click.echo(f"note: {neg} negative hourly value(s) treated as missing", err=True)
    emit(rows if all_hours else rows[-1], fmt, human=_human_nowcast)


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
    doc = results.index_document(results.parse_items(items), standard, version=version, at=at, unit=unit,
                                 temperature_c=temperature_c, partial=partial, reference=reference)
    emit(doc, fmt, human=_human_index)


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
    emit(results.standard_rows(standard), fmt,
         human=lambda rs: click.echo(table([{k: r[k] for k in ("standard", "version", "from", "until", "pollutants")}
                                            for r in rs]), nl=False))


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
    rows = results.convert_rows(results.numbers(values), pollutant, from_unit, to_unit, temperature_c)
    emit(rows[0] if len(rows) == 1 else rows, fmt,
         human=lambda rs: [click.echo(f"{_g(r['value'])} {r['unit']} {r['pollutant']} = {r['converted']:.4g} {r['to']}")
                           for r in (rs if isinstance(rs, list) else [rs])])


# --- over the store ------------------------------------------------------------------------

def _store_options(fn):
    from .common import Time, cluster_option, db_option
    fn = output_options(fn)
    fn = db_option(fn)
    fn = cluster_option(fn)
    fn = click.option("--channel", "channels", multiple=True, metavar="NAME",
                      help="Use this channel for its pollutant where a node has it (e.g. pm25_atm); default: the one "
                           "profiled first, else the rule in docs/aqi.md. Repeat for several.")(fn)
    fn = click.option("--temperature", "temperature_c", type=float, default=None,
                      help="[degC] for SO2 ppb -> ug/m3 or mg/m3 where a table needs it; default: the standard's "
                           "reference temperature (kz: 20, a Tynys convention; india-naqi and china state none).")(fn)
    fn = click.option("--to", "t_to", type=Time, default=None, help="Last hour (exclusive, UTC); default: the newest data.")(fn)
    fn = click.option("--from", "t_from", type=Time, default=None, help="First hour (UTC); default: 24 h before --to.")(fn)
    fn = click.option("--standard", "-s", "standards", multiple=True, default=("us-epa",), show_default=True,
                      help="us-epa (NowCast AQI), kz (ПДК multiples, СИ, grade; unofficial), eea, ... Repeat for several.")(fn)
    return fn


def _hourly(db, nodes, t_from, t_to, channels, standards, cluster=None):
    from ..pipeline.parts import hourly_parts
    from ..store import Store

    for s in standards:
        tables.load(s)  # an unknown name fails here, with the list of standards
    with Store.open(db, create=False) as store:
        return hourly_parts(store, t_from, t_to, nodes, channels=channels, cluster=cluster)


def _show(h, rows, fmt, head, standards):
    from ..pipeline import table_rows

    for n in dict.fromkeys(h.notes):
        click.echo(f"note: {n}", err=True)
    emit(rows, fmt, human=lambda rs: click.echo(table(table_rows(rs, head, standards)), nl=False))


@aqi.command()
@click.option("--min-nodes", type=int, default=3, show_default=True, help="Fewest usable nodes for the city's value.")
@click.option("--district-min-nodes", type=int, default=lib.city.Rules().district_min_nodes, show_default=True,
              help="Fewest usable nodes for a district's value (the table's nodes column says how many it rests on).")
@click.option("--statistic", type=click.Choice(lib.city.STATISTICS), default="median", show_default=True)
@click.option("--no-districts", is_flag=True, help="The whole city only.")
@_store_options
def city(min_nodes, district_min_nodes, statistic, no_districts, standards, t_from, t_to, temperature_c, channels, cluster,
         db, keys, fmt):
    """The city's and each district's hourly value and index from the stored nodes.

    Outdoor nodes only; calibrated values preferred (see docs/aqi.md "Over the store").

    Example: tynys aqi city --db city.db --standard us-epa --standard kz --from 2026-11-27 --to 2026-11-28
    """
    from ..pipeline import city_rows

    h = _hourly(db, None, t_from, t_to, channels, standards, cluster)
    rules = lib.city.Rules(min_nodes=min_nodes, district_min_nodes=district_min_nodes, statistic=statistic)
    rows = city_rows(h, standards, rules, not no_districts, temperature_c)
    _show(h, rows, fmt, ("area", "hour", "nodes", "basis", "pm25", "so2_ppb", "so2_nodes"), standards)


@aqi.command()
@click.option("--node", "nodes", multiple=True, help="Node id (repeat; default: every node).")
@_store_options
def node(nodes, standards, t_from, t_to, temperature_c, channels, cluster, db, keys, fmt):
    """Each node's hourly PM2.5 (raw and corrected, with its channel and profile), SO2 and index.

    Example: tynys aqi node --db city.db --node osk-01 --standard us-epa --standard kz
    """
    from ..pipeline import node_rows

    h = _hourly(db, list(nodes) or None, t_from, t_to, channels, standards, cluster)
    rows = node_rows(h, standards, temperature_c)
    _show(h, rows, fmt, ("node", "hour", "pm25_channel", "pm25_raw", "pm25_corrected", "pm25_profile", "so2_ppb"), standards)
