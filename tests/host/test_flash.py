"""`tynys flash` end to end: the real esptool (Python API, ROM path, --no-stub) writes to a
simulated ROM bootloader (tests/host/romloader.py) whose flash is a file; and every way it can
go wrong for a volunteer is one plain line saying what to do, before anything is written."""

from __future__ import annotations

import http.server
import json
import os
import pty
import threading

import pytest
import serial

from espimage import micropython_bin
from romloader import RomLoader
from tynys import flash
from tynys.cli import main

pytestmark = pytest.mark.host


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def image(tmp_path):
    def make(chip="esp32", version="1.24.1", name="fw.bin"):
        p = tmp_path / name
        p.write_bytes(micropython_bin(chip, version))
        return p
    return make


@pytest.mark.parametrize("board, chip, offset", [("esp32-devkitc", "esp32", 0x1000),
                                                  ("esp32-c3-supermini", "esp32c3", 0x0)])
def test_flash_writes_the_image_at_the_boards_offset_and_verifies_it(capsys, tmp_path, image, board, chip, offset):
    fw = image(chip)
    old = bytes(range(256)) * (4 << 12)  # 1 MB of an earlier install: erased first
    store = tmp_path / "flash.img"
    store.write_bytes(old + b"\xff" * ((4 << 20) - len(old)))
    with RomLoader(store, chip=chip) as rom:
        code, out, err = run(capsys, "flash", "--board", board, "--port", rom.url, "--image", str(fw), "--no-stub",
                             "--json")
    assert code == 0, err
    done = json.loads(out)
    assert done["offset"] == hex(offset) and done["version"] == "v1.24.1" and done["bytes"] == fw.stat().st_size
    data = store.read_bytes()
    assert data[offset:offset + len(fw.read_bytes())] == fw.read_bytes()
    assert data[:offset] == b"\xff" * offset and data[offset + done["bytes"]:] == b"\xff" * (len(data) - offset - done["bytes"])
    assert {"FLASH_DEFL_DATA", "SPI_FLASH_MD5"} <= set(rom.commands)  # compressed write, then the ROM's MD5
    assert "writing [" in err and "100%" in err


def test_a_wrong_chip_for_the_board_is_refused_before_writing(capsys, tmp_path, image):
    store = tmp_path / "flash.img"
    with RomLoader(store, chip="esp32c3") as rom:
        before = store.read_bytes()
        code, _, err = run(capsys, "flash", "--board", "esp32-devkitc", "--port", rom.url, "--image",
                           str(image("esp32")), "--no-stub")
    assert code == 2 and store.read_bytes() == before
    assert not {"FLASH_BEGIN", "FLASH_DEFL_BEGIN"} & set(rom.commands)
    assert err.strip().splitlines()[-1] == (
        f"tynys: error: the board on {rom.url} is an ESP32-C3, but board esp32-devkitc has an ESP32: "
        "nothing was written; use --board esp32-c3-supermini")


@pytest.mark.parametrize("what, message", [
    ("missing", "image file {p} not found: download the ESP32_GENERIC .bin from https://micropython.org/download/ESP32_GENERIC/, or use --version V to fetch it"),
    ("cut", "the image is damaged or cut short (its app at 0x10000 fails its checksum): download ESP32_GENERIC again"),
    ("flipped", "the image is damaged or cut short"),
    ("other chip", "the image is built for ESP32-C3, but board esp32-devkitc has an ESP32: download the ESP32_GENERIC image"),
    ("too old", "the image is MicroPython v1.22.2; the firmware's bytecode (.mpy 6.3) needs 1.23.0 or newer"),
])
def test_a_bad_image_is_refused_before_the_port_is_opened(capsys, tmp_path, image, what, message):
    p = tmp_path / "fw.bin"
    if what != "missing":
        data = bytearray(image("esp32c3" if what == "other chip" else "esp32", "1.22.2" if what == "too old" else "1.24.1").read_bytes())
        if what == "cut":
            data = data[:len(data) // 2]
        elif what == "flipped":
            data[0x18000] ^= 0x01
        p.write_bytes(data)
    with RomLoader(tmp_path / "flash.img") as rom:
        code, _, err = run(capsys, "flash", "--board", "esp32-devkitc", "--port", rom.url, "--image", str(p), "--no-stub")
    assert code == 2 and rom.commands == []
    assert err.startswith("tynys: error: " + message.format(p=p)) and err.count("\n") == 1


def test_an_unknown_board_lists_the_known_ones(capsys, image):
    code, _, err = run(capsys, "flash", "--board", "esp32-wroom", "--port", "/dev/null", "--image", str(image()))
    assert code == 2 and err == ("tynys: error: no board 'esp32-wroom'; boards/ has: esp32-c3-supermini, "
                                 "esp32-devkitc, esp32-s3-devkitc-1, lilygo-t-display, virtual\n")


def test_no_such_port(capsys, image):
    code, _, err = run(capsys, "flash", "--board", "esp32-devkitc", "--port", "/dev/ttyNOPE9", "--image", str(image()))
    assert code == 2 and err.startswith("tynys: error: no such port /dev/ttyNOPE9: is the board plugged in")


def test_a_port_another_program_holds(capsys, image):
    master, slave = pty.openpty()
    name = os.ttyname(slave)
    other = serial.Serial(name, exclusive=True)  # e.g. a `tynys monitor` left running
    try:
        code, _, err = run(capsys, "flash", "--board", "esp32-devkitc", "--port", name, "--image", str(image()))
    finally:
        other.close()
        os.close(master)
        os.close(slave)
    assert code == 2 and err == (f"tynys: error: {name} is in use by another program (tynys monitor, mpremote, "
                                 "screen, the Arduino IDE): close it and try again\n")


def test_no_permission_names_the_dialout_group(image):
    """A port the user may not open (root runs the check as nobody, in a forked child)."""
    master, slave = pty.openpty()
    name = os.ttyname(slave)
    os.chmod(name, 0o600 if os.geteuid() == 0 else 0o000)
    data = image().read_bytes()
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: drop root, try, report
        try:
            if os.geteuid() == 0:
                os.setgid(65534)
                os.setuid(65534)
            flash.flash("esp32-devkitc", name, data)
            msg = "no error"
        except Exception as e:
            msg = f"{type(e).__name__}: {e}"
        os.write(w, msg.encode())
        os._exit(0)
    os.close(w)
    os.waitpid(pid, 0)
    msg = os.read(r, 4096).decode()
    os.close(r)
    os.close(master)
    os.close(slave)
    assert msg == (f"PortError: no permission to open {name}: add yourself to the dialout group "
                   "(sudo usermod -aG dialout $USER), then log out and in again")


class _Site(http.server.BaseHTTPRequestHandler):
    files: dict = {}

    def do_GET(self):
        body = self.files.get(self.path)
        self.send_response(200 if body is not None else 404)
        self.end_headers()
        self.wfile.write(body or b"")

    def log_message(self, *a):
        pass


def test_version_downloads_the_official_image_checks_and_caches_it(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    name = "ESP32_GENERIC-20241129-v1.24.1.bin"
    _Site.files = {"/download/ESP32_GENERIC/": f'<a href="/resources/firmware/{name}">v1.24.1 (2024-11-29) .bin</a>'.encode(),
                   f"/resources/firmware/{name}": micropython_bin("esp32", "1.24.1")}
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Site)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    monkeypatch.setattr(flash, "DOWNLOAD", f"http://127.0.0.1:{srv.server_address[1]}")
    try:
        with pytest.raises(flash.FlashError, match="lists no ESP32_GENERIC image of MicroPython 1.99.0"):
            flash.image_for("esp32-devkitc", "1.99.0")
        p = flash.image_for("esp32-devkitc", "1.24.1")
        assert p == tmp_path / "cache" / "tynys" / "firmware" / name and p.read_bytes() == _Site.files[f"/resources/firmware/{name}"]
        _Site.files[f"/resources/firmware/{name}"] = b"\xe9" + b"\0" * 4000  # a broken download is not kept
        p.unlink()
        with pytest.raises(flash.FlashError, match="the image"):
            flash.image_for("esp32-devkitc", "1.24.1")
        assert not p.exists()
    finally:
        srv.shutdown()


def test_version_offline_says_where_to_put_the_file_and_then_uses_it(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr(flash, "DOWNLOAD", "http://127.0.0.1:9")  # nothing listens there
    cache = tmp_path / "cache" / "tynys" / "firmware"
    with pytest.raises(flash.FlashError) as e:
        flash.image_for("esp32-devkitc", "1.24.1")
    assert str(e.value).endswith(f"download ESP32_GENERIC-<date>-v1.24.1.bin from "
                                 f"https://micropython.org/download/ESP32_GENERIC/ and put it in {cache}/ (or pass --image FILE)")
    cache.mkdir(parents=True)
    (cache / "ESP32_GENERIC-20241129-v1.24.1.bin").write_bytes(micropython_bin("esp32", "1.24.1"))
    assert flash.image_for("esp32-devkitc", "v1.24.1").name == "ESP32_GENERIC-20241129-v1.24.1.bin"
