"""A virtual node on its pty, as a board on USB: records out to the host's serial ingest, its
signed replies back, the REPL and mpremote."""

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tynys.ingest import Collector, Ingestor
from tynys.keys import KeyFile
from tynys.registry import add_node
from tynys.store import Store
from tynys.transport.serialport import SerialIngest

from .conftest import CHECK, KEY, T0, answered, config, windows

pytestmark = pytest.mark.e2e


def test_the_hosts_serial_ingest_stores_every_record_once_and_the_spool_empties(make_node, tmp_path):
    store = Store.open(tmp_path / "city.db")
    keys = KeyFile(tmp_path / "city.keys")
    add_node(store, keys, "vn-01", key=bytes.fromhex(KEY))
    vn = make_node(vtime="virtual", end=T0 + 3 * 3600)  # three simulated hours, then real time
    with Collector(Ingestor(store, keys, now=lambda: vn.world_time())) as col:
        vn.start()
        ing = SerialIngest(col, [vn.port]).start()  # its replies carry the host's clock: the world's
        vn.wait_world(T0 + 3 * 3600, timeout=120)
        deadline = time.monotonic() + 60
        while store.stats()["records"] < 36 and time.monotonic() < deadline:
            time.sleep(0.2)
        deadline = time.monotonic() + 60
        while not answered(vn, last := windows(vn)[-1]):  # the host's reply to the last record has been read
            assert time.monotonic() < deadline, "the host's last reply never reached the node"
            time.sleep(0.2)
        ing.stop()
    vn.write(b"\x03")
    vn.expect(rb">>> $", timeout=20)
    vn.write(b"print('SPOOL', n.spool.count, n.spool.dropped, n.spool.oldest)\r")
    count, dropped, oldest = (int(x) for x in vn.expect(rb"^SPOOL (\d+) (\d+) (-?\d+)", timeout=20).groups())
    # every acknowledged record left the spool; one left is a window closed after the last reply
    assert dropped == 0 and (count == 0 or oldest > last), (count, oldest, last)
    rows = store.conn.execute("SELECT seq, raw FROM records ORDER BY seq").fetchall()
    assert [r[0] for r in rows] == list(range(len(rows))) and len(rows) >= 36
    assert set(store.stats()["rejected_by_reason"]) <= {"replay"}  # resends only, deduplicated
    # the node's clock starts at 2000-01-01 (an ESP32 after power-on) until the host's reply sets it
    bodies = [json.loads(raw) for _, raw in rows]
    assert bodies[0]["clock"] == "unsynced" and bodies[0]["t0"] < 10 ** 9
    vn.write(b"print('CLOCK', n.clock.quality, n.clock.now())\r")
    quality, now = vn.expect(rb"^CLOCK (\w+) (\d+)", timeout=20).groups()
    assert quality == b"host" and abs(int(now) - vn.world_time()) <= 2  # set by the host's reply, to its clock
    store.close()


def test_the_repl_answers_on_the_pty_after_ctrl_c_and_mpremote_drives_it(make_node):
    vn = make_node(vtime="virtual", end=T0 + 1800)
    vn.start()
    vn.expect(rb'"seq":2,', timeout=60)
    vn.write(b"\x03")
    vn.expect(rb"stopped by Ctrl-C", timeout=20)
    vn.expect(rb">>> $", timeout=20)
    mpremote = str(Path(sys.executable).parent / "mpremote")
    out = subprocess.run([mpremote, "connect", vn.port, "fs", "ls"], capture_output=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert b"config.json" in out.stdout and b"spool/" in out.stdout
    out = subprocess.run([mpremote, "connect", vn.port, "exec", "print(6 * 7)"], capture_output=True, timeout=60)
    assert out.stdout.strip() == b"42"
    assert "soft" in vn.resets  # mpremote soft-resets the node in raw REPL, as on a board


def test_maintenance_over_mpremote_finishes_with_the_watchdog_armed(make_node, tmp_path):
    # A board's watchdog stays armed through the soft reset mpremote makes on connecting, the
    # Timer feeding it stops, and main.py does not run: boot.py must keep it fed meanwhile.
    vn = make_node(config(wdt_s=20), vtime="virtual", end=T0 + 1800)
    vn.start()
    vn.expect(rb'"seq":2,', timeout=60)
    new = tmp_path / "config.json"
    new.write_text(json.dumps(config(wdt_s=20, window_s=600)))
    mpremote = str(Path(sys.executable).parent / "mpremote")
    # longer than wdt_s of real time at the REPL, as a redeploy over a slow line takes
    out = subprocess.run([mpremote, "connect", vn.port, "fs", "cp", str(new), ":config.json", "+",
                          "exec", "import time; time.sleep(25); import machine; print('WDT', machine.WDT.timeout)"],
                         capture_output=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert b"WDT 3600000000" in out.stdout  # still armed (boot.py holds it at an hour, fed every second)
    assert vn.resets == [CHECK, "soft"]  # mpremote's soft reset, and no watchdog reset
    subprocess.run([mpremote, "connect", vn.port, "reset"], capture_output=True, timeout=60)
    vn.expect(rb"boot 2, reset: hard", timeout=60)  # measuring again, with the new config
    vn.expect(rb"windows of 600 s", timeout=60)
    assert vn.resets == [CHECK, "soft", "soft", "hard", CHECK]  # mpremote reset: a soft reset, then machine.reset()
