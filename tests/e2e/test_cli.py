"""`tynys vnode`: create, run for a while, look at and change the flash."""

import json
import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tynys.cli import main

from .conftest import CLI, config

pytestmark = pytest.mark.e2e


def test_create_run_ls_get_put(tmp_path, capsys):
    cfg = tmp_path / "config.json"
    cfg.write_text(json.dumps(config()))
    home = tmp_path / "n1"
    assert main(["vnode", "create", str(home), "--config", str(cfg)]) == 0
    assert main(["vnode", "run", str(home), "--for", "20m", "--start", "2026-11-27T12:00Z", "--rtc-set"]) == 0
    out, err = capsys.readouterr()
    assert "console on /dev/pts/" in err
    lines = out.splitlines()
    assert "tynys: window to 12:05 seq 0 unsynced: pm 271; spool 1" in lines
    records = [json.loads(x) for x in lines if x.startswith('{"v":1')]
    assert [r["seq"] for r in records] == [0, 1, 2, 3] and records[1]["t0"] == 1795780800 + 300
    assert main(["vnode", "ls", str(home)]) == 0
    listing = capsys.readouterr().out
    assert "config.json" in listing and "spool/" in listing
    assert main(["vnode", "get", str(home), "state.json"]) == 0
    assert json.loads(capsys.readouterr().out)["boot"] == 1
    new = dict(config(), window_s=600)
    cfg.write_text(json.dumps(new))
    assert main(["vnode", "put", str(home), "config.json", str(cfg)]) == 0
    assert main(["vnode", "get", str(home), "config.json"]) == 0
    assert json.loads(capsys.readouterr().out)["window_s"] == 600
    assert main(["vnode", "get", str(home), "spool/none"]) == 2
    assert "spool/none: no such file" in capsys.readouterr().err


@pytest.mark.parametrize("option, value, said", [("--for", "2 days", "cannot read duration '2 days'"),
                                                   ("--start", "2026-02-30", "cannot read time '2026-02-30'")])
def test_run_names_a_time_it_cannot_read(tmp_path, capsys, option, value, said):
    cfg = tmp_path / "config.json"
    cfg.write_text(json.dumps(config()))
    home = tmp_path / "n5"
    assert main(["vnode", "create", str(home), "--config", str(cfg)]) == 0
    assert main(["vnode", "run", str(home), option, value]) == 2
    assert said in capsys.readouterr().err


def test_run_reports_a_node_stuck_at_its_repl(tmp_path, capsys):
    cfg = tmp_path / "config.json"
    cfg.write_text(json.dumps(config(sensors={"pm": {"type": "pms9000"}})))
    home = tmp_path / "n2"
    main(["vnode", "create", str(home), "--config", str(cfg)])
    assert main(["vnode", "run", str(home), "--for", "1h"]) == 2
    out, err = capsys.readouterr()
    assert 'unknown sensor type "pms9000"' in out and "tynys: error: the node is at its REPL" in err


def test_key_files_are_private_and_an_existing_node_is_not_formatted_silently(tmp_path, capsys):
    cfg = tmp_path / "config.json"
    cfg.write_text(json.dumps(config()))
    home = tmp_path / "n3"
    umask = os.umask(0o022)  # a usual umask: files 0644 unless made private
    try:
        assert main(["vnode", "create", str(home), "--config", str(cfg)]) == 0
    finally:
        os.umask(umask)
    for name in ("config.json", "flash.img"):  # both hold the node's key
        assert stat.S_IMODE((home / name).stat().st_mode) == 0o600, name
    assert main(["vnode", "create", str(home), "--config", str(cfg)]) == 2
    assert "is a virtual node already" in capsys.readouterr().err
    assert main(["vnode", "create", str(home), "--config", str(cfg), "--force"]) == 0


def descendants(pid: int) -> set[int]:
    out, todo = set(), [pid]
    while todo:
        p = todo.pop()
        for task in Path(f"/proc/{p}/task").glob("*"):
            for c in (task / "children").read_text().split():
                out.add(int(c))
                todo.append(int(c))
    return out


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=["SIGTERM", "SIGKILL"])
def test_vnode_run_stopped_by_a_signal_leaves_no_process(tmp_path, sig):
    cfg = tmp_path / "config.json"
    cfg.write_text(json.dumps(config()))
    home = tmp_path / "n4"
    assert main(["vnode", "create", str(home), "--config", str(cfg)]) == 0
    p = subprocess.Popen([sys.executable, "-c", CLI, "vnode", "run", str(home), "--for", "7d"],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        assert p.stdout.readline().startswith(b"tynys: ")  # the node speaks
        children = descendants(p.pid)
        assert len(children) >= 2  # the node's MicroPython process and its sensors'
        p.send_signal(sig)
        p.wait(30)
        deadline = time.monotonic() + 10
        while any(Path(f"/proc/{c}").exists() for c in children):
            assert time.monotonic() < deadline, "a process of the node outlived tynys vnode run"
            time.sleep(0.05)
    finally:
        if p.poll() is None:
            p.kill()
