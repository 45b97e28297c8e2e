"""``tynys db stats|rejects|latest|sites|backup|recount``: look into the store and keep it safe."""

from __future__ import annotations

import time

import click

from ..store import Store
from ..timeutil import iso
from .common import Duration, db_option
from .output import emit, output_options


@click.group()
def db():
    """Counts, refusals, latest values, imported sites and online backups of the database.

    Example: tynys db stats --db city.db --json
    """


@db.command()
@db_option
@output_options
def stats(db, keys, fmt):
    """Nodes, records (re-timed and pending ones of unsynced clocks), refusals (by reason), imports, time span, size.

    Example: tynys db stats --db city.db --json
    """
    with Store.open(db, readonly=True) as store:
        s = store.stats()

    def human(s):
        click.echo(f"{s['path']}: schema v{s['schema_version']}, {s['bytes'] / 1e6:.1f} MB")
        click.echo(f"nodes     {s['nodes']} ({s['active_nodes']} active)")
        click.echo(f"records   {s['records']} ({s['channel_values']} channel values), {s['first'] or '-'} .. {s['last'] or '-'}")
        off = f" ({s['pending_clock']} with a set clock off the host's)" if s["pending_clock"] else ""
        click.echo(f"unsynced  {s['retimed']} re-timed, {s['pending']} pending{off}")
        by = ", ".join(f"{k} {v}" for k, v in s["rejected_by_reason"].items())
        click.echo(f"rejected  {s['rejected']}{f' ({by})' if by else ''}; {s['rejects_kept']} kept as samples")
        click.echo(f"imports   {s['imports']} ({s['observations']} observations at {s['sites']} sites)")
        click.echo(f"profiles  {s['profiles']} ({s['corrected_values']} corrected values)")

    emit(s, fmt, human=human)


@db.command()
@click.option("--since", type=Duration, default="1d", show_default=True, help="How far back.")
@click.option("--reason", help="Only this reason (malformed, bad_signature, unknown_node, schema, replay, conflict, ...).")
@click.option("--node")
@click.option("--limit", type=int, default=50, show_default=True)
@click.option("--counts", is_flag=True, help="Exact counts per transport, source and reason instead of the kept lines.")
@db_option
@output_options
def rejects(since, reason, node, limit, counts, db, keys, fmt):
    """Refused lines, newest first, with reason and detail (a sample: the first of each kind, then
    the 2^k-th; --counts has the exact numbers).

    Example: tynys db rejects --since 2h --reason bad_signature --db city.db
    """
    with Store.open(db, readonly=True) as store:
        if counts:
            rows = store.reject_counts(since=int(time.time()) - since, reason=reason)
            for r in rows:
                r["first"], r["last"] = iso(r["first"]), iso(r["last"])
            emit(rows, fmt)
            return
        rows = store.rejects(since=int(time.time()) - since, reason=reason, node=node, limit=limit)
    out = [{"received": iso(r["received"]), "reason": r["reason"], "node": r["node"], "boot": r["boot"], "seq": r["seq"],
            "transport": r["transport"], "source": r["source"], "detail": r["detail"]} for r in rows]
    if fmt:  # machines get the start of each refused line too; the table stays readable
        for o, r in zip(out, rows):
            o["raw"] = r["raw"][:200].decode("utf-8", "replace")
    emit(out, fmt)


@db.command()
@click.argument("nodes", nargs=-1)
@db_option
@output_options
def latest(nodes, db, keys, fmt):
    """The newest record of each node (or of NODES) with its channel means.

    Example: tynys db latest osk-01 osk-02 --db city.db
    """
    with Store.open(db, readonly=True) as store:
        rows = store.latest(nodes or None)
        listed = {r["node"] for r in rows}
        untimed = [n for n in (nodes or [n.id for n in store.nodes()]) if n not in listed and store.newest_received(n)]
    for n in untimed:  # e.g. right after tynys provision: the first record is unsynced
        click.echo(f"tynys: {n}: records stored, none timed yet (clock unsynced): listed once the host has set its "
                   "clock and re-timed them (tynys db stats counts them as pending)", err=True)
    for r in rows:
        r["t0"], r["t1"], r["received"] = iso(r["t0"]), iso(r["t1"]), iso(r["received"])
    if fmt:
        emit(rows, fmt)
        return
    for r in rows:
        click.echo(f"{r['node']}  boot {r['boot']} seq {r['seq']}  {r['t0']} .. {r['t1']}  clock {r['clock']}  "
                   f"spool {r['spool']}  via {r['transport']}")
        for ch, v in r["values"].items():
            click.echo(f"  {ch:<16} {'-' if v is None else f'{v:g}'}")


@db.command()
@db_option
@output_options
def sites(db, keys, fmt):
    """Imported sites (reference stations, other networks' sensors) with their parameters.

    Example: tynys db sites --db city.db
    """
    with Store.open(db, readonly=True) as store:
        rows = []
        for s in store.sites():
            params = store.site_parameters(s.id)
            rows.append({"site": s.ref, "name": s.name, "kind": s.kind, "lat": s.lat, "lon": s.lon, "tz": s.tz,
                         "parameters": ", ".join(f"{p} {d['n']} {d['unit']}" for p, d in params.items()),
                         "first": iso(min((d["first"] for d in params.values()), default=None)),
                         "last": iso(max((d["last"] for d in params.values()), default=None))})
    emit(rows, fmt)


@db.command()
@click.argument("dest", type=click.Path(dir_okay=False))
@db_option
def backup(dest, db, keys):
    """Copy the database to DEST while ingest keeps running (SQLite online backup), then check it.

    The source is checked first and the copy is renamed to DEST only once it passed its own
    check: DEST is never a damaged or partial copy. The key file is not in the database: back it
    up separately and keep it private.

    Example: tynys db backup /media/usb/city-backup.db --db city.db
    """
    with Store.open(db, readonly=True) as store:
        path = store.backup(dest)
    click.echo(f"backed up {db} to {path} (integrity ok); the keys are not in it: copy {keys or 'the .keys file'} separately",
               err=True)


@db.command()
@db_option
def recount(db, keys):
    """Sum the sensors' counters per hour again from the stored windows.

    A publish reads each node's data quality (bad frames, missing readings) from these sums,
    which every collector keeps as it stores. Run this once if a collector of a tynys older than
    schema v6 went on storing after a newer tynys upgraded the database (restart collectors after
    an upgrade). Collectors may keep running: their writes wait, or fail busy and are
    retried, until it is done, then add on top.

    Example: tynys db recount --db city.db
    """
    with Store.open(db, create=False) as store:
        n = store.recount_sensor_hours()
    click.echo(f"{db}: the sensors' counters summed again from every stored window: {n} sums (by hour, node and sensor)", err=True)
