"""A private Mosquitto broker on a free loopback port, for tests, benchmarks and ``tynys sim``.

    with Mosquitto() as broker:
        MqttIngest(collector, broker.host, broker.port).start()
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from .errors import TynysError


def mosquitto_binary() -> str | None:
    return shutil.which("mosquitto") or next((p for p in ("/usr/sbin/mosquitto", "/usr/local/sbin/mosquitto") if Path(p).exists()), None)


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


class Mosquitto:
    """Start ``mosquitto`` with a generated config (anonymous, loopback only, no persistence), or
    with *conf*, a configuration of one's own (``tynys broker config`` writes one) listening on
    *host*:*port*."""

    def __init__(self, port: int | None = None, host: str = "127.0.0.1", max_inflight: int = 20,
                 conf: str | Path | None = None):
        self.binary = mosquitto_binary()
        if self.binary is None:
            raise TynysError("mosquitto is not installed: apt-get install mosquitto (or run scripts/system-deps.sh)")
        self.host, self.port = host, port or free_port(host)
        self.max_inflight = max_inflight
        self.conf = conf
        self._dir = tempfile.TemporaryDirectory(prefix="tynys-mosquitto-")
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 10.0) -> "Mosquitto":
        conf = Path(self.conf) if self.conf else Path(self._dir.name) / "mosquitto.conf"
        if not self.conf:
            conf.write_text(f"listener {self.port} {self.host}\nallow_anonymous true\npersistence false\n"
                            f"max_inflight_messages {self.max_inflight}\nmax_queued_messages 100000\n")
        self.log = Path(self._dir.name) / "mosquitto.log"
        self.proc = subprocess.Popen([self.binary, "-c", str(conf)], stdout=self.log.open("wb"), stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise TynysError(f"mosquitto exited at start: {self.log.read_text()[-500:]}")
            try:
                socket.create_connection((self.host, self.port), timeout=0.2).close()
                return self
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise TynysError(f"mosquitto did not listen on {self.host}:{self.port} within {timeout} s")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._dir.cleanup()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
