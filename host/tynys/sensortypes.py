"""The sensor type table: every sensor type a node config may name, with its driver, bus, I2C
addresses, sampling policy, options, simulator, probe and wiring. It lives with the firmware
(``firmware/node/drivers/types.json``), which reads it on the node; the host reads the same file::

    from tynys import sensortypes
    sensortypes.names()                    # ['bme280', 'dgs', 'isb', 'pms5003', ...]
    sensortypes.entry("sht3x")["addr"]     # [68, 69]
    sensortypes.names(bus="uart")          # the types tynys decode can read
"""

from __future__ import annotations

import functools
import json

from . import firmware
from .errors import TynysError

TABLE = firmware.SOURCE / "node" / "drivers" / "types.json"


class UnknownSensorError(TynysError):
    """A sensor type that is not in the table."""


@functools.cache
def types() -> dict[str, dict]:
    """{type: entry}, the table without its notes (keys starting with '_')."""
    return {k: v for k, v in json.loads(TABLE.read_text()).items() if not k.startswith("_")}


def names(bus: str | None = None) -> list[str]:
    return sorted(k for k, e in types().items() if bus is None or e["bus"] == bus)


def entry(name: str) -> dict:
    e = types().get(name)
    if e is None:
        raise UnknownSensorError(f"unknown sensor type {name!r}; use one of {', '.join(names())}")
    return e
