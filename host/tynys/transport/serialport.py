"""Records over USB serial (the node's console): lines in, ``ACK``/``TIME`` lines out.

A console carries more than records: boot messages, REPL prompts, the firmware's log lines and
half lines cut by an unplug. Lines starting with ``{`` go to ingest (a broken one is refused
there as ``malformed``); everything else is counted as noise and, for ``tynys monitor``, shown.

    ing = SerialIngest(collector, ["/dev/ttyUSB0", "/dev/ttyUSB1"])
    ing.start(); ...; ing.stop()
"""

from __future__ import annotations

import errno
import logging
import queue
import threading
import time
from collections import Counter
from typing import Callable

import serial

from ..ingest import DEFAULT_MAX_LINE, Collector, CollectorBusy, Outcome
from .reply import serial_ack_lines, serial_time_line

log = logging.getLogger("tynys.serial")

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

    def __init__(self, port: str, baud: int = 115200, *, reopen_every: float = 1.0, max_line: int = DEFAULT_MAX_LINE):
        self.port, self.baud, self.reopen_every, self.max_line = port, baud, reopen_every, max_line
        self.counts: Counter[str] = Counter()
        self.connected = threading.Event()
        self._out: queue.SimpleQueue[str | Callable[[], str]] = queue.SimpleQueue()
        self._ser: serial.Serial | None = None

    def send(self, line: str | Callable[[], str]) -> None:
        """Queue a line (or a function making it at send time) for the port's own thread to write,
        so a node that does not read never blocks the collector."""
        self._out.put(line)

    def run(self, stop: threading.Event, on_records: Callable[[list[bytes]], None],
            on_noise: Callable[[bytes], None] | None = None, on_open: Callable[[], None] | None = None) -> None:
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
                if on_open:
                    on_open()
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
        while True:
            try:
                item = self._out.get_nowait()
            except queue.Empty:
                return
            text = item() if callable(item) else item
            try:
                ser.write(text.encode() + b"\n")
                self.counts["sent"] += 1
            except serial.SerialTimeoutException:
                self.counts["send_timeout"] += 1
                log.warning("%s: node is not reading; dropped %r", self.port, text[:40])


class SerialIngest:
    """Ingest serial ports through a :class:`Collector`, one thread per port. Sends
    ``ACK <seq> …`` after each commit and ``TIME <unix s>`` on connect, when a record says its
    clock is unsynced (at most every *time_min_interval* s) and every *time_every* seconds."""

    def __init__(self, collector: Collector | None, ports: list[str], *, baud: int = 115200, set_time: bool = True,
                 time_every: float = 3600, time_min_interval: float = 60, reopen_every: float = 1.0,
                 on_outcomes: Callable[[str, list[Outcome]], None] | None = None,
                 on_noise: Callable[[str, bytes], None] | None = None,
                 on_records: Callable[[str, list[bytes]], None] | None = None):
        """Without a collector the ports are only watched (``tynys monitor``): nothing is
        stored, acknowledged or sent."""
        self.collector = collector
        max_line = collector.ingestor.max_line if collector else DEFAULT_MAX_LINE
        self.links = [SerialLink(p, baud, reopen_every=reopen_every, max_line=max_line) for p in ports]
        self.set_time = set_time and collector is not None
        self.time_every, self.time_min_interval = time_every, time_min_interval
        self.on_outcomes, self.on_noise, self.on_records = on_outcomes, on_noise, on_records
        self.stop_event = threading.Event()
        self._threads: list[threading.Thread] = []
        self._time_sent: dict[str, float] = {}

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

    def _send_time(self, link: SerialLink) -> None:
        self._time_sent[link.port] = time.monotonic()
        link.counts["time"] += 1
        link.send(serial_time_line)

    def _run(self, link: SerialLink) -> None:
        def on_open():
            if self.set_time:
                self._send_time(link)

        def on_records(lines):
            if self.on_records:
                self.on_records(link.port, lines)
            if self.collector is None:
                return
            if self.set_time and time.monotonic() - self._time_sent.get(link.port, 0) > self.time_every:
                self._send_time(link)
            try:
                self.collector.submit(lines, "serial", link.port, on_done=lambda res: self._done(link, res))
            except CollectorBusy as e:
                link.counts["busy"] += len(lines)
                log.warning("%s: %s (the node will resend)", link.port, e)

        noise = (lambda line: self.on_noise(link.port, line)) if self.on_noise else None
        link.run(self.stop_event, on_records, noise, on_open)

    def _done(self, link: SerialLink, outcomes: list[Outcome]) -> None:
        for line in serial_ack_lines(outcomes):
            link.send(line)
        link.counts["acked"] += sum(1 for o in outcomes if o.ack)
        if self.set_time and any(o.clock == "unsynced" for o in outcomes) \
                and time.monotonic() - self._time_sent.get(link.port, 0) >= self.time_min_interval:
            self._send_time(link)
        if self.on_outcomes:
            self.on_outcomes(link.port, outcomes)

    def counts(self) -> dict[str, dict]:
        return {link.port: dict(link.counts) for link in self.links}
