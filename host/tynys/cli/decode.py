"""``tynys decode``: decode a sensor capture with the firmware's own drivers (on the unix port)."""

from __future__ import annotations

import sys

import click

from .. import decode as lib
from .output import emit, output_options, table


@click.command()
@click.option("--sensor", required=True, type=click.Choice(list(lib.SENSORS)),
              help="The sensor that sent the bytes.")
@click.option("--hex", "hex_", metavar="HEX", help='Bytes as hex text, e.g. "42 4D 00 1C ...".')
@click.option("--file", "path", metavar="PATH",
              help="A capture: raw bytes, PyPMS time,sensor,hex .csv, or xxd .hexdump; - for stdin.")
@output_options(json='One JSON document: {"readings": [...], "frames": N, "rejected": N}.',
                nl="One JSON object per valid frame, then the summary object.", csv="The readings as CSV.")
def decode(sensor, hex_, path, fmt):
    """Decode a captured byte stream: a table of the valid frames' readings, then a summary line.

    Values are in the sensor's own units (ug/m3; PMS particle counts per 0.1 L as sent; SPS30
    #/cm3 and um; degC; %).

    Example: tynys decode --sensor sds011 --hex "AA C0 D4 04 3A 0A A1 60 1D AB"
    """
    if (hex_ is None) == (path is None):
        raise lib.DecodeError("give exactly one of --hex or --file")
    if hex_ is not None:
        records = [(None, lib.parse_hex(hex_))]
    else:
        name = "stdin" if path == "-" else path
        data = sys.stdin.buffer.read() if path == "-" else lib.read_bytes(path)
        records = lib.read_capture(name, sensor, data=data)
        if lib.capture_kind(name, data, sensor) == "hex text":
            click.echo(f"tynys decode: {name} is hex text: decoding the bytes it spells", err=True)
    result = lib.decode(sensor, records)
    for c in result.checksums:
        width = 4 if max(c["computed"], c["sent"]) > 0xFF else 2
        click.echo(f"tynys decode: a {sensor} frame{' at ' + str(c['time']) if 'time' in c else ''} failed its "
                   f"checksum: computed 0x{c['computed']:0{width}X}, the frame says 0x{c['sent']:0{width}X} (rejected)", err=True)
    if fmt == "nl":
        emit([*result.frames, result.summary], fmt)
    elif fmt == "json":
        emit({"readings": result.frames, **result.summary, "checksum_failures": result.checksums}, fmt)
    elif fmt == "csv":
        emit(result.frames, fmt)
        click.echo(f"tynys decode: {result.summary['frames']} valid frame(s), {result.summary['rejected']} rejected", err=True)
    else:
        if result.frames:
            click.echo(table(result.frames), nl=False)
        click.echo(f"{result.summary['frames']} valid frame(s), {result.summary['rejected']} rejected")
    c = result.counts
    if c["replies"] or c["noise"]:
        click.echo(f"tynys decode: also skipped {c['replies']} command replies and "
                   f"{c['noise']} bytes outside valid frames", err=True)
    if not result.frames and (c["noise"] or c["bad"]):
        click.echo(f"tynys decode: no valid {sensor} frame; check --sensor, and for a live log the "
                   "baud rate (SPS30 115200, the others 9600)", err=True)
