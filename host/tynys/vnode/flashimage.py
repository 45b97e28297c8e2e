"""A virtual node's flash (``flash.img``: LittleFS on 4 KB blocks, as an ESP32 formats its vfs) and
the files on it, read and written with the unix port's own LittleFS (firmware/ports/unix/flashtool.py)
while the node is off. The image holds the node's key (in config.json): it is made, as every
file of the node that holds the key, readable by its owner only (0600)."""

from __future__ import annotations

import os
from pathlib import Path

from .. import firmware
from .errors import VnodeError


def private(path: Path, data: bytes) -> None:
    """Write *path* readable and writable by its owner only, whatever the umask (it holds a key)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)  # an existing file keeps its mode through O_CREAT
    with os.fdopen(fd, "wb") as f:
        f.write(data)


class FlashImage:
    def __init__(self, path: Path):
        self.path = Path(path)

    def _tool(self, *args: str) -> str:
        code = f"import flashtool; flashtool.main({list(args)!r})"
        proc = firmware.run(code=code, heap="256K", timeout=60)
        if proc.returncode != 0:
            out = proc.stdout.decode().strip().splitlines() or proc.stderr.decode().strip().splitlines() or ["?"]
            raise VnodeError(f"flash image {self.path}: {out[-1].removeprefix('flashtool: ')}")
        return proc.stdout.decode()

    def format(self, blocks: int) -> None:
        """A new, empty image of *blocks* 4 KB blocks (0600: it will hold the node's key)."""
        self.path.unlink(missing_ok=True)
        private(self.path, b"")
        self._tool("format", str(self.path), str(blocks))

    def put(self, name: str, data: bytes) -> None:
        tmp = self.path.with_name(".put")
        private(tmp, data)
        try:
            self._tool("put", str(self.path), name, str(tmp))
        finally:
            tmp.unlink(missing_ok=True)

    def get(self, name: str) -> bytes:
        tmp = self.path.with_name(".get")
        self._tool("get", str(self.path), name, str(tmp))
        try:
            return tmp.read_bytes()
        finally:
            tmp.unlink(missing_ok=True)

    def ls(self, path: str = "") -> dict[str, int]:
        out = self._tool("ls", str(self.path), *([path] if path else []))
        return {name: int(size) for name, size in (line.rsplit(" ", 1) for line in out.splitlines() if line)}
