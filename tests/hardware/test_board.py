"""A real board at hand: ``pytest -m hardware --port /dev/ttyUSB0 [--board esp32-devkitc]
[--image ESP32_GENERIC-….bin]`` (never in CI; docs/dev.md, "Hardware tests"). In order: flash
MicroPython (with --image), copy the firmware and a test config, measure one window into a
temporary host, stop and soft-reset the node under mpremote for longer than its watchdog, and
read the record of a sensor slot with nothing wired to it. Each step prints what it saw.

Wiring: a PMS5003 (or 7003/A003) on UART 1 as docs/drivers.md shows for the board; UART 2 left
unconnected (the "unplugged" slot).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tynys import boards, firmware
from tynys.ingest import Collector, Ingestor
from tynys.keys import KeyFile, new_key
from tynys.registry import add_node
from tynys.store import Store
from tynys.transport.serialport import SerialIngest

pytestmark = pytest.mark.hardware

MPREMOTE = str(Path(sys.executable).parent / "mpremote")
NODE = "hw-test"
WDT_S = 20


@pytest.fixture(scope="module")
def rig(request, tmp_path_factory):
    port = request.config.getoption("--port")
    board = boards.load(request.config.getoption("--board"))
    home = tmp_path_factory.mktemp("board")
    key = new_key()
    say = request.config.pluginmanager.getplugin("terminalreporter").write_line
    store = Store.open(home / "city.db")
    add_node(store, KeyFile(home / "city.keys"), NODE, key=key)
    cfg = {"node": NODE, "key": key.hex(), "window_s": 60, "wdt_s": WDT_S,
           "sensors": {"pm": {"type": "pms5003", "uart": 1}, "ghost": {"type": "sds011", "uart": 2}},
           "uplinks": {"serial": {"retry_s": 10}}}
    (home / "config.json").write_text(json.dumps(cfg))
    yield {"port": port, "board": board, "home": home, "store": store, "key": key, "say": say,
           "image": request.config.getoption("--image")}
    store.close()


def mpremote(rig, *args, timeout=120) -> subprocess.CompletedProcess:
    out = subprocess.run([MPREMOTE, "connect", rig["port"], *args], capture_output=True, timeout=timeout)
    rig["say"](f"  $ mpremote {' '.join(args)} -> {out.returncode}: {out.stdout.decode(errors='replace').strip()[-300:]}")
    return out


def test_1_flash_micropython(rig):
    if not rig["image"]:
        pytest.skip("pass --image ESP32_GENERIC-<date>-v1.xx.bin to flash MicroPython first")
    import esptool

    offset = rig["board"]["micropython"]["offset"]
    esptool.main(["--port", rig["port"], "erase-flash"])
    esptool.main(["--port", rig["port"], "--baud", "460800", "write-flash", offset, rig["image"]])
    rig["say"](f"flashed {rig['image']} at {offset}")
    time.sleep(3)  # the board boots MicroPython


def test_2_copy_the_firmware_and_config(rig):
    build = firmware.build()
    board = boards.path(rig["board"]["board"])
    mpremote(rig, "fs", "mkdir", ":lib")  # may exist already
    out = mpremote(rig, "fs", "cp", "-r", str(build / "node"), ":lib/", "+", "fs", "cp", str(build / "boot.py"),
                   str(build / "main.py"), ":", "+", "fs", "cp", str(board), ":board.json", "+",
                   "fs", "cp", str(rig["home"] / "config.json"), ":config.json", "+", "fs", "ls", timeout=300)
    assert out.returncode == 0, out.stderr.decode()
    assert b"main.py" in out.stdout and b"boot.py" in out.stdout


def test_3_one_window_reaches_the_host(rig):
    store, keys = rig["store"], KeyFile(rig["home"] / "city.keys")
    mpremote(rig, "reset")
    with Collector(Ingestor(store, keys)) as col:
        ing = SerialIngest(col, [rig["port"]]).start()
        deadline = time.monotonic() + 240  # the config check restart, the PMS warm-up, a minute's window
        while store.stats()["records"] < 1:
            assert time.monotonic() < deadline, "no record within 4 minutes: see the console (mpremote connect PORT)"
            time.sleep(1)
        time.sleep(3)  # its reply goes out
        ing.stop()
    (raw,) = store.conn.execute("SELECT raw FROM records ORDER BY seq LIMIT 1").fetchone()
    rec = json.loads(raw)
    pm = rec["sensors"]["pm"]
    rig["say"](f"record seq {rec['seq']} boot {rec['boot']} clock {rec['clock']}: pm frames {pm['frames']} "
               f"bad {pm['bad']} pm25_cf1 {pm['ch']['pm25_cf1']['mean']}; health {rec['health']}")
    rig["record"] = rec
    assert pm["frames"] > 0, "the PMS sent nothing: check TX/RX and its 5 V"


def test_4_soft_reset_under_mpremote_keeps_the_watchdog_fed(rig):
    # mpremote stops the node and soft-resets it into the raw REPL (main.py does not run);
    # the watchdog stays armed: boot.py must keep it fed for longer than wdt_s.
    out = mpremote(rig, "exec", f"import time; time.sleep({WDT_S + 15}); import machine; print('CAUSE', machine.reset_cause())")
    assert out.returncode == 0 and b"CAUSE 5" in out.stdout, "the board reset during maintenance (SOFT_RESET is 5)"
    mpremote(rig, "reset")


def test_5_a_sensor_with_nothing_wired(rig):
    if "record" not in rig:
        pytest.skip("needs the record of step 3")
    ghost = rig["record"]["sensors"]["ghost"]
    rig["say"](f"unplugged slot: frames {ghost['frames']} missing {ghost['missing']} state {ghost.get('state')}")
    assert ghost["frames"] == 0 and ghost["missing"] > 0
