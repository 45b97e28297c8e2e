"""tynys doctor's reading of a probe (the raw report the node's self-test prints, as in
`tynys doctor --json`): the faults the mis-wired virtual nodes of tests/e2e/test_volunteer.py do
not show, each with its fix."""

from __future__ import annotations

import pytest

from tynys import boards, doctor

pytestmark = pytest.mark.host

BOARD = boards.load("esp32-devkitc")  # UART1 TX 33 / RX 27, UART2 TX 17 / RX 16, I2C0 SCL 22 / SDA 21
PMS = "424d001c" + "00" * 26 + "0000"  # a frame header and body, as the probe hears it (checksum not checked)


def probe(uart1="", uart1_swapped="", i2c=()):
    return {"uart": [[1, 33, 27, 9600, "as wired", uart1], [1, 27, 33, 9600, "swapped", uart1_swapped],
                     [2, 17, 16, 9600, "as wired", ""], [2, 16, 17, 9600, "swapped", ""]],
            "i2c": [[0, 22, 21, list(i2c)]], "heap_free": 60000, "heap_used": 30000, "reset": ["PWRON_RESET"]}


def by_check(findings):
    return {f["check"]: f for f in findings}


def test_a_silent_pm_sensor_is_named_with_power_first():
    f = by_check(doctor.analyse(probe(), BOARD, {"sensors": {"pm": {"type": "pms5003", "uart": 1}}}))
    assert f["UART1 (TX GPIO 33, RX GPIO 27; config: pm (pms5003))"] == {
        "check": "UART1 (TX GPIO 33, RX GPIO 27; config: pm (pms5003))", "status": "fail",
        "found": "silent: no byte from pm (pms5003), either way round",
        "fix": "check the sensor has 5 V and GND (does its fan spin?), and its TX goes to GPIO 27"}
    assert f["UART2 (TX GPIO 17, RX GPIO 16; config: nothing configured)"]["status"] == "info"


def test_noise_without_a_frame_and_a_sensor_of_another_type():
    f = by_check(doctor.analyse(probe(uart1="17f3" * 40), BOARD, {"sensors": {"pm": {"type": "pms5003", "uart": 1}}}))
    assert f["UART1 (TX GPIO 33, RX GPIO 27; config: pm (pms5003))"]["status"] == "warn"
    assert f["UART1 (TX GPIO 33, RX GPIO 27; config: pm (pms5003))"]["found"] == \
        "80 bytes but no frame header Tynys knows, at any speed tried"
    f = by_check(doctor.analyse(probe(uart1=PMS * 3), BOARD, {"sensors": {"pm": {"type": "sds011", "uart": 1}}}))
    other = f["UART1 (TX GPIO 33, RX GPIO 27; config: pm (sds011))"]
    assert other["status"] == "fail" and other["found"].startswith("PMS (42 4D) frames (3) at 9600 baud, but config.json names")
    assert "pms5003" in other["fix"]


def test_an_i2c_device_nobody_configured_is_named():
    f = by_check(doctor.analyse(probe(i2c=[0x44, 0x29]), BOARD, {"sensors": {"pm": {"type": "pms5003", "uart": 1}}}))
    assert f["I2C0 (SCL GPIO 22, SDA GPIO 21): 0x44"] == {
        "check": "I2C0 (SCL GPIO 22, SDA GPIO 21): 0x44", "status": "info", "found": "answers: sht3x",
        "fix": 'add it to config.json, e.g. "th": {"type": "sht3x"}'}
    assert f["I2C0 (SCL GPIO 22, SDA GPIO 21): 0x29"]["status"] == "warn"
