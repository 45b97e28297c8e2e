"""A virtual node's console: a pty that pyserial, mpremote and ``tynys ingest serial`` open like a
board's USB serial port, relayed to and from the node's process.

Out: every byte goes to ``console.log`` and to the pty with ``\\r\\n`` line ends (a board's console
writes them); like a UART's, with nobody reading the port bytes are lost after a second, so a
console nobody reads never blocks the node. Complete lines are kept for :meth:`Console.expect`.
In: an ESP32's console input is a 260-byte ring (ports/esp32/mphalport.c) holding 259 bytes
(py/ringbuf.h); its UART interrupt drops what does not fit until the firmware reads, except
Ctrl-C, which it takes before the ring (ports/esp32/uart.c). Here the ring is the bytes the node's
process has not read from its stdin yet. Lines typed in are kept too (``typed``).
"""

from __future__ import annotations

import array
import collections
import fcntl
import os
import pty
import re
import selectors
import termios
import threading
import time
import tty
from pathlib import Path

from .errors import VnodeError

CONSOLE_RING = 259


class Console:
    def __init__(self, log: Path, keep_lines: int = 10000, on_line=None):
        self.log_path = Path(log)
        self.on_line = on_line  # called with each complete line from the node
        self.lines: collections.deque[bytes] = collections.deque(maxlen=keep_lines)
        self.typed: collections.deque[bytes] = collections.deque(maxlen=keep_lines)  # lines typed in, as sent
        self.dropped = 0  # bytes typed in that the full input ring lost
        self.cond = threading.Condition()  # notified on every line out, and when the relay ends
        self._partial = b""  # the unfinished last line out (a prompt)
        self._typing = b""
        self._deaf = False  # nobody has read the port for a second: drop output at once
        self._master = self._slave = None
        self._log = None

    # -- the pty
    def open(self) -> None:
        self._master, self._slave = pty.openpty()
        tty.setraw(self._slave)  # a board's port: bytes as they are (no \n -> \r\n, no echo)
        os.set_blocking(self._master, False)
        self._log = open(self.log_path, "ab")

    def close(self) -> None:
        for fd in (self._master, self._slave):
            if fd is not None:
                os.close(fd)
        self._master = self._slave = None
        if self._log:
            self._log.close()
            self._log = None

    @property
    def port(self) -> str:
        if self._slave is None:
            raise VnodeError("the node is not started")
        return os.ttyname(self._slave)

    # -- the relay
    def pump(self, proc, to_node) -> None:
        """Relay between the pty and the node's process until the process ends: what it prints
        goes out (from_node), what the port brings goes to to_node(data)."""
        sel = selectors.DefaultSelector()
        sel.register(proc.stdout, selectors.EVENT_READ)
        sel.register(self._master, selectors.EVENT_READ)
        try:
            while True:
                for key, _ in sel.select(0.2):
                    if key.fileobj is proc.stdout:
                        data = proc.stdout.read(65536)
                        if data:
                            self.from_node(data)
                    else:
                        try:
                            data = os.read(self._master, 4096)
                        except (BlockingIOError, OSError):
                            data = b""
                        if data:
                            to_node(data)
                if proc.poll() is not None:
                    rest = proc.stdout.read()
                    if rest:
                        self.from_node(rest)
                    return
        finally:
            sel.close()

    def from_node(self, data: bytes) -> None:
        self._log.write(data)
        self._log.flush()
        self._to_port(re.sub(rb"(?<!\r)\n", b"\r\n", data))
        with self.cond:
            *done, self._partial = (self._partial + data).split(b"\n")
            for line in done:
                self.lines.append(line.rstrip(b"\r"))
            self.cond.notify_all()
            if self.on_line:
                for line in done:
                    self.on_line(line.rstrip(b"\r"))

    def _to_port(self, data: bytes) -> None:
        sel = selectors.DefaultSelector()
        sel.register(self._master, selectors.EVENT_WRITE)
        try:
            while data:
                if not sel.select(0 if self._deaf else 1.0):
                    self._deaf = True
                    return
                self._deaf = False
                try:
                    n = os.write(self._master, data)
                except BlockingIOError:
                    continue
                except OSError:
                    return
                data = data[n:]
        finally:
            sel.close()

    @staticmethod
    def unread(proc) -> int:
        """Bytes typed in that the node's process has not read yet: its input ring's content."""
        n = array.array("i", [0])
        try:
            fcntl.ioctl(proc.stdin.fileno(), termios.FIONREAD, n, True)
        except (AttributeError, OSError, ValueError):
            return 0
        return n[0]

    def to_node(self, proc, data: bytes) -> bytes:
        """Type into the node's process through its input ring; returns what got in."""
        *done, typing = (self._typing + data).split(b"\n")
        self._typing = typing[-4096:]
        self.typed.extend(line.rstrip(b"\r") for line in done)
        if proc is None or proc.poll() is not None:
            return b""  # nothing listens while the chip resets
        room = max(0, CONSOLE_RING - self.unread(proc))
        if len(data) > room:
            kept = data[:room] + bytes(c for c in data[room:] if c == 3)
            self.dropped += len(data) - len(kept)
            data = kept
        try:
            proc.stdin.write(data)
            proc.stdin.flush()
        except (BrokenPipeError, OSError):
            return b""
        return data

    # -- what it said
    def at_repl(self) -> bool:
        """True when the last output is a REPL prompt (the firmware is not running)."""
        with self.cond:
            return self._partial.endswith(b">>> ")

    def tail(self, n: int) -> str:
        return b"\n".join(list(self.lines)[-n:]).decode(errors="replace")

    def expect(self, pattern: bytes | str, timeout: float = 60, since: int = 0) -> re.Match:
        """Wait for a line matching the regex (the unfinished last line, such as a ``>>> ``
        prompt, counts too); `since`: skip lines before this index."""
        rx = re.compile(pattern.encode() if isinstance(pattern, str) else pattern)
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                lines = list(self.lines)[since:] if since else list(self.lines)
                for line in lines + [self._partial.rstrip(b"\r")]:
                    m = rx.search(line)
                    if m:
                        return m
                left = deadline - time.monotonic()
                if left <= 0:
                    raise VnodeError(f"no console line matched {rx.pattern!r} within {timeout} s; last lines:\n{self.tail(5)}")
                self.cond.wait(min(left, 0.2))
