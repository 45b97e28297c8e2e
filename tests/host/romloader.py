"""A simulated ESP32-family ROM serial bootloader, for testing `tynys flash` with the real esptool.

Written from Espressif's published description of the ROM loader's serial protocol (esptool
documentation, docs/en/advanced-topics/serial-protocol.rst, "Serial Protocol"): SLIP framing
(packets start and end with 0xC0; 0xC0 and 0xDB inside are sent as DB DC and DB DD), a command
packet ``00 cmd size:u16 checksum:u32 data`` and a response ``01 cmd size:u16 value:u32 data``
whose data ends with the ROM's four status bytes (status, error, 0, 0). What it answers:

- SYNC (0x08): eight responses, as the ROM sends (value: the first word of the sync payload);
- READ_REG / WRITE_REG (0x0A / 0x09): a register file; the chip-detect magic word (ESP32), and an
  SPI peripheral whose user command returns the JEDEC id of the flash (RDID 0x9F);
- GET_SECURITY_INFO (0x14): the chip id on chips that have the command; a classic ESP32's ROM
  does not, and answers "invalid message" (error 0x05) as the document says;
- SPI_ATTACH, SPI_SET_PARAMS, CHANGE_BAUDRATE: accepted;
- FLASH_BEGIN / FLASH_DATA / FLASH_END and FLASH_DEFL_BEGIN / _DATA / _END: the ROM erases the
  region at BEGIN, each data packet carries a sequence number and a checksum (seed 0xEF, XOR of the
  data bytes; 0x07 "checksum error" when wrong), compressed data is zlib deflate;
- SPI_FLASH_MD5 (0x13): the MD5 of a flash region as 32 hex-coded ASCII bytes (the ROM's form).

The flash is a file (0xFF when erased; a write can only clear bits, as NOR flash does). Anything
else is answered with error 0x05, so a command this simulator does not know fails loudly. The
stub loader is not simulated: esptool runs with ``--no-stub`` (its ROM path).

Register addresses and identity values are the chips' own (Espressif Technical Reference Manuals;
esptool's targets name the same numbers). ::

    with RomLoader(tmp_path / "flash.bin", chip="esp32") as rom:
        esptool.main(["--port", rom.url, "--no-stub", "write-flash", "0x1000", "fw.bin"])
    rom.commands        # every command received, in order (names)
"""

from __future__ import annotations

import hashlib
import mmap
import socket
import struct
import threading
import zlib
from pathlib import Path

SECTOR = 0x1000
# chip -> facts the ROM of that chip reveals. magic: the word at 0x40001000 (None: the chip
# answers GET_SECURITY_INFO with its id instead); spi: base of the SPI0/1 registers the flash
# commands go through, and the offsets of USR2 (command) and W0 (data buffer) there.
CHIPS = {
    "esp32": {"magic": 0x00F01D83, "chip_id": None, "spi": (0x3FF42000, 0x24, 0x80)},
    "esp32c3": {"magic": None, "chip_id": 5, "spi": (0x60002000, 0x20, 0x58)},
    "esp32s3": {"magic": None, "chip_id": 9, "spi": (0x60002000, 0x20, 0x58)},
}
MAGIC_REG = 0x40001000
JEDEC_ID = 0x1640EF  # Winbond (EF), type 0x40, capacity 0x16: a 4 MB W25Q32, as on WROOM-32 modules
NAMES = {0x02: "FLASH_BEGIN", 0x03: "FLASH_DATA", 0x04: "FLASH_END", 0x08: "SYNC", 0x09: "WRITE_REG",
         0x0A: "READ_REG", 0x0B: "SPI_SET_PARAMS", 0x0D: "SPI_ATTACH", 0x0F: "CHANGE_BAUDRATE",
         0x10: "FLASH_DEFL_BEGIN", 0x11: "FLASH_DEFL_DATA", 0x12: "FLASH_DEFL_END", 0x13: "SPI_FLASH_MD5",
         0x14: "GET_SECURITY_INFO"}
E_INVALID, E_CHECKSUM, E_BAD_DATA = 0x05, 0x07, 0x01


def slip(packet: bytes) -> bytes:
    return b"\xc0" + packet.replace(b"\xdb", b"\xdb\xdd").replace(b"\xc0", b"\xdb\xdc") + b"\xc0"


class RomLoader:
    def __init__(self, flash_file: str | Path, chip: str = "esp32", size: int = 4 << 20):
        self.chip = CHIPS[chip]
        self.name = chip
        p = Path(flash_file)
        if not p.exists() or p.stat().st_size != size:
            p.write_bytes(b"\xff" * size)
        self._file = open(p, "r+b")
        self.flash = mmap.mmap(self._file.fileno(), size)
        self.regs: dict[int, int] = {}
        self.commands: list[str] = []
        self._srv = socket.create_server(("127.0.0.1", 0))
        self.port = self._srv.getsockname()[1]
        self.url = f"socket://127.0.0.1:{self.port}"
        self._stop = False
        self._thread = threading.Thread(target=self._serve, name="romloader", daemon=True)
        self._write = None  # the download in progress: [next seq, address, decompressor or None]
        self._conn = None

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        self._stop = True
        try:
            self._srv.shutdown(socket.SHUT_RDWR)  # wakes the thread from accept() (Linux)
        except OSError:
            pass
        self._srv.close()
        if self._conn is not None:
            try:
                self._conn.shutdown(socket.SHUT_RDWR)  # wakes the session thread from recv()
            except OSError:
                pass
        self._thread.join(5)
        self.flash.flush()
        self.flash.close()
        self._file.close()

    # -- transport
    def _serve(self):
        while not self._stop:
            try:
                conn, _ = self._srv.accept()
            except OSError:
                return
            self._conn = conn
            with conn:
                self._session(conn)
            self._conn = None

    def _session(self, conn):
        buf, esc = bytearray(), False
        while not self._stop:
            try:
                data = conn.recv(65536)
            except OSError:
                return
            if not data:
                return
            for b in data:
                if b == 0xC0:  # a packet ends (or begins): what came since the last one is it
                    if buf:
                        for reply in self._packet(bytes(buf)):
                            conn.sendall(slip(reply))
                    buf.clear()
                    esc = False
                elif esc:
                    buf.append({0xDC: 0xC0, 0xDD: 0xDB}.get(b, b))
                    esc = False
                elif b == 0xDB:
                    esc = True
                else:
                    buf.append(b)

    # -- commands
    def _packet(self, p: bytes) -> list[bytes]:
        if len(p) < 8 or p[0] != 0:
            return []
        _, cmd, size, chk = struct.unpack_from("<BBHI", p)
        data = p[8:8 + size]
        self.commands.append(NAMES.get(cmd, f"0x{cmd:02x}"))
        handler = getattr(self, "_cmd_" + NAMES.get(cmd, "unknown").lower(), None)
        if handler is None:
            return [self._reply(cmd, error=E_INVALID)]
        return handler(cmd, data, chk)

    @staticmethod
    def _reply(cmd, value=0, body=b"", error=0) -> bytes:
        status = bytes((1 if error else 0, error, 0, 0))
        return struct.pack("<BBHI", 1, cmd, len(body) + 4, value) + body + status

    def _cmd_sync(self, cmd, data, chk):
        if data[:4] != b"\x07\x07\x12\x20" or data[4:] != b"\x55" * 32:
            return []  # not a sync frame: the ROM stays silent
        return [self._reply(cmd, value=struct.unpack_from("<I", data)[0])] * 8

    def _cmd_read_reg(self, cmd, data, chk):
        (addr,) = struct.unpack_from("<I", data)
        if addr == MAGIC_REG and self.chip["magic"] is not None:
            return [self._reply(cmd, value=self.chip["magic"])]
        return [self._reply(cmd, value=self.regs.get(addr, 0))]

    def _cmd_write_reg(self, cmd, data, chk):
        for i in range(0, len(data) - 15, 16):  # address, value, mask, delay [, more of them]
            addr, value, mask, _ = struct.unpack_from("<IIII", data, i)
            self.regs[addr] = (self.regs.get(addr, 0) & ~mask) | (value & mask)
            base, usr2, w0 = self.chip["spi"]
            if addr == base and value & (1 << 18):  # SPI_CMD_USR: run the user command now
                command = self.regs.get(base + usr2, 0) & 0xFFFF
                self.regs[base + w0] = JEDEC_ID if command == 0x9F else 0
                self.regs[base] = 0  # done
        return [self._reply(cmd)]

    def _cmd_get_security_info(self, cmd, data, chk):
        if self.chip["chip_id"] is None:  # a classic ESP32's ROM has no such command
            return [self._reply(cmd, error=E_INVALID)]
        body = struct.pack("<IBBBBBBBBII", 0, 0, 0, 0, 0, 0, 0, 0, 0, self.chip["chip_id"], 0)
        return [self._reply(cmd, body=body)]

    def _ok(self, cmd, data, chk):
        return [self._reply(cmd)]

    _cmd_spi_attach = _cmd_spi_set_params = _cmd_change_baudrate = _ok

    def _erase(self, offset, size):
        end = min(len(self.flash), -(-(offset + size) // SECTOR) * SECTOR)
        start = offset - offset % SECTOR
        self.flash[start:end] = b"\xff" * (end - start)

    def _cmd_flash_begin(self, cmd, data, chk, deflate=False):
        erase, blocks, block, offset = struct.unpack_from("<IIII", data)
        if offset + erase > len(self.flash):
            return [self._reply(cmd, error=E_BAD_DATA)]
        self._erase(offset, erase)
        self._write = [0, offset, zlib.decompressobj() if deflate else None, block]
        return [self._reply(cmd)]

    def _cmd_flash_defl_begin(self, cmd, data, chk):
        return self._cmd_flash_begin(cmd, data, chk, deflate=True)

    def _cmd_flash_data(self, cmd, data, chk):
        size, seq = struct.unpack_from("<II", data)
        payload = data[16:16 + size]
        w = self._write
        if w is None or seq != w[0] or len(payload) != size:
            return [self._reply(cmd, error=E_BAD_DATA)]
        x = 0xEF
        for b in payload:
            x ^= b
        if x != chk & 0xFF:
            return [self._reply(cmd, error=E_CHECKSUM)]
        out = w[2].decompress(payload) if w[2] is not None else payload
        addr = w[1]
        if addr + len(out) > len(self.flash):
            return [self._reply(cmd, error=E_BAD_DATA)]
        old = self.flash[addr:addr + len(out)]
        self.flash[addr:addr + len(out)] = bytes(a & b for a, b in zip(old, out))  # NOR: 1 -> 0 only
        w[0] += 1
        w[1] += len(out)
        return [self._reply(cmd)]

    _cmd_flash_defl_data = _cmd_flash_data

    def _cmd_flash_end(self, cmd, data, chk):
        self._write = None
        return [self._reply(cmd)]

    _cmd_flash_defl_end = _cmd_flash_end

    def _cmd_spi_flash_md5(self, cmd, data, chk):
        addr, size = struct.unpack_from("<II", data)
        digest = hashlib.md5(self.flash[addr:addr + size]).hexdigest().encode()
        return [self._reply(cmd, body=digest)]
