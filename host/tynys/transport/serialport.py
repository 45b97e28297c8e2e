"""Records over USB serial (the node's console): record lines in, signed reply lines out.

A console carries more than records: boot messages, REPL prompts, the firmware's log lines and
half lines cut by an unplug. Lines starting with ``{`` go to ingest (a broken one is refused
there as ``malformed``); everything else is counted as noise and, for ``tynys monitor``, shown.

    ing = SerialIngest(collector, ["/dev/ttyUSB0", "/dev/ttyUSB1"])
    ing.start(); ...; ing.stop()
"""

from __future__ import annotations

import errno
import logging
import threading
import time
from collections import Counter
from typing import Callable

import serial

from ..ingest import DEFAULT_MAX_LINE, Collector, CollectorBusy, Outcome
from . import reply

log = logging.getLogger("tynys.serial")

# A board reads its console once a pass of its loop (up to a second apart) into a 259-byte ring
# that drops what does not fit (ports/esp32/mphalport.c): one reply line per second never overruns it.
REPLY_GAP = 1.0
_HINTS = {
    errno.EACCES: "permission denied: add your user to the dialout group (sudo usermod -aG dialout $USER) and log in again",
    errno.ENOENT: "no such port: is the node plugged in? list ports with: python -m serial.tools.list_ports",
    errno.EWOULDBLOCK: "another program has the port open (tynys monitor/ingest, mpremote, screen): close it",
    errno.EBUSY: "the port is busy: close other programs using it (mpremote, screen, ModemManager)",
}


def is_record_line(line: bytes) -> bool:
    return line.lstrip()[:1] == b"{"


def hint(e: Exception) -> str:
    return _HINTS.get(getattr(e, "errno", None), str(e))


class SerialLink:
    """One serial port as a stream of complete lines; reopens it every *reopen_every* seconds
    after an unplug. ``counts``: lines, records, noise, overlong, partial, opened, lost."""

    def __init__(self, port: str, baud: int = 115200, *, reopen_every: float = 1.0, max_line: int = DEFAULT_MAX_LINE,
                 gap: float = REPLY_GAP):
        self.port, self.baud, self.reopen_every, self.max_line, self.gap = port, baud, reopen_every, max_line, gap
        self.counts: Counter[str] = Counter()
        self.connected = threading.Event()
        self.outbox: Callable[[], bytes | None] | None = None  # the next line to send, asked once per gap
        self._sent_at = 0.0
        self._ser: serial.Serial | None = None

    def run(self, stop: threading.Event, on_records: Callable[[list[bytes]], None],
            on_noise: Callable[[bytes], None] | None = None) -> None:
        """Read until *stop* is set; call back with record lines (all complete ones read at once)."""
        complained = False
        while not stop.is_set():
            try:
                self._ser = serial.Serial(self.port, self.baud, timeout=0.1, write_timeout=2, exclusive=True)
            except (serial.SerialException, OSError, ValueError) as e:
                if not complained:
                    log.warning("%s: cannot open: %s; retrying every %g s", self.port, hint(e), self.reopen_every)
                    complained = True
                stop.wait(self.reopen_every)
                continue
            complained = False
            self.counts["opened"] += 1
            log.info("%s: connected", self.port)
            self.connected.set()
            try:
                self._pump(stop, on_records, on_noise)
            except (serial.SerialException, OSError) as e:
                self.counts["lost"] += 1
                log.warning("%s: lost (%s); reopening every %g s", self.port, e, self.reopen_every)
            finally:
                self.connected.clear()
                try:
                    self._ser.close()
                except Exception:
                    pass
                self._ser = None
            stop.wait(self.reopen_every)

    def _pump(self, stop, on_records, on_noise) -> None:
        buf = bytearray()
        skipping = False  # inside an overlong line: drop until its end
        ser = self._ser
        try:
            while not stop.is_set():
                data = ser.read(max(1, ser.in_waiting))
                if data:
                    buf += data
                    records = []
                    while True:
                        i = buf.find(b"\n")
                        if i < 0:
                            break
                        line = bytes(buf[:i]).rstrip(b"\r")
                        del buf[: i + 1]
                        if skipping:
                            skipping = False
                            continue
                        self.counts["lines"] += 1
                        if is_record_line(line):
                            self.counts["records"] += 1
                            records.append(line)
                        elif line.strip():
                            self.counts["noise"] += 1
                            if on_noise:
                                on_noise(line)
                    if len(buf) > self.max_line:
                        self.counts["overlong"] += 1
                        if is_record_line(bytes(buf[:64])):  # ingest refuses it (malformed: too long) into rejects
                            records.append(bytes(buf[: self.max_line + 1]))
                        buf.clear()
                        skipping = True
                    if records:
                        on_records(records)
                self._flush(ser)
        finally:
            if buf and not skipping:
                self.counts["partial"] += 1  # a line cut by the unplug; the node resends the record

    def _flush(self, ser) -> None:
        # Written by the port's own thread, so a node that does not read never blocks the collector.
        if self.outbox is None or time.monotonic() - self._sent_at < self.gap:
            return
        line = self.outbox()
        if line is None:
            return
        self._sent_at = time.monotonic()
        try:
            ser.write(line + b"\n")
            self.counts["sent"] += 1
        except serial.SerialTimeoutException:
            self.counts["send_timeout"] += 1  # the node sends those records again
            log.warning("%s: node is not reading; dropped %r", self.port, line[:40])


class SerialIngest:
    """Ingest serial ports through a :class:`Collector`, one thread per port. After each commit
    the acknowledged seqs wait in the port's outbox, and the port answers with signed reply lines
    (:mod:`tynys.transport.reply`; with *set_time* each carries the host's clock), one every *gap* seconds
    with all that waits and fits. A line cut on the way fails its signature at the node, which
    sends those records again."""

    def __init__(self, collector: Collector | None, ports: list[str], *, baud: int = 115200, set_time: bool = True,
                 reopen_every: float = 1.0, gap: float = REPLY_GAP,
                 on_outcomes: Callable[[str, list[Outcome]], None] | None = None,
                 on_noise: Callable[[str, bytes], None] | None = None,
                 on_records: Callable[[str, list[bytes]], None] | None = None):
        """Without a collector the ports are only watched (``tynys monitor``): nothing is
        stored, acknowledged or sent."""
        self.collector = collector
        max_line = collector.ingestor.max_line if collector else DEFAULT_MAX_LINE
        self.links = [SerialLink(p, baud, reopen_every=reopen_every, max_line=max_line, gap=gap) for p in ports]
        self.set_time = set_time and collector is not None
        self.on_outcomes, self.on_noise, self.on_records = on_outcomes, on_noise, on_records
        self.stop_event = threading.Event()
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        self._pending: dict[str, dict[str, set[int]]] = {link.port: {} for link in self.links}  # port -> node -> seqs
        for link in self.links:
            link.outbox = (lambda port: lambda: self._next_line(port))(link.port)

    def start(self) -> "SerialIngest":
        for link in self.links:
            t = threading.Thread(target=self._run, args=(link,), name=f"tynys-serial {link.port}", daemon=True)
            t.start()
            self._threads.append(t)
        return self

    def stop(self, timeout: float = 5) -> None:
        self.stop_event.set()
        for t in self._threads:
            t.join(timeout)

    def _run(self, link: SerialLink) -> None:
        def on_records(lines):
            if self.on_records:
                self.on_records(link.port, lines)
            if self.collector is None:
                return
            try:
                self.collector.submit(lines, "serial", link.port, on_done=lambda res: self._done(link, res))
            except CollectorBusy as e:
                link.counts["busy"] += len(lines)
                log.warning("%s: %s (the node will resend)", link.port, e)

        noise = (lambda line: self.on_noise(link.port, line)) if self.on_noise else None
        link.run(self.stop_event, on_records, noise)

    def _done(self, link: SerialLink, outcomes: list[Outcome]) -> None:
        with self._lock:
            pending = self._pending[link.port]
            for o in outcomes:
                if o.ack:
                    pending.setdefault(o.node, set()).add(o.seq)
                    link.counts["acked"] += 1
        if self.on_outcomes:
            self.on_outcomes(link.port, outcomes)

    def _next_line(self, port: str) -> bytes | None:
        with self._lock:
            pending = self._pending[port]
            for node in sorted(pending):
                key = self.collector.ingestor.key(node)
                if key is None:
                    del pending[node]
                    continue
                line, carried = reply.console_line(node, key, sorted(pending[node]),
                                                   now=int(self.collector.ingestor.now()) if self.set_time else None)
                pending[node].difference_update(carried)
                if not pending[node]:
                    del pending[node]
                return line
        return None

    def counts(self) -> dict[str, dict]:
        return {link.port: dict(link.counts) for link in self.links}
