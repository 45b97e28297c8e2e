"""The simulators: byte-exact against real captures, and driver + simulator round trips on the
unix port (virtual time) without faults, under each fault, and through the sensors' commands."""

from __future__ import annotations

import json
import math
import os
import struct
import tempfile
from pathlib import Path

import pytest

from sim import pms, sds011, sps30
from sim.scenario import Scenario
from tynys import firmware
from tynys.sim import models
from tynys.decode import _xxd

pytestmark = pytest.mark.firmware

HERE = Path(__file__).resolve().parent
UART = ["pms5003", "pms5003t", "sds011", "sps30", "ze03", "dgs"]
I2C = ["sht3x", "bme280", "isb"]
WORLD = {"pm25": 35.0, "pm1": 24.0, "pm10": 50.0, "t_c": -12.0, "rh": 80.0, "p_hpa": 950.0,
         "so2_ppb": 250.0, "no2_ppb": 20.0}


def simrun(spec):
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:  # argv: the unix port takes < 256 bytes
        json.dump(spec, f)
    try:
        proc = firmware.run(script=HERE / "mpy" / "simrun.py", args=(f.name,), heap="512K",
                            do_build=False, extra_env={"TYNYS_VTIME_START": "1795813200"})
    finally:
        os.unlink(f.name)
    assert proc.returncode == 0, proc.stderr.decode() + proc.stdout.decode()[-1500:]
    lines = [json.loads(x) for x in proc.stdout.decode().splitlines()]
    return [(r["c"], r["v"]) for r in lines[:-1]], lines[-1]


# -- byte-exact ---------------------------------------------------------------------------------
def test_simulator_frames_are_byte_exact_against_captures(frames_dir):
    for name in ("PMSx003", "PMS5003T"):
        raw = _xxd((frames_dir / f"{name}.hexdump").read_text())
        for i in range(0, len(raw), 32):
            words = struct.unpack(">14H", raw[i + 4:i + 32])[:13]
            assert pms.frame(list(words)) == raw[i:i + 32]
    raw = _xxd((frames_dir / "SDS01x.hexdump").read_text())
    for i in range(0, len(raw), 10):
        f = raw[i:i + 10]
        assert sds011.data_frame(f[2] | f[3] << 8, f[4] | f[5] << 8, f[6] << 8 | f[7]) == f
    raw = _xxd((frames_dir / "SPS30.hexdump").read_text())
    frames = [b"\x7e" + p + b"\x7e" for p in raw.split(b"\x7e") if p]
    assert len(frames) == 10
    for f in frames:  # the stuffing, byte for byte, as the real sensor sent it
        assert sps30.miso(3, 0, sps30.unstuff(f[1:-1])[4:44]) == f


# -- round trips ----------------------------------------------------------------------------------
def expected(sensor, unit=None):
    """What each simulated sensor should report for WORLD with no noise: its sensor model's numpy
    twin (tynys.sim.models) for the median unit, or *unit*; fixed physics for the others."""
    w = WORLD
    u = unit or models.typical(models.FOR_TYPE[{"pms5003t": "pms5003", "isb": "isb:so2-b4"}.get(sensor, sensor)]) \
        if sensor in ("pms5003", "pms5003t", "sds011", "sps30", "isb", "sht3x") else None

    def es(t):
        return 6.1094 * math.exp(17.625 * t / (t + 243.04))

    if sensor == "pms5003":
        pm = models.pms(u, w["pm25"], w["pm10"], w["rh"])
        return {k: round(float(v)) for k, v in pm.items()}
    if sensor == "sds011":
        return {k: round(float(v) * 10) / 10 for k, v in models.sds011(u, w["pm25"], w["pm10"], w["rh"]).items()}
    if sensor == "sps30":
        return {k: float(v) for k, v in models.sps30(u, w["pm25"], w["pm10"], w["rh"]).items()}
    if sensor == "isb":
        return {k: float(v) for k, v in models.isb(u, w["so2_ppb"], w["no2_ppb"], w["t_c"]).items()}
    if sensor == "sht3x":
        return {k: float(v) for k, v in models.sht3x(u, w["t_c"], w["rh"]).items()}
    return {
        "pms5003t": {"t_c": round((w["t_c"] + 2) * 10) / 10,
                     "rh": round(100 * es(w["t_c"]) * w["rh"] / 100 / es(w["t_c"] + 2) * 10) / 10},
        "ze03": {"so2_ppb": round(w["so2_ppb"] / 100) * 100},
        "dgs": {"so2_ppb": w["so2_ppb"], "t_c": w["t_c"], "rh": w["rh"]},
        "bme280": {"t_c": w["t_c"], "rh": w["rh"], "p_hpa": w["p_hpa"]},
    }[sensor]


# fixed-point steps: SPS30 1/1024, SHT3x/BME280 0.01, ISB 1/16 mV (ADC code)
TOLERANCE = {"sps30": 0.0005, "sht3x": 0.00005, "bme280": 0.00005, "isb": 0.0001}


@pytest.mark.parametrize("sensor", UART + I2C)
def test_driver_reads_its_simulator(sensor):
    spec = {"sensor": sensor, "cycles": 6, "scenario": dict(WORLD, noise=0.0)}
    readings, final = simrun(spec)
    assert len(readings) >= 5 and final["counts"]["bad"] == 0
    channels = final["channels"]
    for _, v in readings:
        got = dict(zip(channels, v))
        for k, want in expected(sensor).items():
            tol = TOLERANCE.get(sensor, 0) * max(1, abs(want))
            assert got[k] == pytest.approx(want, abs=tol + 1e-9), (k, got[k], want)


@pytest.mark.parametrize("sensor", ["pms5003", "sds011", "sps30", "isb", "sht3x"])
def test_a_drawn_unit_reads_what_its_model_says(sensor):
    """The simulator on the node and the host's numpy twin agree for a unit drawn from the model's
    spread (gain, offset, kappa, deliquescence, the SO2 cell's sheet and temperature curve...)."""
    import numpy as np

    name = models.FOR_TYPE["isb:so2-b4" if sensor == "isb" else sensor]
    unit = models.draw(name, np.random.default_rng(7))
    readings, final = simrun({"sensor": sensor, "cycles": 4, "scenario": dict(WORLD, noise=0.0), "sim": {"unit": unit}})
    assert len(readings) >= 3
    for _, v in readings:
        got = dict(zip(final["channels"], v))
        for k, want in expected(sensor, unit).items():
            tol = TOLERANCE.get(sensor, 0) * max(1, abs(want))
            assert got[k] == pytest.approx(want, abs=tol + 1e-9), (k, got[k], want)


def test_simulator_defaults_are_the_models_median_units():
    from sim import isb, pms, sds011 as sds, sht3x, sps30 as sps

    for mod, name in ((pms, "pms5003"), (sds, "sds011"), (sps, "sps30"), (isb, "isb-so2-b4"), (sht3x, "sht3x")):
        assert mod.DEFAULTS == pytest.approx(models.typical(name)), name
    table = models.load("isb-so2-b4")  # and the cell's zero curve is AAN 803's
    assert table["parameters"]["zero_t_scale"]["lognormal"][0] == 1.0
    assert list(isb.K_T["so2-b4"]) == pytest.approx(list(models.kpp([-30, -20, -10, 0, 10, 20, 30, 40, 50])))


FAULTS = {  # fault: (value, what the driver's counters must show after 11 one-second cycles)
    "noise": (0.6, lambda c: c["noise"] > 0 and c["frames"] >= 7),
    "bad": (0.5, lambda c: c["bad"] >= 2 and c["frames"] >= 2),
    "split": (3, lambda c: c["frames"] >= 8 and c["bad"] == 0),
    "replies": (0.6, lambda c: c["replies"] >= 3 and c["frames"] >= 8),
    "unplugged": (True, lambda c: c["frames"] == 0 and c["missing"] == 10),
}


# (DGS lines have no checksum, so its simulator has no `bad` fault to inject)
@pytest.mark.parametrize("sensor, fault", [(s, f) for s in UART for f in FAULTS
                                           if (s, f) != ("dgs", "bad")])
def test_uart_driver_under_fault(sensor, fault):
    value, check = FAULTS[fault]
    readings, final = simrun({"sensor": sensor, "cycles": 11, "scenario": WORLD,
                              "faults": {fault: value, "seed": 4}})
    assert check(final["counts"]), final


@pytest.mark.parametrize("sensor", UART + I2C)
def test_stuck_sensor_repeats_its_values(sensor):
    readings, final = simrun({"sensor": sensor, "cycles": 12, "scenario": dict(WORLD, noise=0.05),
                              "steps": [[5, "fault", {"stuck": True}]]})
    before = [v for c, v in readings if c < 5]
    after = [v for c, v in readings if c > 5]
    assert len({json.dumps(v) for v in before}) > 1  # noise: readings differ
    assert len(after) >= 5 and len({json.dumps(v) for v in after}) == 1  # frozen, still valid


@pytest.mark.parametrize("sensor", I2C)
def test_unplugged_i2c_sensor_is_counted_missing(sensor):
    readings, final = simrun({"sensor": sensor, "cycles": 8, "scenario": WORLD,
                              "steps": [[3, "fault", {"unplugged": True}]]})
    assert {c for c, _ in readings} == {0, 1, 2} and final["counts"]["missing"] == 4


def test_sht3x_bad_crc_is_counted():
    readings, final = simrun({"sensor": "sht3x", "cycles": 20, "scenario": WORLD,
                              "faults": {"bad": 0.5, "seed": 2}})
    c = final["counts"]
    assert c["bad"] >= 5 and c["frames"] + c["bad"] == 20 and len(readings) == c["frames"]


def test_sht3x_without_a_serial_number_command_still_measures():
    # A chip that NACKs 0x3780 has no serial to report, but its readings must still come.
    readings, final = simrun({"sensor": "sht3x", "cycles": 5, "scenario": WORLD,
                              "sim": {"serial": None}})
    assert len(readings) == 5 and final["counts"]["frames"] == 5 and final["ident"] is None


# -- commands -------------------------------------------------------------------------------------
def test_pms_sleep_sends_nothing_until_wake():
    readings, final = simrun({"sensor": "pms5003", "cycles": 14, "scenario": WORLD,
                              "steps": [[4, "sleep", None], [8, "wake", None]]})
    cycles = {c for c, _ in readings}
    assert cycles & {1, 2, 3} and not cycles & {5, 6, 7, 8} and cycles & {10, 11, 12, 13}
    assert final["heard"] == [pms.ACTIVE.hex(), pms.SLEEP.hex(), pms.WAKE.hex()]
    assert final["counts"]["replies"] == 2  # to the mode and the sleep command; none to wake


def test_pms_passive_mode_reads_on_request():
    readings, final = simrun({"sensor": "pms5003", "cycles": 6, "scenario": WORLD,
                              "options": {"mode": "passive"}})
    assert [c for c, _ in readings] == [0, 1, 2, 3, 4, 5] and final["sim"]["passive"]
    assert final["heard"] == [pms.PASSIVE.hex()] + [pms.READ.hex()] * 6


def test_sds011_query_mode_working_period_and_sleep():
    readings, final = simrun({"sensor": "sds011", "cycles": 6, "scenario": WORLD,
                              "options": {"mode": "query"}})
    assert [c for c, _ in readings] == list(range(6))
    q = "aab4020101" + "00" * 10 + "ffff02ab"
    assert final["heard"] == [q] + ["aab4040000" + "00" * 10 + "ffff02ab"] * 6
    # working period 5 min: the sensor itself measures 30 s in every 5 minutes
    readings, final = simrun({"sensor": "sds011", "cycles": 400, "scenario": WORLD,
                              "options": {"period": 5}})
    assert "aab4080105" + "00" * 10 + "ffff0cab" in final["heard"]  # CS 0C (firmware-anchors 4.2)
    on = sorted({c for c, _ in readings})
    assert 50 <= len(on) <= 75 and final["sim"]["period_min"] == 5
    readings, final = simrun({"sensor": "sds011", "cycles": 10, "scenario": WORLD,
                              "steps": [[3, "sleep", None], [6, "wake", None]]})
    assert not {c for c, _ in readings} & {4, 5, 6}
    assert final["heard"][1:] == ["aab4060100" + "00" * 10 + "ffff05ab", "aab4060101" + "00" * 10 + "ffff06ab"]


def test_sps30_sleep_wake_and_serial():
    readings, final = simrun({"sensor": "sps30", "cycles": 12, "scenario": WORLD,
                              "steps": [[4, "sleep", None], [7, "wake", None]]})
    cycles = {c for c, _ in readings}
    assert cycles & {2, 3} and not cycles & {5, 6, 7} and cycles & {9, 10, 11}
    assert final["ident"] == "sn=9A1B2C3D4E5F6071" and final["state"] == 0
    heard = final["heard"]
    assert heard[:2] == ["7e0000020103f97e", "7e00d001032b7e"]
    assert "7e000100fe7e" in heard and "7e001000ef7e" in heard and "7e001100ee7e" in heard


def test_ze03_switches_to_qa_mode_and_reads():
    readings, final = simrun({"sensor": "ze03", "cycles": 5, "scenario": WORLD})
    assert len(readings) == 5 and final["sim"]["qa"] and final["counts"]["replies"] == 0
    assert final["heard"] == ["ff0178040000000083"] + ["ff0186000000000079"] * 5


def test_dgs_continuous_mode():
    readings, final = simrun({"sensor": "dgs", "cycles": 6, "scenario": WORLD,
                              "options": {"mode": "continuous"}})
    assert len(readings) >= 5 and final["heard"] == ["63"] and final["ident"] == "sn=071421030446"


def test_warm_up_readings_are_discarded_and_counted():
    readings, final = simrun({"sensor": "pms5003", "cycles": 40, "scenario": WORLD,
                              "options": {"warmup_ms": 30000}})
    assert min(c for c, _ in readings) >= 29 and 28 <= final["counts"]["warming"] <= 31


# -- scenario -------------------------------------------------------------------------------------
def test_scenario_table_interpolates_and_loops(tmp_path):
    clock = [0]
    sc = Scenario(t=[0, 100, 200], pm25=[10, 30, 20], t_c=-5, clock=lambda: clock[0], start=0)
    at = []
    for s in (0, 50, 100, 150, 250):
        clock[0] = s * 1_000_000
        at.append(sc.value("pm25"))
    assert at == [10, 20, 30, 25, 20] and sc.value("t_c") == -5 and sc.value("pm10") == 30
    sc = Scenario(t=[0, 100, 200], pm25=[10, 30, 20], loop=True, clock=lambda: 250_000_000, start=0)
    assert sc.value("pm25") == 20.0  # 250 s -> 50 s into the loop
    path = tmp_path / "s.json"
    path.write_text(json.dumps({"seed": 3, "t": [0, 60], "so2_ppb": [5, 65], "start": 0}))
    assert Scenario.load(str(path)).value("so2_ppb", t_us=30_000_000) == 35


@pytest.mark.parametrize("kwargs, message", [
    ({"pm2_5": 3}, "scenario: unknown quantity 'pm2_5'; use one of pm1, pm25, pm10, t_c, rh, p_hpa, so2_ppb, no2_ppb"),
    ({"t": [0, 60], "pm25": [1, 2, 3]}, 'scenario: pm25 has 3 values but "t" has 2; give one per row or a single constant'),
    ({"t": [0, 60, 30], "pm25": [1, 2, 3]}, 'scenario: "t" must increase from row to row'),
])
def test_scenario_errors_are_one_line(kwargs, message):
    with pytest.raises(ValueError) as e:
        Scenario(**kwargs)
    assert str(e.value) == message


def test_simulation_is_deterministic_for_a_seed():
    spec = {"sensor": "pms5003", "cycles": 5, "scenario": dict(WORLD, seed=9),
            "faults": {"noise": 0.5, "split": 4, "seed": 9}}
    assert simrun(spec) == simrun(spec)
    other = dict(spec, scenario=dict(WORLD, seed=10))
    assert simrun(other)[0] != simrun(spec)[0]
