"""Board files (boards/*.json) through their one host loader (tynys.boards)."""

import json

import pytest

from tynys import boards

pytestmark = pytest.mark.host


@pytest.mark.parametrize("name", boards.names())
def test_every_board_file_loads_with_usable_pins(name):
    b = boards.load(name)
    assert b["board"] == name and b["chip"] in boards.CHIPS
    assert b["micropython"]["offset"].startswith("0x")
    assert b["uart"] and b["i2c"]


def test_the_generic_devkitc_and_the_virtual_board_are_there():
    assert {"esp32-devkitc", "virtual"} <= set(boards.names())
    assert boards.load("esp32-devkitc")["micropython"]["offset"] == "0x1000"  # ESP32: 0x1000 (ecosystem.md 4.2)


@pytest.mark.parametrize("change, message", [
    ({"uart": {"1": {"tx": 36, "rx": 27}}}, "uart.1.tx = 36 is input-only"),
    ({"uart": {"1": {"tx": 7, "rx": 27}}}, "uart.1.tx = 7 is not a usable GPIO"),
    ({"power": {"pm": {"pin": 21}}}, "GPIO 21 is both i2c.0.sda and power.pm.pin"),
    ({"chip": "esp8266"}, "chip 'esp8266' is not known"),
])
def test_a_wrong_board_file_is_refused_with_the_field_named(tmp_path, monkeypatch, change, message):
    b = json.loads(boards.path("esp32-devkitc").read_text())
    b.update(change)
    (tmp_path / "esp32-devkitc.json").write_text(json.dumps(b))
    monkeypatch.setattr(boards, "BOARDS", tmp_path)
    with pytest.raises(boards.BoardError, match=message):
        boards.load("esp32-devkitc")
