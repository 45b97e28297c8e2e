"""Board files: ``boards/<name>.json``, one per supported board (chip, MicroPython image and its
flash offset, UART/I2C pins, power gates, notes). This is the one loader on the host; the node
reads the same file, copied to its flash as ``board.json``, with ``node.config.board()``.

    from tynys import boards
    boards.names()                  # ['esp32-devkitc', 'virtual']
    b = boards.load("esp32-devkitc")
    b["uart"]["1"]                  # {'tx': 33, 'rx': 27}
"""

from __future__ import annotations

import json
from pathlib import Path

from .errors import TynysError

BOARDS = Path(__file__).resolve().parents[2] / "boards"
REQUIRED = ("board", "name", "chip", "micropython", "uart", "i2c")
# GPIOs by chip. ESP32 (WROOM/WROVER): 20, 24 and 28-31 do not exist, 6-11 drive the SPI flash,
# 34-39 are inputs only (Espressif ESP32 datasheet, "Peripheral Pin Configurations").
CHIPS = {
    "esp32": {"gpio": [g for g in range(40) if g not in (20, 24, 28, 29, 30, 31)],
              "flash": [6, 7, 8, 9, 10, 11], "input_only": [34, 35, 36, 37, 38, 39]},
}


class BoardError(TynysError):
    """A board file is missing or wrong."""


def names() -> list[str]:
    return sorted(p.stem for p in BOARDS.glob("*.json"))


def path(name: str) -> Path:
    p = BOARDS / f"{name}.json"
    if not p.exists():
        raise BoardError(f"no board {name!r}; boards/ has: {', '.join(names())}")
    return p


def load(name: str) -> dict:
    """The board file, checked: required fields, and every pin a GPIO its chip can use so."""
    p = path(name)
    try:
        b = json.loads(p.read_text())
    except ValueError as e:
        raise BoardError(f"{p}: not valid JSON ({e})") from None
    missing = [k for k in REQUIRED if k not in b]
    if missing:
        raise BoardError(f"{p}: missing {', '.join(missing)}")
    if b["board"] != name:
        raise BoardError(f"{p}: \"board\" is {b['board']!r}; it must be the file's name, {name!r}")
    chip = CHIPS.get(b["chip"])
    if chip is None:
        raise BoardError(f"{p}: chip {b['chip']!r} is not known; known: {', '.join(CHIPS)}")
    used = {}
    for kind, roles in (("uart", {"tx": True, "rx": False}), ("i2c", {"scl": True, "sda": True})):
        for bus, pins in b[kind].items():
            for role, output in roles.items():
                _pin(p, chip, f"{kind}.{bus}.{role}", pins.get(role), output, used)
    for gate, g in b.get("power", {}).items():
        _pin(p, chip, f"power.{gate}.pin", g.get("pin"), True, used)
    return b


def _pin(p, chip, where, g, output, used):
    if not isinstance(g, int) or g not in chip["gpio"] or g in chip["flash"]:
        raise BoardError(f"{p}: {where} = {g!r} is not a usable GPIO of this chip")
    if output and g in chip["input_only"]:
        raise BoardError(f"{p}: {where} = {g} is input-only; it cannot drive a line")
    if g in used and not (where.startswith("i2c") and used[g].startswith("i2c")):
        raise BoardError(f"{p}: GPIO {g} is both {used[g]} and {where}")
    used.setdefault(g, where)
