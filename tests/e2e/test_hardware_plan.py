"""The hardware test plan (tests/hardware/test_board.py, never in CI for a board) run as it is on a
virtual board just flashed with MicroPython, so the plan keeps working while nobody has a board
at hand: provisioned over its pty, a whole window stored, the soft reset under mpremote with the
watchdog armed, an unplugged sensor slot. Only the flashing step is skipped (no --image)."""

import subprocess
import sys
import time
from pathlib import Path

import pytest

from tynys.vnode import VirtualNode

pytestmark = pytest.mark.e2e

PLAN = Path(__file__).resolve().parents[1] / "hardware" / "test_board.py"


def test_the_hardware_plan_passes_on_a_virtual_board(tmp_path):
    now = int(time.time())
    wired = {"pm": {"type": "pms5003", "uart": 1}, "ghost": {"faults": {"unplugged": True}}}
    vn = VirtualNode.create(tmp_path / "bare", None, scenario={"sensors": wired}, from_flash=True,
                            vtime="virtual", start=now, end=now + 3600)
    vn.start()
    try:
        out = subprocess.run([sys.executable, "-m", "pytest", str(PLAN), "-m", "hardware", "-p", "no:cacheprovider",
                              "-q", "-s", "--port", vn.port, "--board", "virtual", "--basetemp", str(tmp_path / "plan")],
                             capture_output=True, timeout=400)
    finally:
        vn.stop()
    said = out.stdout.decode()
    assert out.returncode == 0 and "3 passed, 1 skipped" in said, said[-3000:]
    assert "CAUSE 5" in said and "unplugged slot: frames 0" in said
    assert "wdt" not in vn.resets  # the soft reset under mpremote did not let the watchdog bite
