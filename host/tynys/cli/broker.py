"""``tynys broker config``: a Mosquitto configuration for ``tynys ingest mqtt`` (one login per node,
an ACL per topic)."""

from __future__ import annotations

from pathlib import Path

import click

from .common import db_option, keys_path
from .output import emit, output_options


@click.group()
def broker():
    """The MQTT broker the nodes and `tynys ingest mqtt` meet at (Mosquitto).

    Example: tynys broker config broker/ --db city.db && mosquitto -c broker/mosquitto.conf
    """


@broker.command()
@click.argument("directory", type=click.Path(file_okay=False))
@click.option("--port", type=click.IntRange(1, 65535), default=1883, show_default=True)
@click.option("--bind", default="0.0.0.0", show_default=True, help="Address to listen on.")
@click.option("--prefix", default="tynys", show_default=True, help="Topics are PREFIX/<node>/records and PREFIX/<node>/ack.")
@db_option
@output_options
def config(directory, port, bind, prefix, db, keys, fmt):
    """Write mosquitto.conf, acl and passwd for every active node into DIRECTORY: no anonymous
    clients; each node logs in with its id and a password derived from its key, may publish only to
    its records topic and read only its ack topic; `tynys ingest mqtt` logs in as tynys-ingest
    (password in DIRECTORY/ingest.password, 0600). Prints each node's login for its config.json
    (uplinks.mqtt.user, uplinks.mqtt.password). Run it again after `tynys nodes add`.

    Example: tynys broker config /etc/mosquitto/tynys --db city.db --port 1883
    """
    from ..brokerconf import INGEST_USER, write
    from ..keys import KeyFile
    from ..store import Store

    with Store.open(db, create=False) as store:
        nodes = [n.id for n in store.nodes(include_retired=False)]
    keyfile = KeyFile(keys_path(db, keys))
    out = write(directory, nodes, keyfile.get, port=port, bind=bind, prefix=prefix)
    click.echo(f"tynys: wrote {out['conf']} (run: mosquitto -c {out['conf']}); the host logs in as {INGEST_USER}: "
               f"TYNYS_MQTT_PASSWORD=$(cat {Path(directory) / 'ingest.password'}) tynys ingest mqtt --username {INGEST_USER} …",
               err=True)
    rows = [{"node": n, "user": n, "password": p} for n, p in out["nodes"].items()]

    def human(rows):
        click.echo(f"{'node':<20} {'uplinks.mqtt.user':<20} uplinks.mqtt.password")
        for r in rows:
            click.echo(f"{r['node']:<20} {r['user']:<20} {r['password']}")

    emit(rows, fmt, human)
