"""BME280 compensation: the datasheet's worked example, and proof that no intermediate reaches
2**30 (a heap-allocated int on the ESP32, whose small ints are 31-bit) for real calibration data
over the sensor's whole range. The unix port has 63-bit small ints, so the size check runs the
firmware's own compensate() on CPython with ints that record every intermediate."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from sim import bme280 as sim

REPO = Path(__file__).resolve().parents[2]


def firmware_module():
    sys.path.insert(0, str(REPO / "firmware"))
    try:
        spec = importlib.util.find_spec("node.drivers.bme280")
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        return mod
    finally:
        sys.path.pop(0)


class Tracked(int):
    """An int whose arithmetic records the largest magnitude it ever produced."""

    peak = 0
    where = None

    @classmethod
    def _w(cls, v):
        if abs(v) > cls.peak:
            cls.peak = abs(v)
        return cls(v)


for _name in ("add", "sub", "mul", "rshift", "lshift", "floordiv", "and", "mod"):
    _op = getattr(int, f"__{_name}__")
    _rop = getattr(int, f"__r{_name}__")
    setattr(Tracked, f"__{_name}__", lambda a, b, _op=_op: Tracked._w(_op(int(a), int(b))))
    setattr(Tracked, f"__r{_name}__", lambda a, b, _rop=_rop: Tracked._w(_rop(int(a), int(b))))
Tracked.__neg__ = lambda a: Tracked._w(-int(a))

CALIBRATIONS = {
    "bmp280-datasheet": sim.CALIBRATION,
    "breakout": dict(sim.CALIBRATION, T1=27317, T2=25808, T3=50, P1=37912, P2=-10589, P4=6601, P5=-158),
}
ORDER = ("T1", "T2", "T3", "P1", "P2", "P3", "P4", "P5", "P6", "P7", "P8", "P9",
         "H1", "H2", "H3", "H4", "H5", "H6")


@pytest.mark.host
@pytest.mark.parametrize("name", list(CALIBRATIONS))
def test_no_intermediate_reaches_2_30_over_the_operating_range(name):
    bme = firmware_module()
    cal = CALIBRATIONS[name]
    peer = sim.BME280Sim.__new__(sim.BME280Sim)
    peer.cal = dict(cal)
    tracked = [Tracked(cal[k]) for k in ORDER]
    Tracked.peak = 0
    out = [0, 0, 0]
    n = 0
    for t in range(-40, 86, 5):
        for p in range(300, 1101, 50):
            for rh in range(0, 101, 10):
                adc = peer.raw(float(t), p * 100.0, float(rh))
                assert bme.compensate(tracked, *(Tracked(a) for a in adc), out)
                assert abs(out[0] / 100 - t) < 0.02 and abs(out[2] / 100 - p) < 0.1
                assert abs(out[1] / 1024 - rh) < 0.05
                n += 1
    assert n == 26 * 17 * 11
    print(name, "largest intermediate", Tracked.peak)
    assert Tracked.peak < 2 ** 30, f"largest intermediate {Tracked.peak} = 2**{Tracked.peak.bit_length() - 1}+"


@pytest.mark.host
def test_the_plain_datasheet_formulas_would_not_fit():
    """The reason for the split products: as printed, some products pass 2**30 at -40 degC."""
    cal = CALIBRATIONS["bmp280-datasheet"]
    peer = sim.BME280Sim.__new__(sim.BME280Sim)
    peer.cal = dict(cal)
    adc_t, adc_p, _ = peer.raw(-40.0, 110000.0, 50.0)
    t_fine = int(sim.t_fine_of(cal, adc_t))
    var1 = (t_fine >> 1) - 64000
    assert abs((var1 >> 2) * (var1 >> 2)) >= 2 ** 30       # 8.2, var2 and var1 squares
    assert abs(((1048576 - adc_p) - 50000) * 3125) >= 2 ** 30  # 8.2, p * 3125


@pytest.mark.firmware
def test_datasheet_worked_example(run_mpy):
    # BMP280 datasheet 3.12 (same T/P compensation as the BME280): adc_T 519888 -> 25.08 degC,
    # adc_P 415148 -> 100653.27 Pa (double); the 32-bit integer form gives 100656 Pa.
    out = run_mpy(
        "from node.drivers.bme280 import compensate\n"
        "from sim.bme280 import CALIBRATION as c\n"
        "o = [0, 0, 0]\n"
        "k = ('T1','T2','T3','P1','P2','P3','P4','P5','P6','P7','P8','P9','H1','H2','H3','H4','H5','H6')\n"
        "print(compensate([c[x] for x in k], 519888, 415148, 30000, o), o[0], o[2])\n")
    assert out == ["True 2508 100656"]
