"""Sensor drivers on the MicroPython unix port (the firmware as deployed, .mpy):

- heap bytes allocated per parsed frame in steady state (goal 0), for each driver and for a naive
  parse of the same frames (uart.read + slicing + struct.unpack, floats), and their ratio;
- frames parsed per second, driver and naive;
- each driver module's .mpy size (what a node carries).
"""

from __future__ import annotations

import json
import struct
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "host"))
sys.path.insert(0, str(REPO / "firmware" / "ports" / "unix"))

from sim.pms import frame as pms_frame  # noqa: E402
from sim.sds011 import data_frame  # noqa: E402
from sim.sps30 import miso  # noqa: E402
from sim.ze03 import ze03_frame  # noqa: E402
from tynys import firmware  # noqa: E402

FRAMES = {
    "pms5003": pms_frame([5, 9, 12, 4, 8, 11, 1200, 350, 80, 9, 2, 1, 0x9700]),
    "pms5003t": pms_frame([5, 9, 12, 4, 8, 11, 1200, 350, 80, 9, 0xFF9C, 853, 0x9A00]),
    "sds011": data_frame(291, 336, 0x58D9),
    "sps30": miso(3, 0, struct.pack(">10f", 5.23, 9.47, 12.65, 13.28, 26.3, 37.0, 41.5, 42.4, 42.5, 0.83)),
    "ze03": ze03_frame([0x86, 0, 42, 0, 0, 0, 0]),
    "dgs": b"071421030446, 875, -23, 19, 2111737, 23956, 19605, 00, 01, 02, 03\r\n",
}
MODULES = ("pms", "sds011", "sps30", "ze03", "dgs", "sht3x", "bme280", "isb", "ads1115", "base", "bus",
           "__init__")


def run(report):
    build = firmware.build()
    stdin = json.dumps({k: v.hex() for k, v in FRAMES.items()}).encode()
    proc = firmware.run(script=Path(__file__).with_name("drivers_unix.py"), stdin=stdin, heap="2M",
                        do_build=False, check=True)
    figures = {}
    for line in proc.stdout.decode().splitlines():
        sensor, metric, value = line.split()
        if metric == "error":
            raise RuntimeError(f"{sensor}: the benchmark frames did not all parse ({line})")
        figures.setdefault(sensor, {})[metric] = float(value)
    for sensor, f in figures.items():
        report(f"drivers.{sensor}.alloc_per_frame", f["alloc"], "B")
        report(f"drivers.{sensor}.naive_alloc_per_frame", f["naive_alloc"], "B")
        report(f"drivers.{sensor}.alloc_ratio_driver_to_naive", f["alloc"] / f["naive_alloc"], "x")
        report(f"drivers.{sensor}.frames_per_s", int(f["fps"]), "frames/s")
        report(f"drivers.{sensor}.naive_frames_per_s", int(f["naive_fps"]), "frames/s")
        report(f"drivers.{sensor}.speed_ratio_driver_to_naive", f["fps"] / f["naive_fps"], "x")
    for m in MODULES:
        report(f"drivers.mpy_size.{m}", (build / "node" / "drivers" / f"{m}.mpy").stat().st_size, "B")
