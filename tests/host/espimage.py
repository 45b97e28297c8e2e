"""Test images shaped like MicroPython's whole ESP32 .bin (bootloader, partition table, app at
0x10000 from the start of flash), built with esptool's own image classes: each part has a real
header, checksum and SHA-256, so tynys.flash checks them as it would a download."""

from __future__ import annotations

from esptool.bin_image import ESP32C3FirmwareImage, ESP32FirmwareImage, ESP32S3FirmwareImage, ImageSegment
from esptool.targets import CHIP_DEFS

# chip -> (image class, a DRAM address the chip has, MicroPython's image offset)
CHIPS = {"esp32": (ESP32FirmwareImage, 0x3FFB0000, 0x1000),
         "esp32c3": (ESP32C3FirmwareImage, 0x3FC80000, 0x0),
         "esp32s3": (ESP32S3FirmwareImage, 0x3FC88000, 0x0)}


def _part(chip: str, payload: bytes) -> bytes:
    cls, dram, _ = CHIPS[chip]
    img = cls()
    img.chip_id = CHIP_DEFS[chip].IMAGE_CHIP_ID
    img.entrypoint = dram
    seg = ImageSegment(dram, payload + b"\0" * (-len(payload) % 4))
    seg.name = ".dram0.data"  # save() names segments in its messages
    img.segments = [seg]
    return img.save(None)


def micropython_bin(chip: str = "esp32", version: str = "1.24.1", app_size: int = 120_000) -> bytes:
    offset = CHIPS[chip][2]
    boot = _part(chip, b"second stage bootloader " * 200)
    banner = f"MicroPython v{version} on 2024-11-29; Generic {chip} module with {chip.upper()}".encode()
    app = _part(chip, banner + bytes(range(256)) * (app_size // 256))
    out = bytearray(b"\xff" * (0x10000 - offset)) + app
    out[0:len(boot)] = boot
    table = 0x8000 - offset
    out[table:table + 32] = b"\xaa\x50" + b"\x00" * 30  # a partition table's first entry magic
    return bytes(out)
