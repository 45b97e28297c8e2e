"""Fixtures for the published site: the smog day stored once per session, its site published once
under a local web server (Chromium: ``browser`` and ``page`` in tests/conftest.py)."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

sys.path.append(str(Path(__file__).parent))  # smogday.py (appended: "conftest" must stay tests/host/conftest.py)

import smogday  # noqa: E402

from tynys import publish  # noqa: E402
from tynys.store import Store  # noqa: E402

@pytest.fixture(scope="session")
def smog(tmp_path_factory) -> dict:
    """The smog day's database (read it; copy it before writing)."""
    return smogday.build(tmp_path_factory.mktemp("smog"))


@pytest.fixture(scope="session")
def raw_day(tmp_path_factory) -> dict:
    """The same day's records in a database where no node has a calibration profile."""
    return smogday.build(tmp_path_factory.mktemp("raw"), calibrate=False)


@pytest.fixture
def smog_store(smog, tmp_path):
    """A private copy of the smog day's database."""
    with Store.open(smog["db"]) as src:
        src.backup(tmp_path / "city.db")
    s = Store.open(tmp_path / "city.db")
    yield s
    s.close()


@pytest.fixture(scope="session")
def web(tmp_path_factory, smog, raw_day, static_server):
    """The smog day published under a local web server, which also serves a map tile: the site's
    tile layer points at it, so the page needs nothing beyond localhost (site/; osm/ with
    OpenStreetMap's tiles; raw/: the day without any calibration profile)."""
    root = tmp_path_factory.mktemp("web")
    (root / "tiles").mkdir()
    shutil.copyfile(Path(publish.site.LEAFLET) / "dist" / "images" / "layers.png", root / "tiles" / "tile.png")
    url = static_server(root)
    tiles = publish.site.Tiles(url + "/tiles/tile.png?{z}/{x}/{y}", "test tiles")
    with Store.open(smog["db"]) as store:
        online = publish.build(store, root / "site", city="oskemen", tiles=tiles)
        offline = publish.build(store, root / "osm", city="oskemen")  # OpenStreetMap's tiles, for the offline test
    with Store.open(raw_day["db"]) as store:
        publish.build(store, root / "raw", city="oskemen", tiles=tiles)
    return {"url": url, "root": root, "site": online, "osm": offline}


