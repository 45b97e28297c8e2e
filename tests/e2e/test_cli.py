"""`tynys vnode`: create, run for a while, look at and change the flash."""

import json

import pytest

from tynys.cli import main

from .conftest import config

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


def test_run_reports_a_node_stuck_at_its_repl(tmp_path, capsys):
    cfg = tmp_path / "config.json"
    cfg.write_text(json.dumps(config(sensors={"pm": {"type": "pms9000"}})))
    home = tmp_path / "n2"
    main(["vnode", "create", str(home), "--config", str(cfg)])
    assert main(["vnode", "run", str(home), "--for", "1h"]) == 2
    out, err = capsys.readouterr()
    assert 'unknown sensor type "pms9000"' in out and "tynys: error: the node is at its REPL" in err
