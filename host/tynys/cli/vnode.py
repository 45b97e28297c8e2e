"""``tynys vnode``: make and run virtual nodes (the real firmware on the MicroPython unix port)."""

from __future__ import annotations

import signal
import sys
import time
from pathlib import Path

import click

from ..timeutil import parse_duration, parse_time
from ..vnode import POWER_ON_RTC, VirtualNode


@click.group()
def vnode():
    """Virtual nodes: the node firmware (.mpy) on the MicroPython unix port.

    Example: tynys vnode create nodes/osk-01 --config config.json && tynys vnode run nodes/osk-01
    """


@vnode.command()
@click.argument("home", type=click.Path(file_okay=False))
@click.option("--config", "config", required=True, type=click.Path(exists=True, dir_okay=False),
              help="config.json for the node (docs/node.md).")
@click.option("--scenario", type=click.Path(exists=True, dir_okay=False),
              help="What the node's world does: sensors, network outages (docs/node.md).")
@click.option("--board", default="virtual", show_default=True, help="A board file in boards/.")
@click.option("--blocks", default=512, show_default=True, help="Flash size in 4 KB blocks.")
@click.option("--force", is_flag=True, help="Format the flash of a node already in HOME anew (its records go).")
def create(home, config, scenario, board, blocks, force):
    """Format a flash image in HOME and put config.json and board.json on it. The files that hold
    the node's key (flash.img, config.json) are readable by you alone (mode 0600).

    Example: tynys vnode create nodes/osk-01 --config config.json --scenario winter.json
    """
    VirtualNode.create(home, Path(config), board=board, scenario=Path(scenario) if scenario else None, blocks=blocks,
                       force=force)
    click.echo(f"virtual node in {Path(home).resolve()}: flash.img with config.json, board.json ({board})", err=True)


def _stop(signum, frame):
    raise KeyboardInterrupt


@vnode.command()
@click.argument("home", type=click.Path(exists=True, file_okay=False))
@click.option("--speed", default="virtual", show_default=True,
              help="virtual (as fast as it goes), real, or a factor such as 60.")
@click.option("--start", "start", default=None, help="World time at power-on (Unix s or ISO); default now.")
@click.option("--for", "for_", default=None, help="Stop after this much world time (e.g. 24h, 7d).")
@click.option("--rtc-set/--rtc-unset", default=False,
              help="Whether the node's clock is right at power-on (default: 2000-01-01, as an ESP32).")
@click.option("--heap", default=None,
              help="MicroPython heap cap (default by the uplinks: 96K; 112K with HTTP; 128K with MQTT or Sensor.Community).")
def run(home, speed, start, for_, rtc_set, heap):
    """Run the node in HOME; its console is a pty (path printed on stderr). Output: the console.

    Stop with Ctrl-C or SIGTERM. With --for, the node stops after that much simulated time.

    Example: tynys vnode run nodes/osk-01 --for 2h --rtc-set
    """
    t0 = int(time.time()) if start is None else parse_time(start)
    dur = None if for_ is None else parse_duration(for_)
    said = [time.monotonic()]  # when the console last printed a line

    def echo(line: bytes) -> None:
        sys.stdout.buffer.write(line + b"\n")
        sys.stdout.flush()
        said[0] = time.monotonic()

    vn = VirtualNode(home, heap=heap, vtime=speed, start=t0, end=None if dur is None else t0 + dur,
                     rtc="world" if rtc_set else POWER_ON_RTC, on_line=echo)
    signal.signal(signal.SIGTERM, _stop)  # SIGTERM stops the node too: no MicroPython process is left behind
    vn.start()
    click.echo(f"virtual node {Path(home).name}: console on {vn.port} (Ctrl-C stops it)", err=True)
    try:
        if dur is not None:
            vn.wait_world(t0 + dur, timeout=10 ** 9)
            # A window closing at the end is still being built and printed: stop once the console
            # has been quiet for a second (the clock runs in real time from the end on).
            until = time.monotonic() + 10
            while time.monotonic() - said[0] < 1.0 and time.monotonic() < until:
                time.sleep(0.1)
        else:
            while vn.running:
                time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        vn.stop()


@vnode.command()
@click.argument("home", type=click.Path(exists=True, file_okay=False))
@click.argument("path", default="")
def ls(home, path):
    """List files on the node's flash (node stopped).

    Example: tynys vnode ls nodes/osk-01 spool
    """
    for name, size in VirtualNode(home).ls(path).items():
        click.echo(f"{size:>8}  {name}")


@vnode.command()
@click.argument("home", type=click.Path(exists=True, file_okay=False))
@click.argument("name")
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write here instead of stdout.")
def get(home, name, output):
    """Copy a file from the node's flash (node stopped), e.g. config.json or spool/head.

    Example: tynys vnode get nodes/osk-01 config.json -o config-now.json
    """
    data = VirtualNode(home).get(name)
    if output:
        Path(output).write_bytes(data)
    else:
        sys.stdout.buffer.write(data)


@vnode.command()
@click.argument("home", type=click.Path(exists=True, file_okay=False))
@click.argument("name")
@click.argument("source", type=click.Path(exists=True, dir_okay=False))
def put(home, name, source):
    """Copy a host file onto the node's flash (node stopped), e.g. a new config.json.

    Example: tynys vnode put nodes/osk-01 config.json new-config.json
    """
    VirtualNode(home).put(name, Path(source).read_bytes())
