"""Fixtures for the driver and simulator tests (all on the MicroPython unix port, as .mpy)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tynys import decode, firmware

REPO = Path(__file__).resolve().parents[2]
FRAMES = REPO / "tests" / "vectors" / "frames"
# The simulators also import on CPython: the tests build frames with their builders.
sys.path.insert(0, str(REPO / "firmware" / "ports" / "unix"))


@pytest.fixture(scope="session")
def frames_dir() -> Path:
    return FRAMES


@pytest.fixture
def feed(built_firmware):
    """feed(sensor, data | [records], chunk=0, **options) -> (channels, scales, frames, counts)

    The driver parses the bytes on the unix port; frames are [raw ints] per valid reading.
    """

    def run(sensor, data, chunk=0, seed=1, **options):
        records = [data] if isinstance(data, (bytes, bytearray)) else list(data)
        ch, sc, frames, counts = decode.run_firmware(sensor, records, chunk=chunk, seed=seed,
                                                     options=options)
        return ch, sc, [v for _, v in frames], counts

    return run


@pytest.fixture
def run_mpy(built_firmware):
    """Run a MicroPython snippet with the built firmware; returns stdout lines."""

    def run(code, heap="256K", **kw):
        out = firmware.run(code=code, heap=heap, check=True, do_build=False, **kw)
        return out.stdout.decode().splitlines()

    return run
