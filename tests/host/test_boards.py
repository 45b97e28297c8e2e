"""Board files (boards/*.json, boards/chips.json) through their one host loader (tynys.boards),
and docs/boards.md generated from them."""

import json

import pytest
from esptool.targets import CHIP_DEFS

from tynys import boards

pytestmark = pytest.mark.host


@pytest.mark.parametrize("name", boards.names())
def test_every_board_file_loads_and_its_image_offset_is_the_chips(name):
    b = boards.load(name)
    assert b["board"] == name and b["chip"] in boards.chips()
    assert b["uart"] and b["i2c"]
    if b["micropython"]["image"]:
        # esptool's own constant for where a chip's ROM looks for the bootloader (ecosystem.md 4.2)
        chip = boards.chips()[b["chip"]]
        assert boards.offset(b) == CHIP_DEFS[chip["esptool"]].BOOTLOADER_FLASH_OFFSET == int(chip["offset"], 16)


def test_the_boards_the_volunteers_use_are_there():
    assert {"esp32-devkitc", "esp32-c3-supermini", "esp32-s3-devkitc-1", "lilygo-t-display",
            "virtual"} <= set(boards.names())
    assert boards.offset(boards.load("esp32-devkitc")) == 0x1000
    assert boards.offset(boards.load("esp32-c3-supermini")) == 0x0
    c3 = boards.limits(boards.load("esp32-c3-supermini"))
    assert (c3["uarts"], c3["i2c"]) == (2, 1)  # UART0/1 and one I2C
    with pytest.raises(boards.BoardError, match="no MicroPython image to flash"):
        boards.offset(boards.load("virtual"))


def test_the_node_gets_the_board_with_its_chips_limits():
    b = json.loads(boards.node_json("lilygo-t-display"))
    assert b["uart"]["1"] == {"tx": 33, "rx": 27}
    assert b["limits"]["reserved"]["19"] == "screen MOSI" and b["limits"]["reserved"]["6"] == "SPI flash"
    assert 34 in b["limits"]["input_only"] and 20 not in b["limits"]["gpio"]


def test_an_unknown_board_lists_the_known_ones():
    with pytest.raises(boards.BoardError, match="no board 'esp32-wroom'; boards/ has: esp32-c3-supermini, esp32-devkitc"):
        boards.load("esp32-wroom")


@pytest.mark.parametrize("change, message", [
    ({"uart": {"1": {"tx": 36, "rx": 27}}}, "uart.1.tx = 36 is input-only"),
    ({"uart": {"1": {"tx": 7, "rx": 27}}}, r"uart.1.tx = 7 is reserved \(SPI flash\)"),
    ({"uart": {"1": {"tx": 24, "rx": 27}}}, "uart.1.tx = 24 is not a usable GPIO"),
    ({"uart": {"3": {"tx": 33, "rx": 27}}}, "uart.3: the esp32 has UART 1 to 2 for sensors"),
    ({"power": {"pm": {"pin": 21}}}, "GPIO 21 is both i2c.0.sda and power.pm.pin"),
    ({"chip": "esp8266"}, "chip 'esp8266' is not known"),
])
def test_a_wrong_board_file_is_refused_with_the_field_named(tmp_path, monkeypatch, change, message):
    b = json.loads(boards.path("esp32-devkitc").read_text())
    b.update(change)
    (tmp_path / "esp32-devkitc.json").write_text(json.dumps(b))
    (tmp_path / "chips.json").write_text(boards.path("esp32-devkitc").with_name("chips.json").read_text())
    monkeypatch.setattr(boards, "BOARDS", tmp_path)
    with pytest.raises(boards.BoardError, match=message):
        boards.load("esp32-devkitc")


def test_the_pin_tables_in_the_docs_are_the_board_files():
    assert boards.DOCS.read_text() == boards.render_docs(), \
        "docs/boards.md is out of date: run .venv/bin/python -m tynys.boards docs"
