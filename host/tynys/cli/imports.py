"""``tynys import FORMAT FILE…``: reference-station and other networks' files into the store (library:
:mod:`tynys.imports`)."""

from __future__ import annotations

import click

from ..errors import TynysError
from ..imports import FORMATS, KINDS, import_file
from ..store import Store
from .common import Duration, db_option
from .output import emit, output_options


def _pairs(items, what) -> dict:
    out = {}
    for item in items:
        k, sep, v = item.partition("=")
        if not sep or not k or not v:
            raise TynysError(f"cannot read {what} {item!r}: write NAME=VALUE, e.g. pm25=PM2.5 or so2=ppb")
        out[k.strip()] = v.strip()
    return out


@click.command("import")
@click.argument("source", metavar="FORMAT", type=click.Choice([*FORMATS, "auto", "parquet"]))
@click.argument("files", nargs=-1, required=True, type=click.Path())
@click.option("--tz", default=None, help="Time zone of timestamps that carry none: UTC, +06:00, Asia/Almaty.")
@click.option("--kind", type=click.Choice(KINDS), default=None, help="What the sites are (default: by format; csv and openaq: reference).")
@click.option("--site", default=None, help="Site id of a single-site file that does not name it (plain CSV).")
@click.option("--name", default="", help="Human name of that site.")
@click.option("--lat", type=float, default=None, help="Its latitude [decimal degrees, WGS 84].")
@click.option("--lon", type=float, default=None, help="Its longitude.")
@click.option("--interval", type=Duration, default=None, help="Averaging period of each value (default: the format's, or the file's step).")
@click.option("--time-column", default=None, help="csv: the time column.")
@click.option("--site-column", default=None, help="csv: the column naming the site, when one file holds several.")
@click.option("--map", "mapping", multiple=True, metavar="NAME=COLUMN", help="csv: store COLUMN as parameter NAME (pm25, so2, rh, t_c …). Repeat.")
@click.option("--unit", "units", multiple=True, metavar="NAME=UNIT", help="csv: the unit of parameter NAME (ppb, ug/m3 …). Repeat.")
@click.option("--order", type=click.Choice(["ymd", "mdy", "dmy"]), default="ymd", help="csv: order of slashed dates.")
@db_option
@output_options
def import_(source, files, tz, kind, site, name, lat, lon, interval, time_column, site_column, mapping, units, order, db, keys, fmt):
    """Import reference-station or sensor files (each file once) as sites and observations.

    FORMAT is one of sensor-community, airnowtech, aqs, openaq, sensortoolkit, csv, or auto;
    parquet reads the observations of a folder written by tynys archive (FILE is the folder).
    A file that fails is reported and the others are still imported; the exit code is then 2.

    Example: tynys import airnowtech airnowtech_example_reference_data.csv --db city.db
    """
    csv_opts = {"time_column": time_column, "site_column": site_column, "order": order}
    if mapping:
        csv_opts["columns"] = _pairs(mapping, "--map")
    csv_opts = {k: v for k, v in csv_opts.items() if v is not None}
    if source != "csv":
        csv_opts = {k: v for k, v in csv_opts.items() if k == "columns"}
    results, failed = [], None
    with Store.open(db) as store:
        for path in files:
            try:
                if source == "parquet":
                    from ..archive import import_archive

                    res = import_archive(store, path)
                else:
                    res = import_file(store, path, source, tz=tz, kind=kind, site=site, name=name, lat=lat, lon=lon,
                                      interval=interval, units=_pairs(units, "--unit") or None, **csv_opts)
            except TynysError as e:
                if failed is not None:  # the last failure is raised at the end (exit code 2)
                    click.echo(f"tynys: error: {failed}", err=True)
                failed = e
                continue
            results.append(res.as_dict())
            if not fmt:
                _human(res.as_dict())
            for note in res.notes:
                click.echo(f"note: {note}", err=True)
    if fmt:
        emit(results, fmt)
    if failed is not None:
        raise failed


def _human(r: dict) -> None:
    name = r["path"]
    if r["status"] == "already imported":
        e = r["earlier"]
        click.echo(f"already imported {name}: same content as {e['name']} imported {e['imported']} ({e['values']} values), "
                   "read the same way (to read it another way, give other options: --map, --site, --tz …)")
        return
    dup = ""
    if r["duplicate"]:
        dup = f", {r['duplicate']} already stored"
        if r["differing"]:
            dup += f" ({r['differing']} with another value: the stored one was kept)"
    rep = f", {r['repeated']} repeated in the file" if r["repeated"] else ""
    click.echo(f"imported {name} ({r['format']}): {r['values']} values, {r['new']} new{dup}{rep}")
    for s in r["sites"]:
        params = ", ".join(f"{p} {d['new'] + d['duplicate'] + d['repeated']}" + (f" ({d['flagged']} flagged)" if d["flagged"] else "")
                           for p, d in s["parameters"].items())
        first = min((d["first"] for d in s["parameters"].values()), default=None)
        last = max((d["last"] for d in s["parameters"].values()), default=None)
        label = f"  {s['name']}" if s["name"] else ""
        click.echo(f"  {s['site']}{label}  {s['kind']}{' (new site)' if s['created'] else ''}  every {s['interval_s']} s  "
                   f"{params or 'no values'}  {first or '-'} .. {last or '-'}")
