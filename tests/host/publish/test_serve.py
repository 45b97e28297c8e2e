"""``tynys serve --site DIR``: one laptop is a whole station. The collector that stores the nodes'
records also serves the published site: the real command in a subprocess, read by urllib and by
Chromium, while a node's record still goes in."""

from __future__ import annotations

import contextlib
import json
import re
import shutil
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from factory import KEY, make_body, sign_body

from tynys import publish
from tynys.cli import main
from tynys.store import Store

pytestmark = pytest.mark.host


@contextlib.contextmanager
def _serving(db: Path, site: Path):
    """``tynys serve --db DB --site SITE`` in a subprocess: yields its address."""
    tynys = Path(sys.executable).parent / "tynys"
    proc = subprocess.Popen([str(tynys), "serve", "--db", str(db), "--site", str(site), "--host", "127.0.0.1", "--port", "0",
                             "--quiet"], stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stderr.readline()
        url = re.search(r"http://127\.0\.0\.1:\d+", line)
        assert url, line
        yield url.group(0)
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=60)
        proc.stderr.close()


def _copy(smog, tmp_path) -> Path:
    with Store.open(smog["db"]) as src:
        src.backup(tmp_path / "city.db")
    shutil.copyfile(smog["db"].with_suffix(".keys"), tmp_path / "city.keys")
    (tmp_path / "city.keys").chmod(0o600)
    return tmp_path / "city.db"


@pytest.fixture
def station(smog, tmp_path):
    db = _copy(smog, tmp_path)
    with Store.open(db) as store:
        publish.build(store, tmp_path / "site", city="oskemen", tiles=None)
    (tmp_path / "secret.txt").write_text("not the site's")
    with _serving(db, tmp_path / "site") as url:
        yield url, tmp_path


def _get(url: str, headers: dict | None = None):
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}), timeout=30) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


def test_serve_gives_the_site_and_nothing_else(station, smog):
    url, root = station
    status, headers, body = _get(url + "/")
    assert status == 200 and headers["Content-Type"].startswith("text/html") and b"assets/app.js" in body
    status, headers, body = _get(url + "/open-data/latest.csv")
    assert status == 200 and body.startswith(b"node,name,district")
    again = _get(url + "/open-data/latest.csv", {"If-None-Match": headers["ETag"]})
    assert again[0] == 304 and headers["Cache-Control"] == "no-cache"
    (root / "site" / "draft.html").write_text("<p>not published</p>")  # put beside the site after it was published
    for path in ("/.tynys-site.json", "/../secret.txt", "/%2e%2e/secret.txt", "/data/../../city.db", "/nothing.html",
                 "/draft.html"):
        assert _get(url + path)[0] == 404, path
    # the same address still takes the nodes' records
    line = sign_body(make_body("osk-01", 288, t0=smog["end"]), KEY)
    req = urllib.request.Request(url + "/api/v1/records", data=line + b"\n", headers={"Content-Type": "application/x-ndjson"})
    with urllib.request.urlopen(req, timeout=30) as r:
        assert r.status == 200 and json.loads(r.read())["ack"] == [288]


@pytest.mark.service
def test_chromium_reads_the_site_from_the_station(station, page, smog):
    url, _ = station
    p = page()
    pg = p.open(url + "/#lang=kk")
    assert sorted(pg.eval_on_selector_all(".tn-marker", "els => els.map(e => e.dataset.node)")) == smog["located"]
    assert "Ауа сапасының картасы" in pg.inner_text("#title")
    assert p.errors == [] and all(u.startswith(url) for u in p.requests)


def test_a_folder_not_yet_published_is_served_once_publish_writes_it(smog, tmp_path):
    db = _copy(smog, tmp_path)
    with _serving(db, tmp_path / "site") as url:
        assert _get(url + "/")[0] == 404
        with Store.open(db) as store:
            publish.build(store, tmp_path / "site", city="oskemen", tiles=None)
        status, _, body = _get(url + "/")
        assert status == 200 and b"assets/app.js" in body


def test_a_folder_holding_other_files_is_not_served(smog, tmp_path, capsys):
    (tmp_path / "home").mkdir()
    (tmp_path / "home" / "passwords.txt").write_text("hunter2")
    assert main(["serve", "--db", str(smog["db"]), "--site", str(tmp_path / "home"), "--port", "0"]) == 2
    assert capsys.readouterr().err == (
        f"tynys: error: --site {tmp_path / 'home'} holds files tynys publish did not write (passwords.txt): serving it would "
        "publish them; give the folder tynys publish --out wrote (or an empty one it will write)\n")
