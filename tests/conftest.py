"""Shared fixtures. Markers (pyproject.toml): firmware, host, service, e2e, shared, hardware.

- ``shared_dir``: ``../shared`` beside the checkout (research notes and real data); tests that
  need it skip with the reason where it is absent (a user's machine).
- ``mpy``: run MicroPython code on the unix port with the firmware built as ``.mpy``.
- ``need_service``: a test that needs Mosquitto, Chromium or PostgreSQL fails in CI (``CI=true``)
  when it is missing, and skips with the reason elsewhere.
- ``pg_server``: one private PostgreSQL server for the session (``initdb`` in a temporary
  directory, a free loopback port); tests take fresh schemas or databases in it.
- ``browser``/``page``: Debian's Chromium driven by Playwright; ``static_server(root)``: a web
  server on loopback; ``artifacts``: where tests leave screenshots (build/test-artifacts, or
  $TYNYS_ARTIFACTS).
"""

from __future__ import annotations

import functools
import json
import os
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tynys import firmware

REPO = Path(__file__).resolve().parents[1]
VECTORS = REPO / "tests" / "vectors"
SHARED = Path(os.environ.get("TYNYS_SHARED_DIR", REPO.parent / "shared"))
ARTIFACTS = Path(os.environ.get("TYNYS_ARTIFACTS", REPO / "build" / "test-artifacts"))
CHROMIUM = Path(os.environ.get("TYNYS_CHROMIUM", "/usr/bin/chromium"))
# Chromium as root in a container, and quiet: no background connections to Google's services.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]

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


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium under Playwright (which downloads no browser of its own)."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        sync_playwright = None
    need("playwright", sync_playwright is not None, "make setup installs it")
    need("Chromium", CHROMIUM.exists(), f"no {CHROMIUM}: apt-get install chromium; scripts/system-deps.sh does it")
    from tynys.publish import site

    need("Leaflet", (site.LEAFLET / "dist" / "leaflet.js").is_file(), "scripts/web-deps.sh runs npm ci")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield b
        b.close()


class Page:
    """A browser page that records console errors, page errors and every request; *offline*
    aborts every request that would leave the machine (and lists it in ``blocked``), unless
    *tile* is given: then images it asks the network for are answered with that file, here
    (listed in ``answered``), as a tile server would."""

    def __init__(self, browser, *, offline: bool = False, tile: Path | None = None):
        self.context = browser.new_context(viewport={"width": 1280, "height": 1000}, locale="en-GB")
        self.page = self.context.new_page()
        self.tile = tile
        self.errors, self.requests, self.blocked, self.answered = [], [], [], []
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("request", lambda r: self.requests.append(r.url))
        if offline or tile:
            self.page.route("**/*", self._offline)

    def _offline(self, route):
        url = route.request.url
        if url.startswith(("http://127.0.0.1", "file://", "data:")):
            route.continue_()
        elif self.tile and route.request.resource_type == "image":
            self.answered.append(url)
            route.fulfill(path=self.tile, content_type="image/png")
        else:
            self.blocked.append(url)
            route.abort("internetdisconnected")

    def open(self, url: str):
        """Load *url* and wait until the site says it is drawn (``body[data-ready]``)."""
        self.page.goto(url)
        self.page.wait_for_selector("body[data-ready]", state="attached", timeout=60_000)
        return self.page


@pytest.fixture
def page(browser):
    """``page(offline=False) -> Page``; every page is closed after the test."""
    pages = []

    def make(**kw) -> Page:
        p = Page(browser, **kw)
        pages.append(p)
        return p

    yield make
    for p in pages:
        p.context.close()


@pytest.fixture(scope="session")
def static_server():
    """``static_server(root) -> "http://127.0.0.1:PORT"``: a plain web server over *root*."""
    servers = []
    handler = type("Quiet", (SimpleHTTPRequestHandler,), {"log_message": lambda *a: None})

    def start(root) -> str:
        httpd = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(handler, directory=str(root)))
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
        servers.append(httpd)
        return f"http://127.0.0.1:{httpd.server_port}"

    yield start
    for s in servers:
        s.shutdown()
        s.server_close()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
