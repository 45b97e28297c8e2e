"""Shared fixtures. Markers (pyproject.toml): firmware, host, service, e2e, shared, hardware.

- ``shared_dir``: ``../shared`` beside the checkout (research notes and real data); tests that
  need it skip with the reason where it is absent (a user's machine).
- ``mpy``: run MicroPython code on the unix port with the firmware built as ``.mpy``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tynys import firmware

REPO = Path(__file__).resolve().parents[1]
VECTORS = REPO / "tests" / "vectors"
SHARED = Path(os.environ.get("TYNYS_SHARED_DIR", REPO.parent / "shared"))

os.environ.setdefault("COLUMNS", "120")
os.environ.setdefault("NO_COLOR", "1")


def pytest_addoption(parser):
    parser.addoption("--port", default=None, help="serial port of a real board (hardware tests)")
    parser.addoption("--board", default="esp32-devkitc", help="its board file in boards/ (hardware tests)")
    parser.addoption("--image", default=None, help="a MicroPython .bin to flash first (hardware tests)")


def pytest_collection_modifyitems(config, items):
    if config.getoption("--port"):
        return
    skip = pytest.mark.skip(reason="needs a real board: pass --port")
    for item in items:
        if "hardware" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    if not SHARED.is_dir():
        pytest.skip(f"../shared is not here ({SHARED}); it exists on the developers' machines and in CI only")
    return SHARED


@pytest.fixture(scope="session")
def record_vectors() -> dict:
    return json.loads((VECTORS / "records" / "record-1.json").read_text())


@pytest.fixture(scope="session")
def built_firmware() -> Path:
    """Compile firmware/ to .mpy once per session (as deployed)."""
    return firmware.build()


@pytest.fixture
def mpy(built_firmware):
    """``mpy(code, heap="96K", stdin=b"")`` -> CompletedProcess; raises with the traceback on failure."""

    def run(code: str, heap: str = firmware.DEFAULT_HEAP, check: bool = True, **kw):
        return firmware.run(code=code, heap=heap, check=check, do_build=False, **kw)

    return run


@pytest.fixture
def mosquitto():
    """A private Mosquitto on a free loopback port, or a skip saying how to install it."""
    from tynys.broker import Mosquitto, mosquitto_binary

    if mosquitto_binary() is None:
        pytest.skip("mosquitto is not installed (apt-get install mosquitto; scripts/system-deps.sh does it)")
    with Mosquitto() as broker:
        yield broker
