"""``tynys nodes add|list|show|retire``: the node registry and its keys."""

from __future__ import annotations

import click

from ..keys import KeyFile
from ..registry import PLACEMENTS, add_node, parse_sensor, retire_node
from ..store import Node, Store
from ..timeutil import iso
from .common import Time, db_option, keys_path
from .output import emit, output_options


def _sensors(n: Node) -> str:
    return " ".join(f"{s.slot}={s.type}{':' + s.model if s.model else ''}" for s in n.sensors if s.removed is None or n.retired)


def node_row(n: Node, last: dict | None = None) -> dict:
    return {"id": n.id, "name": n.name, "district": n.district, "placement": n.placement, "lat": n.lat, "lon": n.lon,
            "height_m": n.height_m, "sensors": _sensors(n), "installed": iso(n.installed), "retired": iso(n.retired),
            "last_window": iso(last and last["t1"]), "last_received": iso(last and last["received"])}


@click.group()
def nodes():
    """Register nodes, list them, show one (and its key), retire one.

    Example: tynys nodes add osk-01 --name "School 12" --lat 49.948 --lon 82.628 --sensor pm=pms5003
    """


@nodes.command("add")
@click.argument("node_id")
@click.option("--name", default="", help="Human name of the site.")
@click.option("--lat", type=float, help="Latitude [decimal degrees, WGS 84].")
@click.option("--lon", type=float, help="Longitude [decimal degrees, WGS 84].")
@click.option("--height", "height_m", type=float, help="Inlet height above ground [m].")
@click.option("--placement", type=click.Choice(PLACEMENTS), default="outdoor", show_default=True)
@click.option("--district", default="", help="City district, for summaries.")
@click.option("--sensor", "sensors", multiple=True, metavar="SLOT=TYPE[:MODEL]",
              help="A sensor slot as the node's config names it, e.g. pm=pms5003, so2=isb:so2-b4, th=sht3x. Repeat.")
@click.option("--installed", type=Time, help="Installation date/time (UTC), e.g. 2026-05-01.")
@click.option("--notes", default="")
@click.option("--show-key", is_flag=True, help="Also print the new key (64 hex) for provisioning.")
@db_option
@output_options
def add(node_id, name, lat, lon, height_m, placement, district, sensors, installed, notes, show_key, db, keys, fmt):
    """Register NODE_ID and generate its 32-byte signing key (kept in the key file, mode 0600).

    Example: tynys nodes add osk-01 --lat 49.948 --lon 82.628 --district Ulba --sensor pm=pms5003 --db city.db
    """
    kf = KeyFile(keys_path(db, keys))
    with Store.open(db) as store:
        node, key = add_node(store, kf, node_id, name=name, lat=lat, lon=lon, height_m=height_m, placement=placement,
                             district=district, sensors=[parse_sensor(s, installed) for s in sensors],
                             installed=installed, notes=notes)
    row = node_row(node)
    if show_key:
        row["key"] = key.hex()
    emit(row, fmt, human=lambda r: click.echo(_describe(node) + (f"\nkey: {r['key']}" if show_key else "")))
    click.echo(f"key stored in {kf.path} (mode 0600); print it for provisioning with: tynys nodes show {node_id} --show-key",
               err=True)


def _describe(n: Node) -> str:
    where = f" at {n.lat:.5f}, {n.lon:.5f}" if n.lat is not None else ""
    height = f", {n.height_m:g} m up" if n.height_m is not None else ""
    parts = [f"{n.id}{f' ({n.name})' if n.name else ''}: {n.placement}{where}{height}"]
    if n.district:
        parts.append(f"district {n.district}")
    parts.append(f"sensors {_sensors(n) or '(none listed)'}")
    if n.installed:
        parts.append(f"installed {iso(n.installed)}")
    if n.retired:
        parts.append(f"RETIRED {iso(n.retired)}{f' ({n.retired_reason})' if n.retired_reason else ''}")
    return "; ".join(parts)


@nodes.command("list")
@click.option("--active", is_flag=True, help="Only nodes not retired.")
@db_option
@output_options
def list_(active, db, keys, fmt):
    """All registered nodes with their last record.

    Example: tynys nodes list --db city.db --csv
    """
    with Store.open(db, readonly=True) as store:
        ns = store.nodes(include_retired=not active)
        last = {r["node"]: r for r in store.latest([n.id for n in ns])}
    emit([node_row(n, last.get(n.id)) for n in ns], fmt)


@nodes.command("show")
@click.argument("node_id")
@click.option("--show-key", is_flag=True, help="Print the node's key (64 hex) for provisioning its config.json.")
@db_option
@output_options
def show(node_id, show_key, db, keys, fmt):
    """One node: where it is, what it carries, its last record; its key only with --show-key.

    Example: tynys nodes show osk-01 --db city.db
    """
    with Store.open(db, readonly=True) as store:
        n = store.node(node_id)
        last = store.latest([node_id])
    row = node_row(n, last[0] if last else None)
    row["notes"] = n.notes
    row["sensor_history"] = [{"slot": s.slot, "type": s.type, "model": s.model, "installed": iso(s.installed),
                              "removed": iso(s.removed)} for s in n.sensors]
    if show_key:
        row["key"] = KeyFile(keys_path(db, keys)).get(node_id).hex()

    def human(r):
        click.echo(_describe(n))
        if last:
            click.echo(f"last window ends {r['last_window']}, received {r['last_received']} via {last[0]['transport']}")
        else:
            click.echo("no records yet")
        if show_key:
            click.echo(f"key: {r['key']}")

    emit(row, fmt, human=human)


@nodes.command("retire")
@click.argument("node_id")
@click.option("--at", "when", type=Time, help="When it was taken down (UTC); default now.")
@click.option("--reason", default="", help="Why, e.g. 'moved to Ridder', 'sensor stolen'.")
@db_option
@output_options
def retire(node_id, when, reason, db, keys, fmt):
    """Retire NODE_ID: records whose window ends after that moment are refused (retired_node).

    Example: tynys nodes retire osk-03 --at 2026-12-01 --reason "moved to Ridder" --db city.db
    """
    with Store.open(db, create=False) as store:
        n = retire_node(store, node_id, when, reason)
    emit(node_row(n), fmt, human=lambda r: click.echo(_describe(n)))
