"""``tynys serve --site DIR``: one laptop is a whole station. The collector that stores the nodes'
records also serves the published site: the real command in a subprocess, read by urllib and by
Chromium, while a node's record still goes in."""

from __future__ import annotations

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
from tynys.store import Store

pytestmark = pytest.mark.host


@pytest.fixture
def station(smog, tmp_path):
    with Store.open(smog["db"]) as src:
        src.backup(tmp_path / "city.db")
    shutil.copyfile(smog["db"].with_suffix(".keys"), tmp_path / "city.keys")
    (tmp_path / "city.keys").chmod(0o600)
    with Store.open(tmp_path / "city.db") as store:
        publish.build(store, tmp_path / "site", city="oskemen", tiles=None)
    (tmp_path / "secret.txt").write_text("not the site's")
    tynys = Path(sys.executable).parent / "tynys"
    proc = subprocess.Popen([str(tynys), "serve", "--db", str(tmp_path / "city.db"), "--site", str(tmp_path / "site"),
                             "--host", "127.0.0.1", "--port", "0", "--quiet"], stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stderr.readline()
        url = re.search(r"http://127\.0\.0\.1:\d+", line)
        assert url, line
        yield url.group(0), tmp_path
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=60)
        proc.stderr.close()


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
    for path in ("/.tynys-site.json", "/../secret.txt", "/%2e%2e/secret.txt", "/data/../../city.db", "/nothing.html"):
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
