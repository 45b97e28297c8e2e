"""``tynys report``: the daily bulletin as PDF and PNG (library: :mod:`tynys.publish.bulletin`)."""

from __future__ import annotations

import click

from ..aqi import city as aqi_city
from ..publish import bulletin
from ..store import Store
from .common import db_option
from .output import emit, output_options


@click.command()
@click.option("--day", required=True, help="The day, YYYY-MM-DD (the city's local day with --city, else UTC).")
@click.option("--lang", type=click.Choice(["kk", "ru", "en"]), default="en", show_default=True, help="Language of the bulletin.")
@click.option("--city", help="City layout for the title, districts and local day: oskemen, almaty, karaganda or a layout .json.")
@click.option("--standard", "-s", default="us-epa", show_default=True, help="Index of the city chart (Kazakhstan's СИ is always there).")
@click.option("--min-nodes", type=int, default=3, show_default=True, help="Nodes an hour needs for a city value.")
@click.option("--out", default=".", show_default=True, type=click.Path(file_okay=False), help="Folder for the two files.")
@db_option
@output_options
def report(day, lang, city, standard, min_nodes, out, db, keys, fmt):
    """The day's bulletin: the city index through the day, a chart per node, exceedances of
    Kazakhstan's ПДК with СИ and НП, and each node's calibration status.

    Example: tynys report --db city.db --day 2026-11-27 --lang ru --city oskemen
    """
    with Store.open(db, create=False) as store:
        b = bulletin.write(store, day, out=out, lang=lang, city=city, standard=standard,
                           rules=aqi_city.Rules(min_nodes=min_nodes))

    def human(s):
        click.echo(f"bulletin: {s['pdf']}\nimage:    {s['png']}")
        for n in s["notes"]:
            click.echo(f"tynys: note: {n}", err=True)

    emit({"pdf": str(b.pdf), "png": str(b.png), "notes": [n.text for n in b.notes]}, fmt, human=human)
