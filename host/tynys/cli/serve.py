"""``tynys serve``: the HTTP endpoint nodes post their records to."""

from __future__ import annotations

from pathlib import Path

import click

from ..store import shown
from .common import ByteSize, counts, db_option, ingest_options, open_collector, outcome_printer, run_until_stopped, setup_logging, verbosity


@click.command()
@click.option("--host", default="0.0.0.0", show_default=True, help="Address to listen on (0.0.0.0: every interface, so nodes on the LAN reach it).")
@click.option("--port", type=click.IntRange(0, 65535), default=8080, show_default=True, help="TCP port (0: any free one).")
@click.option("--max-body", type=ByteSize, default="1M", show_default=True, help="Largest POST body; larger gets 413.")
@click.option("--max-records", type=click.IntRange(min=1), default=2000, show_default=True, help="Most records in one POST.")
@click.option("--max-clients", type=click.IntRange(min=1), default=64, show_default=True,
              help="Connections at once; idle and slow ones make room for new ones, and only when all are serving a request does another get 503.")
@click.option("--status-token", envvar="TYNYS_STATUS_TOKEN", default=None,
              help="Let clients on other machines read GET /api/v1/status with 'Authorization: Bearer TOKEN'. "
                   "Without it status answers this machine only. Env TYNYS_STATUS_TOKEN.")
@click.option("--nl", "fmt", flag_value="nl", help="One JSON object per record outcome on stdout.")
@click.option("--quiet", is_flag=True, help="Do not print a line per record.")
@click.option("--site", type=click.Path(file_okay=False), default=None,
              help="Also serve the site tynys publish --out writes in this folder at /, so one laptop is a whole station "
                   "(only the site's own files; 404 until the first publish).")
@db_option
@ingest_options
@verbosity
def serve(host, port, max_body, max_records, max_clients, status_token, fmt, quiet, site, db, keys, max_future, max_past,
          max_line, verbose):
    """Accept records: POST /api/v1/records (ndjson), health: GET /api/v1/status.

    Example: tynys serve --db city.db --port 8080 --site site
    """
    from ..transport.httpserver import RecordServer

    setup_logging(verbose)
    files = None
    if site:
        from ..publish import static

        files = static.handler(Path(site))
    collector = open_collector(db, keys, max_future, max_past, max_line)
    try:
        server = RecordServer((host, port), collector, max_body=max_body, max_records=max_records, max_clients=max_clients,
                              status_token=status_token)
    except OSError as e:
        collector.close()
        raise click.ClickException(f"cannot listen on {host}:{port}: {e.strerror} (another tynys serve? choose --port)")
    server.on_outcomes = None if quiet else outcome_printer(fmt)
    if files is not None:
        for method in ("GET", "HEAD"):
            server.route(method, "/", files, prefix=True)
    server.start()
    who = "this machine and holders of --status-token" if status_token else "this machine only"
    click.echo(f"tynys: serving {server.url}/api/v1/records into {shown(db)} (status: {who})"
               + (f", the site {site} at {server.url}/" if site else "") + "; Ctrl-C to stop", err=True)
    run_until_stopped(collector, server.stop, lambda: [f"http: {counts(server.counts)}"])
