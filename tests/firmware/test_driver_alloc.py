"""The hot path allocates nothing: every driver parses readings with the MicroPython heap locked
(micropython.heap_lock() turns any allocation into MemoryError), after its first reading (which
may build the identity string once). The per-frame figures are in `make bench`."""

from __future__ import annotations

import struct

import pytest

from sim import bme280 as bme_sim
from sim.pms import frame as pms_frame
from sim.sds011 import data_frame
from sim.sht3x import words
from sim.sps30 import miso
from sim.ze03 import ze03_frame

pytestmark = pytest.mark.firmware

UART_FRAMES = {
    "pms5003": pms_frame([5, 9, 12, 4, 8, 11, 1200, 350, 80, 9, 2, 1, 0x9700]),
    "pms5003t": pms_frame([5, 9, 12, 4, 8, 11, 1200, 350, 80, 9, 0xFF9C, 853, 0x9A00]),
    "sds011": data_frame(291, 336, 0x58D9),
    "sps30": miso(3, 0, struct.pack(">10f", 5.23, 9.47, 12.65, 13.28, 26.3, 37.0, 41.5, 42.4,
                                     42.5, 0.83)),
    "ze03": ze03_frame([0x86, 0, 42, 0, 0, 0, 0]),
    "dgs": b"071421030446, 875, -23, 19, 2111737, 23956, 19605, 00, 01, 02, 03\r\n",
}


@pytest.mark.parametrize("sensor", list(UART_FRAMES))
def test_uart_driver_parses_with_the_heap_locked(run_mpy, sensor):
    frame = UART_FRAMES[sensor]
    out = run_mpy(
        "import micropython\n"
        "from sim.replay import Replay\n"
        "from node import drivers\n"
        f"f = bytes.fromhex('{frame.hex()}') * 50\n"
        "p = Replay(bytearray(len(f))); p.load(f)\n"
        f"d = drivers.create('{sensor}', p, warmup_ms=0)\n"
        "def drain():\n"  # a function: module-level loops store globals, which may allocate
        "    n = 0\n"
        "    while d.poll():\n"
        "        n += 1\n"
        "    return n\n"
        "d.poll(); d.poll()\n"
        "micropython.heap_lock()\n"
        "try:\n"
        "    n = drain()\n"
        "finally:\n"
        "    micropython.heap_unlock()\n"
        "print(n, d.frames, d.bad, d.noise)\n")
    assert out == ["48 50 0 0"]


I2C = {
    "sht3x": ("Registers(bytearray(b'%s'), fixed=True)", words(0x6666, 0x8000)),
    "bme280": ("Registers(r)", None),
    "isb": ("Registers(bytearray(8), width=2, writable=True)", None),
}


@pytest.mark.parametrize("sensor", list(I2C))
def test_i2c_driver_measures_with_the_heap_locked(run_mpy, sensor):
    regs = bme_sim.registers(bme_sim.CALIBRATION)
    t, p, h = 519888, 415148, 30000  # BMP280 datasheet example raw T and P
    regs[0xF7:0xFF] = bytes([p >> 12, (p >> 4) & 0xFF, (p & 15) << 4, t >> 12, (t >> 4) & 0xFF,
                             (t & 15) << 4, h >> 8, h & 0xFF])
    peer, data = I2C[sensor]
    peer = peer % ("".join("\\x%02x" % b for b in data),) if data else peer
    out = run_mpy(
        "import micropython, machine\n"
        "from sim.replay import Registers\n"
        "from node import drivers\n"
        f"r = bytearray(bytes.fromhex('{bytes(regs).hex()}'))\n"
        f"machine.attach_i2c(0, {dict(sht3x=0x44, bme280=0x76, isb=0x48)[sensor]}, {peer})\n"
        f"d = drivers.create('{sensor}', machine.I2C(0), warmup_ms=0)\n"
        "def cycle():\n"
        "    d.start()\n"
        "    while not d.poll():\n"
        "        pass\n"
        "def cycles(k):\n"
        "    for _ in range(k):\n"
        "        cycle()\n"
        "cycle()\n"
        "micropython.heap_lock()\n"
        "try:\n"
        "    cycles(50)\n"
        "finally:\n"
        "    micropython.heap_unlock()\n"
        "print(d.frames, d.bad, d.missing, list(d.values))\n")
    frames, bad, missing, values = out[0].split(" ", 3)
    assert (frames, bad, missing) == ("51", "0", "0")
    if sensor == "bme280":
        assert values.startswith("[2508,")  # 25.08 degC, the datasheet's worked example
