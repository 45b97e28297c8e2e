"""Virtual nodes for end-to-end tests (the firmware as .mpy on the unix port, its heap by its uplinks) and the
host they talk to: ``tynys serve`` as a user runs it, in a process of its own."""

from __future__ import annotations

import copy
import json
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import time

import pytest

from tynys.broker import free_port
from tynys.errors import TynysError
from tynys.keys import KeyFile
from tynys.registry import add_node
from tynys.store import Store
from tynys.transport import reply
from tynys.vnode import VirtualNode

KEY = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
# 21:00:37 UTC ten days ago: power-on 37 s into a 5-minute window, and days of simulated time
# later still in the host's past (tynys serve refuses windows ahead of its clock)
T0 = (int(time.time()) // 86400 - 10) * 86400 + 21 * 3600 + 37
CHECK = "soft"  # a node checks a new config.json once, then restarts to run it (node.startup)
FAKE = {"node": "vn-01", "key": KEY, "sensors": {"pm": {"type": "fake"}}, "uplinks": {"serial": {}}}
CLI = "import sys; from tynys.cli import main; sys.exit(main(sys.argv[1:]))"


WINDOW = re.compile(rb"^tynys: window to \d\d:\d\d seq (\d+) ")


def windows(vn) -> list[int]:
    """The seq of each window the node closed, from its console lines."""
    return [int(m.group(1)) for m in map(WINDOW.match, vn.lines) if m]


def answered(vn, seq: int, key: str = KEY) -> bool:
    """The host's signed reply acknowledging seq has been typed into the console and read by the node."""
    for line in vn.typed:
        try:
            if seq in reply.verify(line, bytes.fromhex(key))["ack"]:
                return not vn.console_unread()
        except TynysError:
            continue
    return False


def config(**changes) -> dict:
    c = copy.deepcopy(FAKE)
    c.update(changes)
    return c


@pytest.fixture
def make_node(tmp_path):
    nodes = []

    def make(cfg=None, scenario=None, name="vn", **kw):
        kw.setdefault("start", T0)
        vn = VirtualNode.create(tmp_path / name, cfg or config(), scenario=scenario, **kw)
        nodes.append(vn)
        return vn

    yield make
    for vn in nodes:
        vn.stop()


class Host:
    """``tynys serve`` on a free loopback port over a database where vn-01 is registered with KEY."""

    def __init__(self, home):
        self.db = home / "city.db"
        store = Store.open(self.db)
        add_node(store, KeyFile(home / "city.keys"), "vn-01", key=bytes.fromhex(KEY))
        store.close()
        self.port = free_port()
        self.log = open(home / "serve.log", "wb")
        self.proc = subprocess.Popen([sys.executable, "-c", CLI, "serve", "--db", str(self.db), "--host", "127.0.0.1",
                                      "--port", str(self.port), "--quiet"], stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                break
            except OSError:
                assert self.proc.poll() is None and time.monotonic() < deadline, "tynys serve did not start"
                time.sleep(0.05)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/v1/records"

    def query(self, sql: str, *args) -> list[tuple]:
        with sqlite3.connect(self.db, timeout=10) as c:
            return c.execute(sql, args).fetchall()

    def records(self) -> list[dict]:
        """The stored records of vn-01 in seq order, as the node sent them."""
        return [json.loads(raw) for (raw,) in self.query("SELECT raw FROM records WHERE node = 'vn-01' ORDER BY seq")]

    def rejected(self) -> set[str]:
        return {r for (r,) in self.query("SELECT DISTINCT reason FROM rejects")}

    def wait(self, n: int, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while (got := self.query("SELECT COUNT(*) FROM records")[0][0]) < n:
            assert time.monotonic() < deadline, f"{got} of {n} records stored within {timeout} s"
            time.sleep(0.1)

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        code = self.proc.wait(30)
        self.log.close()
        return code


@pytest.fixture
def host(tmp_path):
    h = Host(tmp_path)
    yield h
    assert h.stop() == 0, "tynys serve did not stop cleanly on SIGTERM"


@pytest.fixture
def keys():
    return {"vn-01": bytes.fromhex(KEY)}
