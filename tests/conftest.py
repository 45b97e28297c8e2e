"""Shared fixtures. Markers (pyproject.toml): firmware, host, service, e2e, shared, hardware.

- ``shared_dir``: ``../shared`` beside the checkout (research notes and real data); tests that
  need it skip with the reason where it is absent (a user's machine).
- ``mpy``: run MicroPython code on the unix port with the firmware built as ``.mpy``.
- ``need_service``: a test that needs Mosquitto, Chromium or PostgreSQL fails in CI (``CI=true``)
  when it is missing, and skips with the reason elsewhere.
- ``pg_server``: one private PostgreSQL server for the session (``initdb`` in a temporary
  directory, a free loopback port); tests take fresh schemas or databases in it.
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


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


def need(what: str, present: bool, how: str) -> None:
    """A test that starts a real service (Mosquitto, Chromium, PostgreSQL) and finds it missing:
    in CI (``CI=true``), where ``make test`` installs everything, that is a failure; on a
    developer's machine a skip with the reason and the fix."""
    if present:
        return
    msg = f"{what} is not installed ({how})"
    if in_ci():
        pytest.fail(f"{msg}, and CI=true: the project's set-up (scripts/system-deps.sh) must install it", pytrace=False)
    pytest.skip(msg)


@pytest.fixture
def need_service():
    """``need_service(what, present, how)``: see :func:`need`."""
    return need


@pytest.fixture
def mosquitto():
    """A private Mosquitto on a free loopback port (a failure in CI when it is missing, a skip elsewhere)."""
    from tynys.broker import Mosquitto, mosquitto_binary

    need("mosquitto", mosquitto_binary() is not None, "apt-get install mosquitto; scripts/system-deps.sh does it")
    with Mosquitto() as broker:
        yield broker


@pytest.fixture(scope="session")
def pg_server():
    """A PostgreSQL server of Debian's ``postgresql`` package, started once per session (fsync
    off: tests kill collectors, not the machine's power)."""
    from tynys.pgserver import PostgresServer, postgres_bin

    need("PostgreSQL", postgres_bin() is not None, "apt-get install postgresql; scripts/system-deps.sh does it")
    with PostgresServer(durable=False) as pg:
        yield pg
