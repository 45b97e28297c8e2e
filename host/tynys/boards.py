"""Board files: ``boards/<name>.json``, one per supported board (chip, MicroPython image and its
flash offset, UART/I2C pins per sensor socket, power gates, reserved pins, notes), and
``boards/chips.json`` (what each chip has: GPIOs, flash pins, input-only pins, UART and I2C
controllers, strapping pins). This is the one loader on the host; the node reads the same board
with its chip's limits folded in (:func:`node_json`, copied to its flash as ``board.json``), with
``node.config.board()``::

    from tynys import boards
    boards.names()                  # ['esp32-c3-supermini', 'esp32-devkitc', ...]
    b = boards.load("esp32-devkitc")
    b["uart"]["1"]                  # {'tx': 33, 'rx': 27}
    boards.limits(b)["reserved"]    # {'1': 'UART0 TX: the REPL console', '6': 'SPI flash', ...}

``python -m tynys.boards docs`` writes docs/boards.md (pin tables and wiring guides) from these
files; a test keeps the two equal.
"""

from __future__ import annotations

import functools
import json
import sys
from pathlib import Path

from . import sensortypes
from .errors import TynysError

BOARDS = Path(__file__).resolve().parents[2] / "boards"
DOCS = BOARDS.parent / "docs" / "boards.md"
REQUIRED = ("board", "name", "chip", "micropython", "uart", "i2c")


class BoardError(TynysError):
    """A board file is missing or wrong."""


def _pins(spec: str) -> list[int]:
    """GPIO numbers from ranges: "0-19,21,25-27" -> [0, ..., 19, 21, 25, 26, 27]."""
    out = []
    for part in filter(None, spec.split(",")):
        a, _, b = part.partition("-")
        out += range(int(a), int(b or a) + 1)
    return out


@functools.cache
def chips() -> dict[str, dict]:
    """{chip: facts} with pin ranges expanded to lists (boards/chips.json)."""
    raw = json.loads((BOARDS / "chips.json").read_text())
    out = {}
    for name, c in raw.items():
        if name.startswith("_"):
            continue
        c = dict(c)
        for k in ("gpio", "flash", "input_only", "usb"):
            c[k] = _pins(c.get(k, ""))
        out[name] = c
    return out


def names() -> list[str]:
    return sorted(p.stem for p in BOARDS.glob("*.json") if p.stem != "chips")


def path(name: str) -> Path:
    p = BOARDS / f"{name}.json"
    if name == "chips" or not p.exists():
        raise BoardError(f"no board {name!r}; boards/ has: {', '.join(names())}")
    return p


def load(name: str) -> dict:
    """The board file, checked: required fields, its chip known, and every pin a GPIO the chip
    has, usable so (not flash, not reserved, not input-only where it drives a line), used once."""
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
    if b["chip"] not in chips():
        raise BoardError(f"{p}: chip {b['chip']!r} is not known; known: {', '.join(chips())}")
    lim = limits(b)
    used = {}
    for kind, roles in (("uart", {"tx": True, "rx": False}), ("i2c", {"scl": True, "sda": True})):
        n, first = (lim["uarts"], 1) if kind == "uart" else (lim["i2c"], 0)
        for bus, pins in b[kind].items():
            if not first <= int(bus) < n:
                raise BoardError(f"{p}: {kind}.{bus}: the {b['chip']} has {kind.upper()} {first} to {n - 1} for sensors")
            for role, output in roles.items():
                _pin(p, lim, f"{kind}.{bus}.{role}", pins.get(role), output, used)
    for gate, g in b.get("power", {}).items():
        _pin(p, lim, f"power.{gate}.pin", g.get("pin"), True, used)
    return b


def _pin(p, lim, where, g, output, used):
    if not isinstance(g, int) or g not in lim["gpio"]:
        raise BoardError(f"{p}: {where} = {g!r} is not a usable GPIO of this chip")
    if str(g) in lim["reserved"]:
        raise BoardError(f"{p}: {where} = {g} is reserved ({lim['reserved'][str(g)]})")
    if output and g in lim["input_only"]:
        raise BoardError(f"{p}: {where} = {g} is input-only; it cannot drive a line")
    if g in used and not (where.startswith("i2c") and used[g].startswith("i2c")):
        raise BoardError(f"{p}: GPIO {g} is both {used[g]} and {where}")
    used.setdefault(g, where)


def limits(b: dict) -> dict:
    """What config.json may use on this board: the chip's GPIOs, UART/I2C controllers and
    input-only pins, and every pin that must not be used with the reason (the chip's flash,
    USB and console pins, its boot strapping pins, and what the board wires itself)."""
    c = chips()[b["chip"]]
    reserved = {}
    for g in c["flash"]:
        reserved[str(g)] = "SPI flash"
    for g in c["usb"]:
        reserved[str(g)] = "the USB port"
    for role, g in c["console"].items():
        reserved[str(g)] = f"UART0 {role.upper()}: the REPL console"
    for g, why in c.get("strapping", {}).items():
        reserved[g] = why
    reserved.update(b.get("reserved", {}))
    return {"uarts": c["uarts"], "i2c": c["i2c"], "gpio": c["gpio"], "input_only": c["input_only"],
            "reserved": reserved}


def node_json(name: str) -> str:
    """board.json for the node: the board file with its chip's limits folded in."""
    b = load(name)
    return json.dumps({**b, "limits": limits(b)}, indent=1) + "\n"


def offset(b: dict) -> int:
    """Where the board's MicroPython image goes in flash."""
    off = b["micropython"].get("offset")
    if off is None:
        raise BoardError(f"board {b['board']} has no MicroPython image to flash ({b['micropython'].get('source', '')})")
    return int(off, 16)


# -- docs/boards.md, generated from the board files (python -m tynys.boards docs)

_HEAD = """# Boards and wiring

<!-- Generated from boards/*.json and firmware/node/drivers/types.json by
     `python -m tynys.boards docs`; edit those files, not this page (a test keeps them equal). -->

One file per board in `boards/` says which chip it carries, which MicroPython image it takes and
where in flash, which pins each sensor socket uses, which pins must stay free and why. `tynys
flash`, `tynys provision`, `tynys config check` and the node itself read the same file. Cross TX
and RX: the sensor's TX goes to the board's RX pin.
"""


def _role_label(b: dict, bus_pins: dict, role: str) -> str:
    if role in ("5v", "3v3", "gnd"):
        return b["supply"][role]
    return f"GPIO {bus_pins[role]} ({role.upper()})"


def render_docs() -> str:
    out = [_HEAD]
    types = sensortypes.types()
    for name in names():
        b = load(name)
        c = chips()[b["chip"]]
        lim = limits(b)
        mp = b["micropython"]
        out.append(f"## {b['name']}\n")
        out.append(f"`--board {name}` · chip {c['name']} · {c['uarts'] - 1} UART(s) for sensors "
                   f"(UART0 is the console) · {c['i2c']} I2C bus(es)\n")
        if mp.get("image"):
            out.append(f"MicroPython: `{mp['image']}` ({mp['download']}), written at {mp['offset']}, "
                       f"version {mp['min_version']} or newer.\n")
        out.append(f"Buy: {b['buy']}.\n")
        out.append("| socket | pins |\n|---|---|")
        for bus, pins in sorted(b["uart"].items()):
            out.append(f"| UART{bus} | TX GPIO {pins['tx']}, RX GPIO {pins['rx']} |")
        for bus, pins in sorted(b["i2c"].items()):
            out.append(f"| I2C{bus} | SCL GPIO {pins['scl']}, SDA GPIO {pins['sda']} |")
        for gate, g in sorted(b.get("power", {}).items()):
            out.append(f"| power gate `{gate}` | GPIO {g['pin']}, on = {g.get('on', 1)} |")
        out.append("")
        res = sorted(lim["reserved"].items(), key=lambda kv: int(kv[0]))
        out.append("Keep free: " + "; ".join(f"GPIO {g} ({why})" for g, why in res) + ".\n")
        out.append("Wiring, per sensor (first socket of its bus):\n")
        out.append("| sensor | sensor pin -> board pin | note |\n|---|---|---|")
        for t in sorted(types):
            e = types[t]
            w = e.get("wiring")
            if not w or not b[e["bus"]]:
                continue
            bus, pins = sorted(b[e["bus"]].items())[0]
            wires = ", ".join(f"{label} -> {_role_label(b, pins, role)}" for label, role in w["pins"])
            out.append(f"| `{t}` on {e['bus'].upper()}{bus} | {wires} | {w['note']} |")
        out.append("")
        out += [f"- {n}" for n in b.get("notes", [])]
        out.append("")
    return "\n".join(out).rstrip() + "\n"


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv == ["docs"]:
        DOCS.write_text(render_docs())
        print(f"wrote {DOCS}")
        return 0
    print("usage: python -m tynys.boards docs", file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
