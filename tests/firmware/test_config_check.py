"""`tynys config check`: every problem at once, each with its fix, judged by the node's own
checker (firmware/node/config.py) on CPython, with the same result as on the node."""

from __future__ import annotations

import json

import pytest

from tynys import boards, nodeconfig
from tynys.cli import main

pytestmark = pytest.mark.firmware  # the same checks run on the MicroPython unix port

KEY = "00" * 32
BAD = {
    "node": "osk-01", "key": KEY,
    "sensors": {
        "pm": {"type": "pms5003", "uart": 1, "sampel_s": 60},
        "pm2": {"type": "sds011", "uart": 2},
        "th": {"type": "sht3x", "addr": "0x46"},
        "so2": {"type": "isb", "scl": 12},
        "t2": {"type": "bme280", "i2c": 1},
    },
    "uplinks": {"mqtt": {"host": "broker.local", "user": "osk"}},
}
C3 = [  # on an ESP32-C3 SuperMini: UART0/1 and one I2C; GPIO 12-17 are its flash
    'c.json.sensors.pm: unknown key "sampel_s"; known keys: addr, every_s, i2c, id, mode, model, power, rx, '
    'sample_s, scl, sda, tx, type, uart, warmup_s',
    "c.json.sensors.pm2.uart: UART2 does not exist on esp32-c3-supermini (chip esp32c3); use UART1",
    "c.json.sensors.so2.scl: GPIO 12 is reserved on esp32-c3-supermini (SPI flash); wire scl to another GPIO",
    "c.json.sensors.t2.i2c: I2C1 does not exist on esp32-c3-supermini (chip esp32c3); use I2C0",
    "c.json.sensors.th.addr: 0x46 is not an address a sht3x can have; use 0x44 or 0x45",
    'c.json.uplinks.mqtt: a broker login needs both "user" and "password"; give both or neither',
    'c.json.wifi: the network uplinks (mqtt) need WiFi; add "wifi": {"ssid": "...", "password": "..."}',
]


def test_every_problem_at_once_with_its_fix(tmp_path, capsys):
    (tmp_path / "c.json").write_text(json.dumps(BAD))
    assert main(["config", "check", str(tmp_path / "c.json"), "--board", "esp32-c3-supermini"]) == 2
    out, err = capsys.readouterr()
    assert out.splitlines() == C3
    assert "tynys: error: 7 problem(s) in" in err
    # the same file on a classic ESP32 board: two UARTs and two I2C buses are there
    assert main(["config", "check", str(tmp_path / "c.json"), "--board", "esp32-devkitc", "--json"]) == 2
    probs = [r["problem"] for r in json.loads(capsys.readouterr().out)]
    assert not any("does not exist" in p for p in probs) and len(probs) == 7  # I2C1 has no pins there


def test_the_node_finds_the_same_problems(tmp_path, run_mpy):
    (tmp_path / "c.json").write_text(json.dumps(BAD))
    (tmp_path / "board.json").write_text(boards.node_json("esp32-c3-supermini"))
    out = run_mpy(
        "from node import config, ConfigError\n"
        "try:\n"
        "    config.load('c.json', 'board.json')\n"
        "except ConfigError as e:\n"
        "    print(e)\n", cwd=tmp_path)
    assert out == C3 == nodeconfig.check_file(tmp_path / "c.json", "esp32-c3-supermini")


@pytest.mark.parametrize("sensors, problem", [
    ({"a": {"type": "pms5003", "uart": 1}, "b": {"type": "sds011", "uart": 1}},
     "sensors.b: sds011 shares UART1 with sensor a; give each its own"),
    ({"a": {"type": "sht3x"}, "b": {"type": "sht3x"}},
     "sensors.b: sht3x shares I2C0 at 0x44 with sensor a; give each its own"),
    ({"a": {"type": "pms5003", "uart": 1, "rx": 21}, "th": {"type": "sht3x"}},
     "sensors.th.sda: GPIO 21 is already rx of sensor a; wire sda to another GPIO"),
    ({"a": {"type": "pms5003", "uart": 1, "rx": 19}},
     "sensors.a.rx: GPIO 19 is reserved on lilygo-t-display (screen MOSI); wire rx to another GPIO"),
    ({"a": {"type": "pms5003", "uart": 0}},
     "sensors.a.uart: UART0 is the REPL console on lilygo-t-display (chip esp32); use UART1, UART2"),
    ({"a": {"type": "pms5003", "i2c": 0}},
     'sensors.a: pms5003 is a UART sensor; "i2c" belongs to I2C sensors (use "uart")'),
    ({"a": {"type": "pms5003", "uart": 1, "power": "fan"}},
     'sensors.a.power: board lilygo-t-display has no power gate "fan"; use one of pm'),
])
def test_pins_the_board_lacks_reserves_or_already_uses(sensors, problem):
    probs = nodeconfig.check({"node": "n", "key": KEY, "sensors": sensors}, "lilygo-t-display")
    assert "config.json." + problem in probs, probs


def test_a_good_config_passes_and_an_unknown_board_is_named(tmp_path, capsys):
    (tmp_path / "ok.json").write_text(json.dumps({"node": "n", "key": KEY, "sensors": {
        "pm": {"type": "pms5003"}, "th": {"type": "sht3x"}}}))
    assert main(["config", "check", str(tmp_path / "ok.json"), "--board", "esp32-c3-supermini"]) == 0
    assert "no problems on board esp32-c3-supermini" in capsys.readouterr().err
    assert main(["config", "check", str(tmp_path / "ok.json"), "--board", "esp32-wroom"]) == 2
    assert "no board 'esp32-wroom'; boards/ has: esp32-c3-supermini, esp32-devkitc" in capsys.readouterr().err
