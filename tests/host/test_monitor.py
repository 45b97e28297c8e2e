"""tynys monitor: values and plain-language warnings from record lines, live over a pty."""

from __future__ import annotations

import json
import select
import signal
import subprocess
import sys
import time

import pytest
from factory import KEY, make_body, make_line, sign_body
from ptys import PtyNode

from tynys.cli.monitor import render
from tynys.monitor import Monitor

pytestmark = pytest.mark.host
T0 = 1795813200
NOW = T0 + 310


def feed(mon, body):
    return mon.feed(sign_body(body, KEY))


def test_a_healthy_record_has_values_and_no_warning():
    ev = Monitor(KEY, now=lambda: NOW).feed(make_line("osk-03", KEY, 1, t0=T0))
    assert ev["warnings"] == [] and ev["verified"] is True
    assert ev["values"]["pm.pm25_cf1"] == 15.0 and ev["n"]["th.rh"] == 30


def test_warnings_name_the_problem_and_the_fix():
    clock = [NOW]
    mon = Monitor(bytes(32), now=lambda: clock[0])
    b = make_body("osk-03", 1, t0=T0, rh=88.0, spool=2, dropped=3)
    b["sensors"]["pm"].update(bad=4, missing=6, warmup=30)
    b["sensors"]["so2"].update(frames=0, warmup=12)
    b["health"].update(reset="wdt", heap_free=5000)
    ev = feed(mon, b)
    assert ev["verified"] is False
    assert ev["warnings"] == [
        "signature does not match the key given: is the node provisioned with this key?",
        "pm (pms5003): 4 bad frames (checksum/format): check wiring, cable length and supply",
        "pm (pms5003): 6 expected readings never came: check TX/RX (crossed?) and power",
        "th.rh 88 % > 70 %: optical PM reads high in humid air (correct for humidity)",
        "so2 (isb): no valid reading in this window (still warming up: 12 readings discarded)",
        "3 records dropped by a full spool since the flash was formatted",
        "last reset by the watchdog",
        "low free heap: 5000 bytes (on an ESP32 the heap may still grow; watch for MemoryError resets)",
    ]
    clock[0] += 300  # the next window, live
    later = feed(mon, make_body("osk-03", 2, t0=T0 + 300, spool=3, dropped=5, clock="unsynced"))
    assert later["warnings"][-3:] == ["spool growing: 3 records waiting (is the host acknowledging?)",
                                      "2 records dropped by a full spool", "clock not synced: times are the node's guess (give it NTP or let the host set it)"]


def test_a_backlog_arriving_in_a_burst_draws_no_spool_warning():
    """Records written while no host listened (before provisioning's reset, or with the host down)
    carry the spool count of their time; sent all at once, they are the spool draining."""
    clock = [NOW + 3000]
    mon = Monitor(now=lambda: clock[0])
    burst = [feed(mon, make_body("osk-03", seq, t0=T0 + 300 * seq, spool=seq + 1)) for seq in range(14)]
    assert [w for ev in burst for w in ev["warnings"] if "spool" in w] == []
    clock[0] += 300  # then live again, and the host does not acknowledge
    for seq in (14, 15):
        ev = feed(mon, make_body("osk-03", seq, t0=T0 + 300 * seq, spool=seq + 1))
        clock[0] += 300
    assert ev["warnings"] == ["spool growing: 16 records waiting (is the host acknowledging?)"]


def test_clock_off_and_broken_lines():
    mon = Monitor(now=lambda: NOW + 3600)
    assert feed(mon, make_body("osk-03", 1, t0=T0))["warnings"] == ["clock off: window end is -3610 s from the host clock"]
    assert mon.feed(b">>> print(1)") is None
    assert mon.feed(b'{"v":1,"node":"osk-0') == {"kind": "malformed", "detail": 'not a record line: expected a JSON object ending in ,"sig":"<64 hex>"}',
                                                 "warnings": ['malformed record line: not a record line: expected a JSON object ending in ,"sig":"<64 hex>"}']}
    deep = b'{"a":' + b"[" * 5000 + b"]" * 5000 + b',"sig":"' + b"0" * 64 + b'"}'  # line noise must not stop the watch
    assert mon.feed(deep)["detail"] == "invalid JSON: nested too deeply"
    assert mon.counts == {"records": 1, "malformed": 2, "bad_signature": 0}


def test_human_view():
    ev = Monitor(now=lambda: NOW).feed(make_line("osk-03", KEY, 1, t0=T0, rh=80.0))
    text = render(ev).splitlines()
    assert text[0] == "osk-03 boot 0 seq 1  2026-11-27T21:00:00Z .. 21:05:00Z  clock ntp  spool 1  heap 41000  rssi -67"
    assert "  pm.pm25_cf1       15.00  n 270" in text
    assert text[-1] == "  ! th.rh 80 % > 70 %: optical PM reads high in humid air (correct for humidity)"


def test_monitor_command_streams_records_from_a_pty(tmp_path):
    node = PtyNode(tmp_path / "ttyNODE")
    p = subprocess.Popen([sys.executable, "-c", "import sys; from tynys.cli import main; sys.exit(main(sys.argv[1:]))",
                          "monitor", str(node.link), "--nl"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 20
        line = b""
        while time.monotonic() < deadline and not line:
            node.write(b"I (500) app: hello\n" + make_line("osk-03", KEY, 4) + b"\n")
            if select.select([p.stdout], [], [], 0.5)[0]:
                line = p.stdout.readline()
        ev = json.loads(line)
        assert (ev["node"], ev["seq"], ev["verified"]) == ("osk-03", 4, None)
        node.pump(0.2)
        assert not any(s.startswith(("ACK", "TIME")) for s in node.received)  # watching only
    finally:
        p.send_signal(signal.SIGTERM)
        _, err = p.communicate(timeout=20)
        node.close()
    assert p.returncode == 0
    assert b"| I (500) app: hello" in err and b"not acknowledging" in err
