"""`tynys decode`: the firmware's drivers (on the unix port) decode a volunteer's capture."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pytest

from tynys.cli import main

pytestmark = pytest.mark.firmware  # the decoding runs on the MicroPython unix port

FRAMES = Path(__file__).resolve().parents[1] / "vectors" / "frames"
PMS_FRAME = "42 4D 00 1C 00 00 00 08 00 08 00 00 00 08 00 08 00 D2 00 46 00 2D 00 1E 00 00 00 00 97 00 02 C5"
FIELDS = {
    "pms5003": "pm1_cf1 pm25_cf1 pm10_cf1 pm1_atm pm25_atm pm10_atm n0_3 n0_5 n1_0 n2_5 n5_0 n10_0",
    "pms5003t": "pm1_cf1 pm25_cf1 pm10_cf1 pm1_atm pm25_atm pm10_atm n0_3 n0_5 n1_0 n2_5 t_c rh",
    "sds011": "pm25 pm10",
    "sps30": "pm1 pm25 pm4 pm10 nc0_5 nc1_0 nc2_5 nc4_0 nc10_0 typical_size",
    "ze03": "so2_ppb",
    "dgs": "so2_ppb t_c rh",
}


def run(capsys, *argv):
    code = main(["decode", "--nl", *argv])
    out, err = capsys.readouterr()
    return code, [json.loads(line) for line in out.splitlines()], err


def test_hex_frame(capsys):
    code, lines, _ = run(capsys, "--sensor", "pms5003", "--hex", PMS_FRAME)
    assert code == 0
    assert lines == [{"pm1_cf1": 0, "pm25_cf1": 8, "pm10_cf1": 8, "pm1_atm": 0, "pm25_atm": 8,
                      "pm10_atm": 8, "n0_3": 210, "n0_5": 70, "n1_0": 45, "n2_5": 30, "n5_0": 0,
                      "n10_0": 0}, {"frames": 1, "rejected": 0}]


def test_binary_capture_with_garbage_and_rejected_frames(capsys, tmp_path):
    good = bytes.fromhex("AAC0D4043A0AA1601DAB")
    data = b"\x00\xff garbage" + good + bytes.fromhex("AAC0D4043A0AA16000AB") + good[:4] + good + \
        bytes.fromhex("AAC000000000000000AB")
    path = tmp_path / "sds.bin"
    path.write_bytes(data)
    code, lines, err = run(capsys, "--sensor", "sds011", "--file", str(path))
    assert code == 0
    # rejected: the wrong checksum, the cut frame, the all-zero start-up frame
    assert lines == [{"pm25": 123.6, "pm10": 261.8}] * 2 + [{"frames": 2, "rejected": 3}]
    assert "bytes outside valid frames" in err
    # the wrong checksum is named with both sums (bytes 2..7 of AA C0 D4 04 3A 0A A1 60 add to 0x1D)
    assert "a sds011 frame failed its checksum: computed 0x1D, the frame says 0x00 (rejected)" in err


def test_pypms_csv_capture_keeps_the_row_time(capsys):
    code, lines, _ = run(capsys, "--sensor", "pms5003t", "--file", str(FRAMES / "data.csv"))
    assert code == 0 and len(lines) == 11 and lines[-1] == {"frames": 10, "rejected": 0}
    assert lines[0]["time"] == 1612247277 and (lines[0]["t_c"], lines[0]["rh"]) == (21.2, 22.4)
    assert list(lines[0])[1:] == FIELDS["pms5003t"].split()


def test_sps30_hexdump_fields_and_units(capsys):
    code, lines, _ = run(capsys, "--sensor", "sps30", "--file", str(FRAMES / "SPS30.hexdump"))
    assert code == 0 and lines[-1] == {"frames": 10, "rejected": 0}
    assert lines[0] == {"pm1": 5.234, "pm25": 9.467, "pm4": 12.648, "pm10": 13.284,
                        "nc0_5": 26.314, "nc1_0": 36.997, "nc2_5": 41.522, "nc4_0": 42.411,
                        "nc10_0": 42.541, "typical_size": 0.835}


@pytest.mark.parametrize("sensor, data", [
    ("pms5003", bytes.fromhex(PMS_FRAME)),
    ("pms5003t", (FRAMES / "PMS5003T.hexdump").read_bytes()),
    ("sds011", bytes.fromhex("AAC02D0057001D7617AB")),
    ("sps30", (FRAMES / "SPS30.hexdump").read_bytes()),
    ("ze03", bytes.fromhex("ff86002a0000002030")),
    ("dgs", b"071421030446, 875, 23, 19, 2111737, 23956, 19605, 00, 01, 02, 03\r\n"),
])
def test_field_names_for_every_sensor(capsys, tmp_path, sensor, data):
    name = "c.hexdump" if data.startswith(b"0000") else "c.bin"
    (tmp_path / name).write_bytes(data)
    code, lines, _ = run(capsys, "--sensor", sensor, "--file", str(tmp_path / name))
    assert code == 0 and lines[-1]["frames"] >= 1
    assert list(lines[0]) == FIELDS[sensor].split()


def test_stdin(capsys, monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(bytes.fromhex("AAC02D0057001D7617AB"))))
    code, lines, _ = run(capsys, "--sensor", "sds011", "--file", "-")
    assert code == 0 and lines == [{"pm25": 4.5, "pm10": 8.7}, {"frames": 1, "rejected": 0}]


@pytest.mark.parametrize("text", ["AA C0 2D 00 57 00 1D 76 17 AB\n", "aac02d0057001d7617ab", "0xAA,0xC0,0x2D,0x00,0x57,0x00,0x1D,0x76,0x17,0xAB"])
def test_hex_text_on_stdin_is_read_as_the_bytes_it_spells(capsys, monkeypatch, text):
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(text.encode())))
    code, lines, err = run(capsys, "--sensor", "sds011", "--file", "-")
    assert code == 0 and lines == [{"pm25": 4.5, "pm10": 8.7}, {"frames": 1, "rejected": 0}]  # was {"frames": 0} in silence
    assert "stdin is hex text: decoding the bytes it spells" in err


def test_odd_hex_text_is_refused_with_the_hex_hint(capsys, monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"AA C0 2D 0")))
    assert main(["decode", "--sensor", "sds011", "--file", "-"]) == 2
    assert capsys.readouterr().err.strip() == ("tynys: error: stdin looks like hex text but 7 hex digits is an odd number; "
                                               "every byte needs two digits; or give the bytes with --hex \"42 4D ...\"")


def test_an_ascii_sensors_capture_is_never_taken_for_hex(capsys, tmp_path):
    line = b"071421030446, 875, 23, 19, 2111737, 23956, 19605, 00, 01, 02, 03\r\n"  # DGS: digits and commas
    (tmp_path / "dgs.txt").write_bytes(line)
    code, lines, err = run(capsys, "--sensor", "dgs", "--file", str(tmp_path / "dgs.txt"))
    assert code == 0 and lines[0]["so2_ppb"] == 875 and "hex text" not in err


def test_a_pms_checksum_failure_names_both_sums(capsys):
    bad = PMS_FRAME[:-2] + "C6"  # the 16-bit sum of bytes 0..29 is 0x02C5
    code, lines, err = run(capsys, "--sensor", "pms5003", "--hex", bad)
    assert code == 0 and lines == [{"frames": 0, "rejected": 1}]
    assert "a pms5003 frame failed its checksum: computed 0x02C5, the frame says 0x02C6 (rejected)" in err
    code = main(["decode", "--json", "--sensor", "pms5003", "--hex", bad])
    assert json.loads(capsys.readouterr().out)["checksum_failures"] == [{"computed": 0x2C5, "sent": 0x2C6}]


def test_no_valid_frame_gives_a_hint(capsys):
    code, lines, err = run(capsys, "--sensor", "sps30", "--hex", PMS_FRAME)
    assert code == 0 and lines == [{"frames": 0, "rejected": 0}]
    assert "no valid sps30 frame; check --sensor" in err


@pytest.mark.parametrize("argv, message", [
    (["--sensor", "sds011"], "tynys: error: give exactly one of --hex or --file"),
    (["--sensor", "sds011", "--hex", "AA C0 zz"],
     "tynys: error: --hex: 'z' is not a hex digit; give bytes like \"42 4D 00 1C\""),
    (["--sensor", "sds011", "--hex", "AA C"],
     "tynys: error: --hex: 3 hex digits is an odd number; every byte needs two digits"),
    (["--sensor", "ze03", "--file", str(FRAMES / "data.csv")],
     f"tynys: error: {FRAMES / 'data.csv'} has no rows for ze03 (it has HPMA115C0, MCU680, MHZ19B, "
     "PMS3003, PMS5003T, PMSx003, SDS01x, SDS198, SPS30); pick --sensor to match"),
    (["--sensor", "sds011", "--file", "/nonexistent/cap.bin"],
     "tynys: error: cannot read the capture /nonexistent/cap.bin: No such file or directory"),
])
def test_errors_are_one_line(capsys, argv, message):
    code = main(["decode", *argv])
    out, err = capsys.readouterr()
    assert code == 2 and out == "" and err.strip() == message


def test_unknown_sensor_is_refused_by_the_command_line(capsys):
    code = main(["decode", "--sensor", "pms9000", "--hex", "00"])
    _, err = capsys.readouterr()
    assert code == 2 and "Invalid value for '--sensor'" in err and "pms5003" in err


def test_the_examples_in_docs_drivers_md_print_what_they_show(capsys, monkeypatch):
    """Every `$ tynys decode` block in docs/drivers.md: the lines shown are what it prints."""
    import re
    import shlex

    monkeypatch.chdir(FRAMES.parents[2])
    doc = (FRAMES.parents[2] / "docs" / "drivers.md").read_text()
    blocks = re.findall(r"```console\n\$ tynys (decode .*?)\n(.*?)```", doc, re.S)
    assert len(blocks) >= 2
    for command, shown in blocks:
        main(shlex.split(command))
        out = capsys.readouterr().out.splitlines()
        assert shown.splitlines() == out[:len(shown.splitlines())], command
