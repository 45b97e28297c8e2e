"""``tynys ingest serial|mqtt``: collect records from serial ports or an MQTT broker."""

from __future__ import annotations

import click

from ..store import shown
from .common import counts, db_option, ingest_options, open_collector, outcome_printer, run_until_stopped, setup_logging, verbosity
from .output import output_options


@click.group()
def ingest():
    """Collect records into the database (verify, deduplicate, store, acknowledge).

    Example: tynys ingest serial /dev/ttyUSB0 /dev/ttyUSB1 --db city.db
    """


@ingest.command()
@click.argument("ports", nargs=-1, required=True)
@click.option("--baud", type=int, default=115200, show_default=True)
@click.option("--time/--no-time", "set_time", default=True, show_default=True,
              help="Send the host's clock in each signed reply (the node takes it unless NTP keeps its clock).")
@output_options(only=("nl",), nl="One JSON object per record outcome on stdout.")
@db_option
@ingest_options
@verbosity
def serial(ports, baud, set_time, fmt, db, keys, max_future, max_past, max_line, verbose):
    """Read records from PORTS (reopened after an unplug), acknowledge them on the same port.

    Example: tynys ingest serial /dev/ttyUSB0 --db city.db
    """
    from ..transport.serialport import SerialIngest

    setup_logging(verbose)
    collector = open_collector(db, keys, max_future, max_past, max_line)
    reader = SerialIngest(collector, list(ports), baud=baud, set_time=set_time, on_outcomes=outcome_printer(fmt)).start()
    click.echo(f"tynys: collecting from {', '.join(ports)} into {shown(db)}; Ctrl-C to stop", err=True)
    run_until_stopped(collector, reader.stop, lambda: [f"{port}: {counts(c)}" for port, c in reader.counts().items()])


@ingest.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="MQTT broker.")
@click.option("--port", type=int, default=1883, show_default=True)
@click.option("--client-id", default="tynys-ingest", show_default=True,
              help="Keep it stable: the broker keeps this subscriber's session (QoS 1 messages) while it is away.")
@click.option("--prefix", default="tynys", show_default=True, help="Topics are PREFIX/<node>/records and PREFIX/<node>/ack.")
@click.option("--username")
@click.option("--password", envvar="TYNYS_MQTT_PASSWORD", help="Env TYNYS_MQTT_PASSWORD.")
@click.option("--tls", is_flag=True, help="Connect with TLS (port 8883 usually).")
@click.option("--cafile", type=click.Path(exists=True, dir_okay=False), help="CA certificate to verify the broker.")
@output_options(only=("nl",), nl="One JSON object per record outcome on stdout.")
@db_option
@ingest_options
@verbosity
def mqtt(host, port, client_id, prefix, username, password, tls, cafile, fmt, db, keys, max_future, max_past, max_line, verbose):
    """Subscribe to PREFIX/+/records (QoS 1) and publish acknowledgements to PREFIX/<node>/ack.

    Example: tynys ingest mqtt --host broker.example.org --port 8883 --tls --username tynys --db city.db
    """
    from ..transport.mqtt import MqttIngest

    setup_logging(verbose)
    collector = open_collector(db, keys, max_future, max_past, max_line)
    sub = MqttIngest(collector, host, port, client_id=client_id, prefix=prefix, username=username, password=password,
                     tls=tls, cafile=cafile, on_outcomes=outcome_printer(fmt)).start()
    click.echo(f"tynys: subscribing to {prefix}/+/records on {host}:{port} into {shown(db)}; Ctrl-C to stop", err=True)
    run_until_stopped(collector, sub.stop, lambda: [f"mqtt: {counts(sub.counts)}"])
