"""A real board at hand: ``pytest -m hardware --port /dev/ttyUSB0 [--board esp32-devkitc]
[--image ESP32_GENERIC-….bin]`` (never in CI; docs/dev.md, "Hardware tests"). The volunteer's path,
in order: flash MicroPython (tynys.flash, with --image), provision the node (tynys.provision: the
firmware, the board file, a checked config, a new key in a temporary host's registry, the clock)
with a PMS on the board's first UART and an SDS011 slot on the next one with nothing wired to it,
wait for its first window to be stored, stop and soft-reset it under mpremote for longer than its
watchdog, and read what the unwired slot reported. Each step prints what it saw.

Wiring: a PMS5003 (or 7003/A003) on the board's first UART as docs/boards.md shows; the second
UART left unconnected (the "ghost" slot).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tynys import boards, flash, provision
from tynys.ingest import Collector, open_ingestor
from tynys.store import Store
from tynys.transport.serialport import SerialIngest

pytestmark = pytest.mark.hardware

MPREMOTE = str(Path(sys.executable).parent / "mpremote")
NODE = "hw-test"
WDT_S = 60  # node.config's default, which provision keeps


@pytest.fixture(scope="module")
def rig(request, tmp_path_factory):
    say = request.config.pluginmanager.getplugin("terminalreporter").write_line
    board = request.config.getoption("--board")
    boards.load(board)  # an unknown board is refused here, with the known ones
    return {"port": request.config.getoption("--port"), "board": board, "image": request.config.getoption("--image"),
            "db": tmp_path_factory.mktemp("board") / "city.db", "say": lambda s: say(f"  {s}")}


def mpremote(rig, *args, timeout=120) -> subprocess.CompletedProcess:
    out = subprocess.run([MPREMOTE, "connect", rig["port"], *args], capture_output=True, timeout=timeout)
    rig["say"](f"$ mpremote {' '.join(args)} -> {out.returncode}: {out.stdout.decode(errors='replace').strip()[-300:]}")
    return out


def test_1_flash_micropython(rig):
    if not rig["image"]:
        pytest.skip("pass --image ESP32_GENERIC-<date>-v1.xx.bin to flash MicroPython first")
    done = flash.flash(rig["board"], rig["port"], rig["image"], say=rig["say"])
    rig["say"](f"flashed {done['version']} on {done['chip']} {done['mac']} ({done['flash_size']}), md5 {done['md5']}")


def test_2_provision_and_a_whole_window(rig):
    done = provision.provision(rig["board"], rig["port"], NODE, db=rig["db"], sensors=["pm=pms5003", "ghost=sds011"],
                               window_s=60, say=rig["say"])
    rig["say"](f"provisioned: {done['copied']} files copied, first record {done['first_record']}")
    # the first window is cut short by the start: collect until a whole one is stored
    with Collector(open_ingestor(rig["db"], None)) as col:
        ing = SerialIngest(col, [rig["port"]]).start()
        deadline = time.monotonic() + 180
        while (rec := latest(rig["db"])) is None or rec["seq"] <= done["first_record"]["seq"]:
            assert time.monotonic() < deadline, "no second window within 3 minutes: see the console (mpremote connect PORT)"
            time.sleep(1)
        ing.stop()
    pm = rec["sensors"]["pm"]
    rig["say"](f"record seq {rec['seq']} boot {rec['boot']} clock {rec['clock']}: pm frames {pm['frames']} "
               f"bad {pm['bad']} pm25_cf1 {pm['ch'].get('pm25_cf1', {}).get('mean')}; health {rec['health']}")
    rig["record"] = rec
    assert pm["frames"] > 0, "the PMS sent nothing: check TX/RX and its 5 V"


def latest(db) -> dict | None:
    with Store.open(db) as store:
        row = store.conn.execute("SELECT raw FROM records WHERE node = ? ORDER BY seq DESC LIMIT 1", (NODE,)).fetchone()
    return json.loads(row[0]) if row else None


def test_3_soft_reset_under_mpremote_keeps_the_watchdog_fed(rig):
    # mpremote stops the node and soft-resets it into the raw REPL (main.py does not run);
    # the watchdog stays armed: boot.py must keep it fed for longer than wdt_s.
    out = mpremote(rig, "exec", f"import time; time.sleep({WDT_S + 15}); import machine; print('CAUSE', machine.reset_cause())",
                   timeout=WDT_S + 120)
    assert out.returncode == 0 and b"CAUSE 5" in out.stdout, "the board reset during maintenance (SOFT_RESET is 5)"
    mpremote(rig, "reset")


def test_4_a_sensor_with_nothing_wired(rig):
    if "record" not in rig:
        pytest.skip("needs the record of step 2")
    ghost = rig["record"]["sensors"]["ghost"]
    rig["say"](f"unplugged slot: frames {ghost['frames']} missing {ghost['missing']} state {ghost.get('state')}")
    assert ghost["frames"] == 0 and ghost["missing"] > 0
