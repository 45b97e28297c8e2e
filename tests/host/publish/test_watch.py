"""Keeping the site current: a rebuild writes the day's bulletin beside the site and links it;
``--every`` runs on the clock's multiples; ```--watch`` rebuilds when the stored data complete a new
hour (records arriving through the real ingest path while it watches), once. A stop (SIGTERM,
Ctrl-C) at any moment ends the command within a bound, with a whole site."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from factory import KEY, make_body, sign_body

from tynys.cli import main
from tynys.ingest import Ingestor
from tynys.keys import KeyFile
from tynys.publish import folder, watch

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

    def stop(self, sig=signal.SIGINT, within: float = 120) -> int:
        """Send *sig*; the exit code, once the command has ended (``stopped_in`` seconds later)."""
        t = time.monotonic()
        self.proc.send_signal(sig)
        try:
            rc = self.proc.wait(timeout=within)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            rc = None
        self.stopped_in = time.monotonic() - t
        for r in self.readers:
            r.join(timeout=60)
        self.proc.stdout.close()
        self.proc.stderr.close()
        assert rc is not None, (f"still running {within} s after {signal.Signals(sig).name}", self.out, self.err)
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


# From SIGTERM to the command's end (interpreter exit included). Measured 0.5-2 s at a load average
# of 8 on 2 CPUs; 6-12 s at a load average of 15-30 (a bulletin page being saved finishes first).
STOP_BOUND_S = 30


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _whole(out: Path) -> dict[str, bytes]:
    """The site's files, checked whole: exactly those its list names (nothing staged or left over),
    its data a complete script."""
    files = _files(out)
    own = json.loads(files.pop(folder.MANIFEST))["files"]
    assert sorted(files) == sorted(own)
    data = files["data/site.js"].decode()
    assert data.startswith("window.TYNYS_SITE = ") and data.endswith(";\n")
    json.loads(data[len("window.TYNYS_SITE = "):-2])
    return files | {folder.MANIFEST: (out / folder.MANIFEST).read_bytes()}


def _staging(out: Path) -> bool:
    """Is a run writing its files (staged, not yet swapped in; the list's own rewrite excluded)?"""
    return any(p.name != folder.TMP + folder.MANIFEST for p in out.rglob(folder.TMP + "*"))


ABANDONED = "tynys: stopping: the run in progress was abandoned; the site is as the last run left it"


@pytest.mark.parametrize("moment", ["before the handler", "start-up", "the first run writing", "a later run writing",
                                    "the wait beginning", "waiting"])
def test_sigterm_at_any_moment_ends_the_command_promptly_with_a_whole_site(smog_store, tmp_path, moment):
    out = tmp_path / "site"
    how = ["--every", "1s"] if moment == "a later run writing" else ["--watch"]
    cmd = Command("--db", smog_store.path, "--out", out, "--tiles", "none", "--bulletin-lang", "en", *how)
    before = None
    try:
        if moment == "start-up":  # the handler is in place; the first run is about to begin
            cmd.wait(lambda: any(x.startswith("tynys: publishing") for x in cmd.err), "the start")
        elif moment.endswith("run writing"):
            if moment == "a later run writing":
                cmd.wait(lambda: cmd.runs() >= 1, "the first run")
                before = _whole(out)
            deadline = time.monotonic() + 120
            while not (out.is_dir() and _staging(out)):
                assert time.monotonic() < deadline and cmd.proc.poll() is None, (cmd.out, cmd.err)
                time.sleep(0.002)
        elif moment == "the wait beginning":  # the instant the run is reported: the loop goes on to its wait
            cmd.wait(lambda: cmd.runs() >= 1, "the first run")
        elif moment == "waiting":
            cmd.wait(lambda: cmd.runs() >= 1, "the first run")
            time.sleep(0.5)
    finally:
        rc = cmd.stop(signal.SIGTERM, within=STOP_BOUND_S)
    runs = cmd.runs()
    print(f"{moment}: stopped in {cmd.stopped_in:.2f} s")  # shown with pytest -s
    if moment == "before the handler":  # Python's own default: ended by the signal, nothing written
        assert rc == -signal.SIGTERM and not out.exists() and runs == 0
        return
    assert rc == 0, cmd.err
    assert cmd.err[-1] == f"tynys: stopped after {runs} run(s)"
    if moment == "start-up":  # stopped before the first run or during it: no site, and no half of one
        assert runs == 0 and not (out.exists() and _files(out))
    elif moment == "the first run writing":
        assert ABANDONED in cmd.err and runs == 0 and not _files(out)
    elif moment == "a later run writing":
        if ABANDONED in cmd.err:  # the run's staged files were dropped: the site is the previous run's, byte for byte
            assert runs == 1 and _whole(out) == before
        else:  # the signal came as its files were swapped in: the new site, whole
            assert runs == 2 and _whole(out)["data/site.js"] != before["data/site.js"]
    else:
        assert ABANDONED not in cmd.err and runs == 1 and _whole(out)
