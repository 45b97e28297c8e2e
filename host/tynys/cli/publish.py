"""``tynys publish``: the city's static map site with open data beside it (library: :mod:`tynys.publish`)."""

from __future__ import annotations

import click

from ..aqi import city as aqi_city
from ..errors import TynysError
from ..publish import Abandoned, opendata, site, watch
from ..timeutil import iso
from .common import Duration, Time, db_option
from .output import emit, output_options


def _tiles(url: str, attribution: str | None):
    if url.lower() == "none":
        return None
    return site.Tiles(url, attribution if attribution is not None else (site.OSM.attribution if url == site.OSM.url else ""))


@click.command()
@click.option("--out", required=True, type=click.Path(file_okay=False),
              help="Folder for the site (made if missing; one holding other files is refused).")
@click.option("--city", help="City layout for districts, title and local time: oskemen, almaty, karaganda or a layout .json.")
@click.option("--standard", "-s", default="us-epa", show_default=True,
              help="Index shown first: us-epa, eea, kz, uk-daqi, india-naqi, china (the switcher always offers us-epa, eea, kz).")
@click.option("--at", type=Time, help="End of the 24 hours shown (UTC unless an offset is given); default: the newest stored window.")
@click.option("--tiles", default=site.OSM.url, show_default=True, help="Map tile URL template, or 'none' for no basemap.")
@click.option("--tiles-attribution", default=None, help="Attribution shown for --tiles (HTML); default: OpenStreetMap's for its tiles.")
@click.option("--licence", default=opendata.LICENCE, show_default=True, help="Licence line of the open data.")
@click.option("--min-nodes", type=int, default=3, show_default=True, help="Nodes an hour needs for a city or district value.")
@click.option("--every", type=Duration, default=None, help="Rebuild on every multiple of this interval (e.g. 1h) until Ctrl-C.")
@click.option("--watch", "watch_", is_flag=True, help="Rebuild whenever the newest stored window reaches a new hour, until Ctrl-C.")
@click.option("--bulletin-lang", "langs", multiple=True, type=click.Choice(["kk", "ru", "en"]),
              help="With --every/--watch: the day's bulletin in these languages (default all three).")
@db_option
@output_options
def publish(out, city, standard, at, tiles, tiles_attribution, licence, min_nodes, every, watch_, langs, db, keys, fmt):
    """Write a static map site (any web host or a USB stick serves it as it is) and open data.

    The site: nodes coloured by the chosen index with a legend in words, the city value, its main
    pollutant and the rule behind it, a 24-hour slider, index and language switches (Kazakh,
    Russian, English), each node's last 24 hours and data quality; open-data/ beside it.

    Example: tynys publish --db city.db --out site --city oskemen --standard us-epa
    """
    rules = aqi_city.Rules(min_nodes=min_nodes)
    kw = dict(city=city, standard=standard, tiles=_tiles(tiles, tiles_attribution), licence=licence, rules=rules)
    if every is None and not watch_:
        r = watch.rebuild(db, out, langs=(), at=at, **kw)
        _report(r, fmt)
        return
    if at is not None:
        raise click.UsageError("--at names a fixed time; --every and --watch follow the newest data: use one or the other")
    if every is not None and watch_:
        raise click.UsageError("--every rebuilds on the clock, --watch when a new hour is stored: use one or the other")
    if every is not None and every <= 0:
        raise click.UsageError("--every needs an interval such as 1h or 15m (or use --watch)")
    langs = langs or ("kk", "ru", "en")
    stop = watch.Stop()
    abandoned = []

    def run():
        # A failed run (a file dropped into the site's folder, a full disk, a locked database) is
        # reported and the next run tries again; a stopped one is dropped. Either way the site
        # stays as the last good run left it.
        try:
            _report(watch.rebuild(db, out, langs=langs, stop=stop, **kw), fmt)
        except Abandoned:
            abandoned.append(1)
            click.echo("tynys: stopping: the run in progress was abandoned; the site is as the last run left it", err=True)
        except (TynysError, OSError) as e:
            click.echo(f"tynys: error: this run failed, the next one tries again: {e}", err=True)

    how = f"every {every} s" if every is not None else "on each new hour"
    try:
        with watch.stopped_by_signals(stop):
            click.echo(f"tynys: publishing {out} {how}; Ctrl-C to stop", err=True)
            n = watch.every(every, run, stop) if every is not None else watch.on_new_hour(db, run, stop)
    finally:
        stop.close()
    click.echo(f"tynys: stopped after {n - len(abandoned)} run(s)", err=True)


def _report(r, fmt) -> None:
    snap = r.snapshot
    summary = {"index": str(r.index), "open_data": str(r.folder / "open-data" / "README.md"),
               "bulletin": [str(r.folder / b["path"]) for b in (r.open_data.get("bulletin") or [])],
               "from": iso(snap.start), "to": iso(snap.end), "nodes": len(snap.nodes),
               "on_map": int(snap.located.sum()), "notes": [n.text for n in snap.notes]}

    def human(s):
        click.echo(f"site: {s['index']}  ({s['on_map']} of {s['nodes']} nodes on the map, {s['from']} .. {s['to']})")
        click.echo(f"open data: {s['open_data']}")
        for b in s["bulletin"]:
            click.echo(f"bulletin: {b}")
        for n in s["notes"]:
            click.echo(f"tynys: note: {n}", err=True)

    emit(summary, fmt, human=human)
