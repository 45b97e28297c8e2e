"""``tynys archive``: the network's data as Hive-partitioned Parquet (library: :mod:`tynys.archive`)."""

from __future__ import annotations

import click

from ..store import Store
from .common import Time, db_option
from .output import emit, output_options


@click.group()
def archive():
    """The Parquet archive: readings, corrected values and observations by city and UTC day.

    Example: tynys archive export --db city.db --out /srv/archive --city oskemen
    """


@archive.command("export")
@click.option("--out", "out", required=True, type=click.Path(file_okay=False), help="The archive folder (made if missing).")
@click.option("--city", default="unknown", show_default=True, help="The city partition these data go under (oskemen, almaty …).")
@click.option("--from", "t_from", type=Time, default=None, help="First day (UTC) to export, whole; default: the first stored.")
@click.option("--to", "t_to", type=Time, default=None, help="Last day (UTC) to export, whole; default: the last stored.")
@db_option
@output_options
def export_(out, city, t_from, t_to, db, keys, fmt):
    """Write each UTC day of the database as Parquet files; a day exported again is replaced whole.

    Example: tynys archive export --db city.db --out archive --city oskemen --from 2026-01-01
    """
    from ..archive import export

    with Store.open(db, readonly=True) as store:
        counts = export(store, out, city=city, t0=t_from, t1=t_to)
    emit({"out": out, "city": city, **counts}, fmt, human=lambda c: click.echo(
        f"exported {c['days']} day(s) to {out} (city={city}): {c['readings']} readings, {c['corrected']} corrected values, "
        f"{c['observations']} observations"
        + (f"; {c['skipped_days']} day(s) outside the calendar's years 1..9999 left out" if c["skipped_days"] else "")))


@archive.command("add")
@click.argument("source", metavar="FORMAT", type=click.Choice(["sensor-community"]))
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--out", "out", required=True, type=click.Path(file_okay=False), help="The archive folder (made if missing).")
@click.option("--city", default="unknown", show_default=True, help="The city partition these data go under.")
@output_options
def add(source, files, out, city, fmt):
    """Add other networks' files straight to the archive's observations (no database on the way).

    FORMAT: sensor-community (its daily archive CSVs). Adding a file again replaces its rows.

    Example: tynys archive add sensor-community 2024-01-01_sds011_sensor_1234.csv --out archive
    """
    from ..archive import add_sensor_community

    counts = add_sensor_community(out, files, city=city)
    emit({"out": out, "city": city, **counts}, fmt, human=lambda c: click.echo(
        f"added {c['files']} file(s) to {out} (city={city}): {c['rows']} values of {c['sites']} sensor(s)"))
