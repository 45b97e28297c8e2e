"""A MicroPython board (or a virtual node) on a serial port, driven over its raw REPL with
mpremote's transport (``mpremote.transport_serial.SerialTransport``); provision and doctor use it::

    with Device("/dev/ttyUSB0") as dev:          # stops what runs, enters the raw REPL
        dev.info()                               # {"mpy": 6, "mpy_sub": 3, "version": "1.24.1", ...}
        dev.run("print(1 + 1)")                  # '2\\n'
        dev.put("lib/node/app.mpy", data)

Paths are relative to the board's working directory (``/`` on an ESP32, the mounted flash on a
virtual node), so a virtual node never writes into the host's own ``/lib``.
"""

from __future__ import annotations

import json

from . import ports
from .errors import TynysError

_INFO = ("import sys\n"
         "print(repr((sys.implementation._mpy, tuple(sys.implementation.version[:3]), sys.platform, "
         "getattr(sys.implementation, '_machine', sys.platform))))")


class DeviceError(TynysError):
    """The board did not do what was asked; the message says what it answered."""


class Device:
    def __init__(self, port: str, baud: int = 115200, timeout: float = 10):
        from mpremote.transport import TransportError
        from mpremote.transport_serial import SerialTransport

        self.port, self.timeout = port, timeout
        self._dirs: set[str] = set()
        try:
            # a read timeout: mpremote reads a pty byte by byte and would wait forever on a silent one
            self.t = SerialTransport(port, baudrate=baud, exclusive=True, timeout=2)
        except TransportError:
            raise self._why_not(port) from None

    @staticmethod
    def _why_not(port):
        # mpremote says only "failed to access": open the port ourselves to learn why
        import serial

        try:
            serial.Serial(port, exclusive=True).close()
        except (OSError, ValueError) as e:
            return ports.explain(port, e) or DeviceError(f"cannot open {port}: {e}")
        return DeviceError(f"cannot open {port}")

    def __enter__(self):
        self.enter()
        return self

    def __exit__(self, *exc):
        self.close()

    def enter(self) -> None:
        """Stop whatever runs (Ctrl-C), soft-reset into the raw REPL: a clean interpreter."""
        from mpremote.transport import TransportError

        try:
            self.t.enter_raw_repl(soft_reset=True, timeout_overall=self.timeout)
        except TransportError:
            raise DeviceError(f"no MicroPython REPL answered on {self.port}: is MicroPython on the board? "
                              f"Flash it with tynys flash --board <board> --port {self.port} --version <V>") from None

    def run(self, code: str, timeout: float | None = None) -> str:
        """Run code; its printed output. A traceback on the board is a DeviceError with its last line."""
        from mpremote.transport import TransportError, TransportExecError

        try:
            out, err = self.t.exec_raw(code, timeout=timeout or self.timeout)
        except TransportError as e:
            raise DeviceError(f"the board on {self.port} stopped answering ({e}): check the USB cable and power") from None
        if err:
            last = err.decode(errors="replace").strip().splitlines()[-1:] or ["?"]
            raise DeviceError(f"the board answered with an error: {last[0]}")
        return out.decode(errors="replace")

    def info(self) -> dict:
        mpy, version, platform, machine = eval(self.run(_INFO).strip(), {})  # a tuple of literals
        return {"mpy": mpy & 0xFF, "mpy_sub": mpy >> 8 & 3, "version": ".".join(map(str, version)),
                "platform": platform, "machine": machine}

    def read(self, path: str) -> bytes | None:
        from mpremote.transport import TransportExecError

        try:
            return bytes(self.t.fs_readfile(path))
        except (OSError, TransportExecError):
            return None

    def read_json(self, path: str):
        data = self.read(path)
        try:
            return json.loads(data) if data is not None else None
        except ValueError:
            return None

    def hashes(self, root: str) -> dict[str, str]:
        """SHA-256 of every file under `root` (relative path -> hex), in one round trip."""
        out = self.run(
            "import os, hashlib, binascii\n"
            "def walk(d):\n"
            " try:\n  es = list(os.ilistdir(d))\n except OSError:\n  return\n"
            " for e in es:\n"
            "  p = d + '/' + e[0]\n"
            "  if e[1] & 0x4000:\n   walk(p)\n   continue\n"
            "  h = hashlib.sha256(); b = bytearray(512)\n"
            "  with open(p, 'rb') as f:\n"
            "   while True:\n    n = f.readinto(b)\n    if not n: break\n    h.update(b[:n])\n"
            "  print(p, binascii.hexlify(h.digest()).decode())\n"
            f"walk({root!r})\n", timeout=max(self.timeout, 60))
        return dict(line.split(" ", 1) for line in out.splitlines() if " " in line)

    def put(self, path: str, data: bytes) -> None:
        parts = path.split("/")[:-1]
        for i in range(1, len(parts) + 1):
            d = "/".join(parts[:i])
            if d not in self._dirs:
                self.run(f"import os\ntry:\n os.mkdir({d!r})\nexcept OSError:\n pass\n")
                self._dirs.add(d)
        tmp = path + ".new"
        from mpremote.transport import TransportError

        try:
            self.t.fs_writefile(tmp, data, chunk_size=512)
        except (OSError, TransportError) as e:
            raise DeviceError(f"writing {path} on the board failed ({e}): is its flash full? (tynys doctor)") from None
        self.run(f"import os\nos.rename({tmp!r}, {path!r})")  # whole or not at all

    def remove(self, path: str) -> None:
        self.run(f"import os\ntry:\n os.remove({path!r})\nexcept OSError:\n pass\n")

    def reset(self) -> None:
        """A hard reset (machine.reset()), as the EN button; the port stays open."""
        self.t.exec_raw_no_follow("import machine\nmachine.reset()")
        self.t.in_raw_repl = False

    def close(self) -> None:
        try:
            if self.t.in_raw_repl:
                self.t.exit_raw_repl()
            self.t.close()
        except OSError:
            pass
