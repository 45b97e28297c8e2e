"""`make bench` is not run by CI: this keeps its firmware part (bench/drivers_unix.py on the unix
port) from rotting when the unix port's shims change. It checks that it runs and what it reports,
not how fast."""

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.firmware

ROOT = Path(__file__).resolve().parents[2]


def test_the_drivers_benchmark_runs_and_reports_every_driver_allocation_free(mpy):
    out = subprocess.run([sys.executable, str(ROOT / "bench" / "run.py"), "drivers"], capture_output=True, text=True,
                         timeout=300, cwd=ROOT)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
    allocs = {line.split(".")[1]: line.split(": ")[1] for line in out.stdout.splitlines()
              if line.startswith("drivers.") and ".alloc_per_frame:" in line}
    assert set(allocs) == {"pms5003", "pms5003t", "sds011", "sps30", "ze03", "dgs", "sht3x", "bme280", "isb"}
    assert set(allocs.values()) == {"0 B"}
