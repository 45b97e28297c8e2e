"""The ``tynys`` command. Each subcommand lives in ``tynys/cli/<name>.py`` and is imported only
when used, so ``tynys aqi`` never pays for serial or MQTT imports.

``main(argv)`` takes shell arguments, so scripts and tests need no subprocess::

    from tynys.cli import main
    main(["aqi", "value", "--standard", "us-epa", "--pollutant", "pm25", "35.9"])
"""

from __future__ import annotations

import importlib
import sys

import click

from .. import __version__
from ..errors import TynysError

# name -> "module:attribute" of a click command or group.
COMMANDS = {
    "decode": "tynys.cli.decode:decode",
    "config": "tynys.cli.config:config",
    "flash": "tynys.cli.flash:flash",
    "provision": "tynys.cli.provision:provision",
    "doctor": "tynys.cli.doctor:doctor",
    "vnode": "tynys.cli.vnode:vnode",
    "nodes": "tynys.cli.nodes:nodes",
    "ingest": "tynys.cli.ingest:ingest",
    "broker": "tynys.cli.broker:broker",
    "serve": "tynys.cli.serve:serve",
    "monitor": "tynys.cli.monitor:monitor",
    "db": "tynys.cli.db:db",
    "import": "tynys.cli.imports:import_",
    "archive": "tynys.cli.archive:archive",
    "sim": "tynys.cli.sim:sim",
    "calibrate": "tynys.cli.calibrate:calibrate",
    "aqi": "tynys.cli.aqi:aqi",
    "publish": "tynys.cli.publish:publish",
    "report": "tynys.cli.report:report",
}


class _LazyGroup(click.Group):
    def list_commands(self, ctx):
        return sorted(COMMANDS)

    def get_command(self, ctx, name):
        spec = COMMANDS.get(name)
        if spec is None:
            return None
        module, attr = spec.split(":")
        return getattr(importlib.import_module(module), attr)


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="tynys")
def cli():
    """Tynys: air-quality node firmware and host toolkit.

    Example: tynys decode --sensor pms5003 --hex "42 4D 00 1C ..."
    """


def main(argv: list[str] | None = None) -> int:
    """Run the command line; a TynysError becomes one line on stderr and exit code 2."""
    try:
        cli.main(args=argv, prog_name="tynys", standalone_mode=False)
    except TynysError as e:
        click.echo(f"tynys: error: {e}", err=True)
        return e.exit_code
    except click.exceptions.Abort:
        click.echo("tynys: cancelled by user", err=True)
        return 130
    except click.ClickException as e:
        e.show()
        return e.exit_code
    except click.exceptions.Exit as e:
        return e.exit_code
    except BrokenPipeError:
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
