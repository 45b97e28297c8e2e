"""Put MicroPython on a board: detect the chip, refuse a board/chip mismatch before anything is
written, erase, write the image at the board's offset and verify it, through esptool's Python API
(``esptool.cmds``, not a subprocess). ``tynys flash`` is a thin command over :func:`flash`::

    from tynys import flash
    image = flash.image_for("esp32-devkitc", version="1.24.1")   # cached or downloaded, checked
    done = flash.flash("esp32-devkitc", "/dev/ttyUSB0", image)
    done["chip"], done["md5"]

An image is MicroPython's whole ``.bin`` for the board (bootloader, partition table and app in one
file, as micropython.org serves it). It is checked before the port is opened: the bootloader's
header names the chip it was built for, the app image's checksum and SHA-256 must hold (a cut or
damaged download fails them), and it carries its version string ("MicroPython v1.24.1 on ...").
"""

from __future__ import annotations

import hashlib
import os
import re
import urllib.request
from pathlib import Path
from typing import Callable

from . import boards, ports
from .errors import TynysError

APP_OFFSET = 0x10000  # where MicroPython's ESP32 partition table puts the app (ports/esp32/partitions-*.csv)
DOWNLOAD = os.environ.get("TYNYS_MICROPYTHON_URL", "https://micropython.org")
_VERSION = re.compile(rb"MicroPython (v\d+\.\d+\.\d+[-\w.]*) on \d{4}-\d\d-\d\d")


class FlashError(TynysError):
    """Flashing could not be done; the message says why and what to do."""


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "tynys" / "firmware"


def _version_tuple(v: str) -> tuple[int, ...]:
    return tuple(int(x) for x in re.findall(r"\d+", v)[:3])


def check_image(data: bytes, board: dict, version: str | None = None) -> dict:
    """Check an image for `board` (a loaded board file); returns {"version", "bytes", "md5"}."""
    from esptool.bin_image import LoadFirmwareImage
    from esptool.targets import CHIP_DEFS

    chip = boards.chips()[board["chip"]]
    rom = CHIP_DEFS[chip["esptool"]]
    name = board["micropython"]["image"]
    if not data:
        raise FlashError("the image file is empty: download it again")
    try:
        boot = LoadFirmwareImage(chip["esptool"], data)
    except Exception as e:
        raise FlashError(f"the image does not start with an ESP bootloader ({e}): is it the whole "
                         f"{name} .bin from {board['micropython']['download']}? (not the .app-bin or .uf2)") from None
    if boot.chip_id != rom.IMAGE_CHIP_ID:
        other = [c.CHIP_NAME for c in CHIP_DEFS.values() if getattr(c, "IMAGE_CHIP_ID", None) == boot.chip_id]
        raise FlashError(f"the image is built for {other[0] if other else f'chip id {boot.chip_id}'}, but board "
                         f"{board['board']} has an {rom.CHIP_NAME}: download the {name} image")
    app_at = APP_OFFSET - boards.offset(board)
    try:
        app = LoadFirmwareImage(chip["esptool"], data[app_at:])
        whole = app.checksum == app.calculate_checksum() and (
            not app.append_digest or app.stored_digest == app.calc_digest)
    except Exception:
        whole = False
    if not whole:
        raise FlashError(f"the image is damaged or cut short (its app at 0x{APP_OFFSET:x} fails its checksum): "
                         f"download {name} again from {board['micropython']['download']}")
    m = _VERSION.search(data)
    found = m.group(1).decode() if m else None
    if version and (found is None or _version_tuple(found) != _version_tuple(version)):
        raise FlashError(f"the image says it is MicroPython {found or '(no version string)'}, not v{version}")
    need = board["micropython"].get("min_version")
    if found and need and _version_tuple(found) < _version_tuple(need):
        raise FlashError(f"the image is MicroPython {found}; the firmware's bytecode (.mpy 6.3) needs {need} "
                         f"or newer: use --version with a newer release")
    return {"version": found, "bytes": len(data), "md5": hashlib.md5(data).hexdigest()}


def read_image(path: str | Path, board: dict, version: str | None = None) -> bytes:
    p = Path(path)
    try:
        data = p.read_bytes()
    except FileNotFoundError:
        raise FlashError(f"image file {p} not found: download the {board['micropython']['image']} .bin from "
                         f"{board['micropython']['download']}, or use --version V to fetch it") from None
    except OSError as e:
        raise FlashError(f"cannot read image {p}: {e.strerror}") from None
    check_image(data, board, version)
    return data


def image_for(board_name: str, version: str, fetch: Callable[[str], bytes] | None = None) -> Path:
    """The official image of `version` for the board: from the cache, else downloaded from
    micropython.org (its download page names the file), checked and cached. Offline, the error
    says which file to fetch and where to put it."""
    b = boards.load(board_name)
    name = b["micropython"]["image"]
    if not name:
        raise FlashError(f"board {board_name} has no MicroPython image to flash")
    version = version.lstrip("v")
    cache = cache_dir()
    pattern = re.compile(rf"{re.escape(name)}-(\d{{8}})-v{re.escape(version)}\.bin$")
    for p in sorted(cache.glob(f"{name}-*-v{version}.bin")) if cache.exists() else []:
        if pattern.search(p.name):
            read_image(p, b, version)
            return p
    fetch = fetch or _fetch
    page = b["micropython"]["download"].replace("https://micropython.org", DOWNLOAD)
    where = f"download {name}-<date>-v{version}.bin from {b['micropython']['download']} and put it in {cache}/ " \
            f"(or pass --image FILE)"
    try:
        html = fetch(page).decode("utf-8", "replace")
    except OSError as e:
        raise FlashError(f"cannot reach {page} ({getattr(e, 'reason', e)}): {where}") from None
    m = re.search(rf"/resources/firmware/({re.escape(name)}-\d{{8}}-v{re.escape(version)}\.bin)", html)
    if not m:
        raise FlashError(f"{page} lists no {name} image of MicroPython {version}; pick a version it lists")
    try:
        data = fetch(f"{DOWNLOAD}/resources/firmware/{m.group(1)}")
    except OSError as e:
        raise FlashError(f"the download of {m.group(1)} failed ({getattr(e, 'reason', e)}): {where}") from None
    check_image(data, b, version)
    cache.mkdir(parents=True, exist_ok=True)
    dest = cache / m.group(1)
    tmp = dest.with_suffix(".part")
    tmp.write_bytes(data)
    tmp.replace(dest)
    return dest


def _fetch(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=30) as r:
        return r.read()


class _Log:
    """esptool's messages to our callbacks: text lines, and its write progress as a fraction."""

    def __init__(self, say, progress):
        self.say, self.progress = say, progress

    def print(self, *args, **kwargs):
        text = " ".join(str(a) for a in args).strip()
        if text:
            self.say(text)

    def note(self, message):
        self.say(f"note: {message}")

    def warning(self, message):
        self.say(f"warning: {message}")

    warn = warning

    def error(self, message):
        self.say(f"error: {message}")

    err = error

    def stage(self, finish=False):
        pass

    def progress_bar(self, cur_iter, total_iters, prefix="", suffix="", bar_length=30):
        self.progress(cur_iter, total_iters)

    def set_verbosity(self, verbosity):
        pass

    def debug(self, *args):
        pass


def _esptool_logger(say, progress):
    from esptool.logger import TemplateLogger

    class Logger(_Log, TemplateLogger):
        pass

    return Logger(say, progress)


def flash(board_name: str, port: str, image: bytes | str | Path, *, baud: int = 460800, stub: bool = True,
          erase: bool = True, say: Callable[[str], None] = lambda s: None,
          progress: Callable[[int, int], None] = lambda done, total: None) -> dict:
    """Write `image` to the board on `port`. Nothing is written unless the chip on the port is the
    board's. Returns {"chip", "mac", "flash_size", "offset", "bytes", "md5", "version"}."""
    b = boards.load(board_name)
    offset = boards.offset(b)
    data = image if isinstance(image, bytes) else read_image(image, b)
    info = check_image(data, b)
    from esptool import cmds
    from esptool.logger import log
    from esptool.util import FatalError, flash_size_bytes

    from esptool.logger import EspLog  # the singleton esptool logs through (esp-pylib's)

    chip = boards.chips()[b["chip"]]
    saved = EspLog.instance
    log.set_logger(_esptool_logger(say, progress))
    try:
        try:
            esp = cmds.detect_chip(port, connect_attempts=3)
        except FatalError as e:
            raise ports.explain(port, e) or FlashError(_no_answer(port, e)) from None
        with esp:
            if esp.CHIP_NAME != chip["name"]:
                fits = [n for n in boards.names() if boards.chips()[boards.load(n)["chip"]]["name"] == esp.CHIP_NAME]
                raise FlashError(f"the board on {port} is an {esp.CHIP_NAME}, but board {board_name} has an "
                                 f"{chip['name']}: nothing was written; use --board "
                                 f"{' or '.join(fits) if fits else '(none of boards/ has this chip)'}")
            mac = ":".join(f"{x:02x}" for x in esp.read_mac())
            try:
                if stub:
                    esp = cmds.run_stub(esp)
                if baud and baud != esp.ESP_ROM_BAUD:
                    esp.change_baud(baud)
                cmds.attach_flash(esp)
                size_name = cmds.detect_flash_size(esp) or "4MB"
                size = flash_size_bytes(size_name)
                if offset + len(data) > size:
                    raise FlashError(f"the image ({len(data)} bytes at 0x{offset:x}) does not fit the board's "
                                     f"{size_name} flash: is it the image for {b['micropython']['image']}?")
                if erase:  # the ROM erases through FLASH_BEGIN; the stub has a command for it
                    cmds.erase_flash(esp) if esp.IS_STUB else cmds.erase_region(esp, 0, size)
                cmds.write_flash(esp, [(offset, data)], flash_size="keep", compress=True)
                got = esp.flash_md5sum(offset, len(data))
                if got != info["md5"]:
                    raise FlashError(f"verify failed: flash at 0x{offset:x} has MD5 {got}, the image {info['md5']}: "
                                     "flash again (a shorter USB cable, or --baud 115200)")
                cmds.reset_chip(esp, "hard-reset")
            except FatalError as e:
                raise FlashError(f"flashing stopped: {e}; try again with --baud 115200, or hold BOOT while "
                                 "pressing EN/RESET to enter download mode") from None
    finally:
        EspLog.instance = saved  # esptool's own logger again, for anyone else in this process
    return {"board": board_name, "chip": esp.CHIP_NAME, "mac": mac, "flash_size": size_name,
            "offset": f"0x{offset:x}", "bytes": len(data), "md5": info["md5"], "version": info["version"]}


def _no_answer(port: str, e: Exception) -> str:
    text = str(e).splitlines()[0]
    return (f"no ESP32 bootloader answered on {port} ({text}): hold BOOT, press and release EN/RESET, "
            "release BOOT, and try again; check it is the board's USB port and a data cable")
