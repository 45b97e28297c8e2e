"""``tynys serve``: the HTTP endpoint nodes post their records to."""

from __future__ import annotations

import click

from .common import ByteSize, counts, db_option, ingest_options, open_collector, outcome_printer, run_until_stopped, setup_logging, verbosity


@click.command()
@click.option("--host", default="0.0.0.0", show_default=True, help="Address to listen on (0.0.0.0: every interface, so nodes on the LAN reach it).")
@click.option("--port", type=int, default=8080, show_default=True)
@click.option("--max-body", type=ByteSize, default="1M", show_default=True, help="Largest POST body; larger gets 413.")
@click.option("--max-records", type=int, default=2000, show_default=True, help="Most records in one POST.")
@click.option("--max-clients", type=int, default=64, show_default=True, help="Concurrent connections; more get 503.")
@click.option("--nl", "fmt", flag_value="nl", help="One JSON object per record outcome on stdout.")
@click.option("--quiet", is_flag=True, help="Do not print a line per record.")
@db_option
@ingest_options
@verbosity
def serve(host, port, max_body, max_records, max_clients, fmt, quiet, db, keys, max_future, max_past, max_line, verbose):
    """Accept records: POST /api/v1/records (ndjson), health: GET /api/v1/status.

    Example: tynys serve --db city.db --port 8080
    """
    from ..transport.httpserver import RecordServer

    setup_logging(verbose)
    collector = open_collector(db, keys, max_future, max_past, max_line)
    try:
        server = RecordServer((host, port), collector, max_body=max_body, max_records=max_records, max_clients=max_clients)
    except OSError as e:
        collector.close()
        raise click.ClickException(f"cannot listen on {host}:{port}: {e.strerror} (another tynys serve? choose --port)")
    server.on_outcomes = None if quiet else outcome_printer(fmt)
    server.start()
    click.echo(f"tynys: serving {server.url}/api/v1/records into {db}; Ctrl-C to stop", err=True)
    run_until_stopped(collector, server.stop, lambda: [f"http: {counts(server.counts)}"])
