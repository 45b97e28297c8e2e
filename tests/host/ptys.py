"""The node's end of a serial line, made of a real pseudo-terminal (``os.openpty``).

The host opens the port through a symlink, as it would ``/dev/serial/by-id/...``; ``replug()``
closes the pty (the host sees an unplug) and points the symlink at a fresh one.
"""

from __future__ import annotations

import os
import select
import time
import tty
from pathlib import Path


class PtyNode:
    def __init__(self, link: Path, key: bytes | None = None):
        """*key*: the node's key, to read the host's signed replies."""
        self.link = Path(link)
        self.key = key
        self.master = self.slave = None
        self._buf = b""
        self.received: list[str] = []
        self._open()

    def _open(self) -> None:
        self.master, self.slave = os.openpty()
        tty.setraw(self.slave)  # no echo, no CR/LF translation before the host configures it
        tmp = self.link.with_name(self.link.name + ".new")
        tmp.unlink(missing_ok=True)
        tmp.symlink_to(os.ttyname(self.slave))
        os.replace(tmp, self.link)

    def write(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            _, w, _ = select.select([], [self.master], [], 5)
            if not w:
                raise TimeoutError("the host is not reading the pty")
            n = os.write(self.master, view[:4096])
            view = view[n:]
            self.pump(0)  # keep reading what the host sends so neither side blocks

    def pump(self, timeout: float = 0.0) -> list[str]:
        """Read what the host sent; return new complete lines."""
        new = []
        while True:
            r, _, _ = select.select([self.master], [], [], timeout)
            if not r:
                break
            try:
                data = os.read(self.master, 65536)
            except OSError:
                break
            if not data:
                break
            self._buf += data
            timeout = 0
        while b"\n" in self._buf:
            line, self._buf = self._buf.split(b"\n", 1)
            new.append(line.decode().rstrip("\r"))
        self.received += new
        return new

    def wait_for(self, pred, timeout: float = 10.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.pump(0.05)
            if pred():
                return True
        return pred()

    def replies(self) -> list[dict]:
        """The host's reply lines that verify under the node's key (tynys.transport.reply)."""
        from tynys.transport import reply

        return [reply.verify(line.encode(), self.key) for line in self.received if line.startswith("{")]

    def acked(self) -> list[int]:
        return [a for doc in self.replies() for a in doc["ack"]]

    def close(self) -> None:
        for fd in (self.master, self.slave):
            if fd is not None:
                os.close(fd)
        self.master = self.slave = None

    def replug(self) -> None:
        self.close()
        self._buf = b""
        self._open()
