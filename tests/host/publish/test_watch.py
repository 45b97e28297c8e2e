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


class Command:
    """``tynys publish …`` in a subprocess, its stdout and stderr lines collected as they come."""

    def __init__(self, *argv):
        tynys = Path(sys.executable).parent / "tynys"
        self.proc = subprocess.Popen([str(tynys), "publish", *map(str, argv)], stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        self.out, self.err, self.changed = [], [], threading.Condition()
        self.readers = [threading.Thread(target=self._read, args=(s, lines))
                        for s, lines in ((self.proc.stdout, self.out), (self.proc.stderr, self.err))]
        for r in self.readers:
            r.start()

    def _read(self, stream, lines: list) -> None:
        for line in stream:
            with self.changed:
                lines.append(line.rstrip("\n"))
                self.changed.notify_all()

    def wait(self, predicate, what: str) -> None:
        with self.changed:
            assert self.changed.wait_for(predicate, timeout=120), (what, self.out, self.err)

    def runs(self) -> int:
        return sum(x.startswith("site: ") for x in self.out)

    def stop(self, sig=signal.SIGINT) -> int:
        self.proc.send_signal(sig)
        rc = self.proc.wait(timeout=120)
        for r in self.readers:
            r.join(timeout=60)
        self.proc.stdout.close()
        self.proc.stderr.close()
        return rc


@pytest.mark.parametrize("how, stop_with, at_least", [(["--every", "1s"], signal.SIGINT, 2),
                                                       (["--watch"], signal.SIGTERM, 1)])
def test_the_command_keeps_publishing_until_stopped(smog_store, tmp_path, how, stop_with, at_least):
    out = tmp_path / "site"
    cmd = Command("--db", smog_store.path, "--out", out, "--city", "oskemen", "--tiles", "none", "--bulletin-lang", "en", *how)
    try:
        cmd.wait(lambda: cmd.runs() >= at_least, "runs")
    finally:
        assert cmd.stop(stop_with) == 0, cmd.err
    runs = cmd.runs()
    assert cmd.err[-1] == f"tynys: stopped after {runs} run(s)" and runs >= at_least
    assert cmd.out.count(f"bulletin: {out}/bulletin/tynys-bulletin-oskemen-2026-11-28-en.pdf") == runs
    assert (out / "index.html").is_file() and not list(out.rglob(".tynys-tmp-*"))  # a run is finished before it stops


def test_a_failed_run_is_reported_and_the_next_one_tries_again(smog_store, tmp_path):
    out = tmp_path / "site"
    cmd = Command("--db", smog_store.path, "--out", out, "--tiles", "none", "--bulletin-lang", "en", "--every", "1s")
    try:
        cmd.wait(lambda: cmd.runs() >= 1, "the first run")
        (out / "draft.html").write_text("someone's page")  # the folder now holds a file the site did not write
        cmd.wait(lambda: any(x.startswith("tynys: error: this run failed") for x in cmd.err), "a failed run")
        assert cmd.proc.poll() is None  # still running
        (out / "draft.html").unlink()
        done = cmd.runs()
        cmd.wait(lambda: cmd.runs() > done, "a run after the fault")
    finally:
        assert cmd.stop() == 0, cmd.err
    failed = [x for x in cmd.err if x.startswith("tynys: error:")]
    assert failed[0] == (f"tynys: error: this run failed, the next one tries again: {out} holds files tynys publish did "
                         "not write (draft.html); nothing was changed: choose an empty or new --out folder (or one an "
                         "earlier tynys publish made)")
    assert (out / "index.html").is_file()


@pytest.mark.parametrize("argv, message", [
    (["--every", "0"], "--every needs an interval such as 1h or 15m (or use --watch)"),
    (["--every", "1h", "--watch"], "use one or the other"),
    (["--watch", "--at", "2026-11-27"], "--at names a fixed time"),
])
def test_every_or_watch_with_a_bad_choice_is_refused(smog, tmp_path, capsys, argv, message):
    assert main(["publish", "--db", str(smog["db"]), "--out", str(tmp_path / "site"), *argv]) == 2
    assert message in capsys.readouterr().err and not (tmp_path / "site").exists()
