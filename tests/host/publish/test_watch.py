"""Keeping the site current: a rebuild writes the day's bulletin beside the site and links it;
``--every`` runs on the clock's multiples; ```--watch`` rebuilds when the stored data complete a new
hour (records arriving through the real ingest path while it watches), once."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from factory import KEY, make_body, sign_body

from tynys.cli import main
from tynys.ingest import Ingestor
from tynys.keys import KeyFile
from tynys.publish import watch

pytestmark = pytest.mark.host


def test_a_rebuild_writes_the_days_bulletin_beside_the_site(smog_store, tmp_path):
    r = watch.rebuild(smog_store.path, tmp_path / "site", city="oskemen", langs=("ru",))
    # the latest complete hour (23:00Z) is 04:00 on 28 November in Oskemen
    assert [b["path"] for b in r.open_data["bulletin"]] == ["bulletin/tynys-bulletin-oskemen-2026-11-28-ru.pdf",
                                                           "bulletin/tynys-bulletin-oskemen-2026-11-28-ru.png"]
    assert (tmp_path / "site" / "bulletin" / "tynys-bulletin-oskemen-2026-11-28-ru.pdf").stat().st_size > 10_000
    files = json.loads((tmp_path / "site" / ".tynys-site.json").read_text())["files"]
    assert "bulletin/tynys-bulletin-oskemen-2026-11-28-ru.png" in files
    text = (tmp_path / "site" / "data" / "site.js").read_text(encoding="utf-8")
    assert '"bulletin":[{"name":"tynys-bulletin-oskemen-2026-11-28-ru.pdf"' in text


def test_every_runs_now_then_on_the_clocks_multiples():
    now = [3600 * 10 + 1234]
    waits, runs = [], []

    class Stop:
        def is_set(self):
            return len(runs) >= 3

        def wait(self, s):
            waits.append(s)
            now[0] += s
            return self.is_set()

    assert watch.every(3600, lambda: runs.append(now[0]), Stop(), clock=lambda: now[0]) == 3
    assert runs == [36000 + 1234, 39600, 43200] and waits[0] == 3600 - 1234


def test_watch_rebuilds_when_a_new_hour_is_stored(smog_store, smog):
    db = smog_store.path
    stop, ran = threading.Event(), threading.Condition()
    runs = []

    def run():
        with ran:
            runs.append(1)
            ran.notify_all()

    t = threading.Thread(target=watch.on_new_hour, args=(db, run, stop), kwargs={"poll_s": 0.05})
    t.start()
    try:
        with ran:
            assert ran.wait_for(lambda: len(runs) == 1, timeout=60)
        # osk-05 fell silent early (its seqs go on): its windows up to the end of the next hour
        keys = KeyFile(smog["db"].with_suffix(".keys"))
        ing = Ingestor(smog_store, keys, now=lambda: smog["end"] + 7200, max_past=None)
        lines = [sign_body(make_body("osk-05", 240 + k, t0=smog["end"] - 300 + 300 * k), KEY) for k in range(13)]
        assert {o.status for o in ing.ingest(lines, "test")} == {"stored"}
        with ran:
            assert ran.wait_for(lambda: len(runs) == 2, timeout=60)
    finally:
        stop.set()
        t.join(timeout=60)
    assert len(runs) == 2


def _lines(stream, into: list, changed: threading.Condition) -> None:
    for line in stream:
        with changed:
            into.append(line.rstrip("\n"))
            changed.notify_all()


@pytest.mark.parametrize("how, stop_with, at_least", [(["--every", "1s"], signal.SIGINT, 2),
                                                       (["--watch"], signal.SIGTERM, 1)])
def test_the_command_keeps_publishing_until_stopped(smog_store, tmp_path, how, stop_with, at_least):
    out = tmp_path / "site"
    tynys = Path(sys.executable).parent / "tynys"
    proc = subprocess.Popen([str(tynys), "publish", "--db", str(smog_store.path), "--out", str(out), "--city", "oskemen",
                             "--tiles", "none", "--bulletin-lang", "en", *how], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    printed, changed = [], threading.Condition()
    reader = threading.Thread(target=_lines, args=(proc.stdout, printed, changed))
    reader.start()
    try:
        with changed:
            assert changed.wait_for(lambda: sum(x.startswith("site: ") for x in printed) >= at_least, timeout=120), printed
    finally:
        proc.send_signal(stop_with)
        proc.wait(timeout=120)
        reader.join(timeout=60)  # stdout is the reader's alone (communicate() would take lines from it)
        err = proc.stderr.read()
        proc.stderr.close()
    assert proc.returncode == 0, err
    runs = sum(x.startswith("site: ") for x in printed)
    assert err.splitlines()[-1] == f"tynys: stopped after {runs} run(s)" and runs >= at_least
    assert printed.count(f"bulletin: {out}/bulletin/tynys-bulletin-oskemen-2026-11-28-en.pdf") == runs
    assert (out / "index.html").is_file() and not list(out.rglob(".tynys-tmp-*"))  # a run is finished before it stops


@pytest.mark.parametrize("argv, message", [
    (["--every", "0"], "--every needs an interval such as 1h or 15m (or use --watch)"),
    (["--every", "1h", "--watch"], "use one or the other"),
    (["--watch", "--at", "2026-11-27"], "--at names a fixed time"),
])
def test_every_or_watch_with_a_bad_choice_is_refused(smog, tmp_path, capsys, argv, message):
    assert main(["publish", "--db", str(smog["db"]), "--out", str(tmp_path / "site"), *argv]) == 2
    assert message in capsys.readouterr().err and not (tmp_path / "site").exists()
