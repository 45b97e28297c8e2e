"""Checking a node's config.json on the host with the node's own checker (``firmware/node/config.py``
run on CPython), so the host and the node judge a config the same way: every problem at once,
each one line with the field and the fix::

    from tynys import nodeconfig
    nodeconfig.check_file("config.json", board="esp32-c3-supermini")
    # ['config.json.sensors.th.addr: 0x46 is not an address a sht3x can have; use 0x44 or 0x45', ...]
"""

from __future__ import annotations

import copy
import json
import sys
from pathlib import Path

from . import boards, firmware
from .errors import TynysError


class ConfigFileError(TynysError):
    """A config file that cannot be read or parsed."""


def _checker():
    # The firmware's `node` package imports on CPython (its modules use only json and re here).
    src = str(firmware.SOURCE)
    if src not in sys.path:
        sys.path.insert(0, src)
    from node import config

    return config


def check(cfg: dict, board: str | None = None, where: str = "config.json") -> list[str]:
    """Every problem of `cfg` (against the board's pins and chip when `board` is given)."""
    brd = json.loads(boards.node_json(board)) if board else None
    return _checker().problems(copy.deepcopy(cfg), brd, where)


def resolve(cfg: dict, board: str, where: str = "config.json") -> dict:
    """The config as the node will run it: defaults filled in, each sensor's driver, bus, pins
    and sampling resolved. Raises TynysError with every problem when there are any."""
    brd = json.loads(boards.node_json(board))
    cfg = copy.deepcopy(cfg)
    out = _checker().problems(cfg, brd, where)
    if out:
        raise TynysError("; ".join(out))
    return cfg


def read(path: str | Path) -> dict:
    p = Path(path)
    try:
        text = sys.stdin.read() if str(path) == "-" else p.read_text()
    except OSError as e:
        raise ConfigFileError(f"cannot read {path}: {e.strerror}") from None
    try:
        return json.loads(text)
    except ValueError as e:
        raise ConfigFileError(f"{path}: not valid JSON ({e}); check quotes, commas and braces") from None


def check_file(path: str | Path, board: str | None = None) -> list[str]:
    return check(read(path), board, Path(str(path)).name if str(path) != "-" else "config.json")
