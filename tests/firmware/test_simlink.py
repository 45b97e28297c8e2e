"""The virtual node's link to its sensor simulators (ports/unix/simlink.py): the fast path (the
link answers a UART poll itself while the simulator has said it stays quiet) gives the firmware
the same bytes at the same world times as the plain path, a round trip per poll
(TYNYS_SIMLINK=chatty in the simulators' process)."""

from __future__ import annotations

import json
import os
import random
import re
import shutil
from pathlib import Path

import pytest

from tynys import firmware
from sim import create
from sim.faults import Faults
from sim.scenario import Scenario

pytestmark = pytest.mark.firmware

T0 = 1795813200
S = 1000000  # us
WORLD = {"t": [0, 600, 1200], "pm25": [35.0, 80.0, 20.0], "pm10": [50.0, 110.0, 30.0], "t_c": -12.0,
         "rh": [80.0, 90.0, 60.0], "so2_ppb": [250.0, 40.0, 90.0]}


def _sds(cmd, d1, d2):
    b = bytes([0xAA, 0xB4, cmd, d1, d2] + [0] * 10 + [0xFF, 0xFF])
    return b + bytes([sum(b[2:]) & 0xFF, 0xAB])


# Per simulator: what a driver says to it, (seconds after T0, bytes), through sleep, wake and its modes.
SCHEDULES = {
    "pms5003": [(5, b"\x42\x4d\xe1\x00\x00\x01\x70"), (6, b"\x42\x4d\xe2\x00\x00\x01\x71"),
                (8, b"\x42\x4d\xe2\x00\x00\x01\x71"), (10, b"\x42\x4d\xe1\x00\x01\x01\x71"),
                (30, b"\x42\x4d\xe4\x00\x00\x01\x73"), (95, b"\x42\x4d\xe4\x00\x01\x01\x74")],
    "sds011": [(3, _sds(2, 1, 1)), (4, _sds(4, 0, 0)), (9, _sds(2, 1, 0)),  # query mode, query, active
               (20, _sds(8, 1, 1)), (200, _sds(6, 1, 0)), (230, _sds(6, 1, 1))],  # period 1 min, sleep, work
    "sps30": [(1, b"\x7e\x00\x00\x02\x01\x03\xf9\x7e"), (3, b"\x7e\x00\x03\x00\xfc\x7e"),
              (3, b"\x7e\x00\x03\x00\xfc\x7e"), (9, b"\x7e\x00\x03\x00\xfc\x7e"),
              (20, b"\x7e\x00\x01\x00\xfe\x7e"), (21, b"\x7e\x00\x10\x00\xef\x7e"),
              (60, b"\xff\x7e\x00\x11\x00\xee\x7e\x7e\x00\x00\x02\x01\x03\xf9\x7e"),
              (70, b"\x7e\x00\x03\x00\xfc\x7e")],
    "ze03": [(4, bytes.fromhex("ff0178040000000083")), (5, bytes.fromhex("ff0186000000000079")),
             (40, bytes.fromhex("ff0178030000000084"))],
    "dgs": [(2, b"\r"), (5, b"c"), (40, b"c"), (45, b"s"), (80, b"x"), (81, b"c")],
}
FAULTS = [{}, {"split": 7, "noise": 0.1, "replies": 0.2, "bad": 0.1, "seed": 3}, {"stuck": True}]


def _listen(name, faults, hinted, seed):
    """What a reader polling at irregular times (1-60 ms apart, as a driver's loop) gets from
    one simulator, [(world us, bytes)], and how often it asked. *hinted*: it asks only once
    the simulator's quiet_until() has passed, or after it wrote a command (simlink's way)."""
    now = [T0 * S]
    sc = Scenario(clock=lambda: now[0], start=T0, seed=5, noise=0.05, **WORLD)
    peer = create(name, sc, faults=Faults(**faults))
    todo = list(SCHEDULES[name])
    rng = random.Random(seed)
    buf = bytearray(256)
    got, asked, quiet = [], 0, 0
    while now[0] < (T0 + 300) * S:
        now[0] += rng.randint(1000, 60000)
        while todo and todo[0][0] * S <= now[0] - T0 * S:
            peer.write(todo.pop(0)[1])
            quiet = 0
        if hinted and now[0] < quiet:
            continue
        asked += 1
        k = peer.readinto(buf, 256) if peer.any() else 0  # as simhost.py answers a read
        if k:
            got.append((now[0], bytes(buf[:k])))
        quiet = peer.quiet_until()
    return got, asked


@pytest.mark.parametrize("faults", FAULTS, ids=["clean", "faulty", "stuck"])
@pytest.mark.parametrize("name", sorted(SCHEDULES))
def test_a_quiet_hint_never_hides_a_byte(name, faults):
    every, n_every = _listen(name, faults, hinted=False, seed=11)
    hinted, n_hinted = _listen(name, faults, hinted=True, seed=11)
    assert every and hinted == every
    assert n_hinted < n_every / 2  # and most polls needed no question


TRACER = Path(__file__).parent / "simtrace"  # a simlink.py that wraps the build's with a trace
NODE = {"node": "vn-01", "key": "00" * 32, "uplinks": {"serial": {"retry_s": 300}},
        "sensors": {"pm": {"type": "pms5003", "uart": 1, "sample_s": 60},  # sleeps and wakes each window
                    "pm2": {"type": "sds011", "uart": 2, "period": 1},    # its own working period
                    "th": {"type": "sht3x", "i2c": 0},                     # its writes are answered
                    "so2": {"type": "isb", "model": "so2-b4", "i2c": 0, "addr": "0x48"}}}  # posted
NODE_WORLD = {"world": dict(WORLD, seed=2, noise=0.03, start=T0, loop=True),
              "sensors": {"pm": {"faults": {"split": 7, "noise": 0.05, "replies": 0.1, "bad": 0.05}}}}


def test_the_fast_link_gives_the_firmware_the_same_bytes(tmp_path, built_firmware, monkeypatch):
    """One simulated hour of a node with four sensors (one faulty, one duty-cycled, one in its own
    working period), on each path: every bus call the firmware made, at which world time and with
    what result, is the same; and the fast path asked the simulators fewer times. A third run on
    the fast path sends each I2C register read as its write and its read (two round trips, not
    one): the same calls again, and more questions."""
    from tynys.vnode import VirtualNode

    end = T0 + 3600
    traces, records, asked = {}, {}, {}
    entry = tmp_path / "entry" / "ports" / "unix"  # the node's main.py, beside the tracing simlink.py
    entry.mkdir(parents=True)
    shutil.copy(firmware.build() / "ports" / "unix" / "main.py", entry)
    shutil.copy(TRACER / "simlink.py", entry)
    for path in ("chatty", "fast", "split"):
        monkeypatch.setenv("TYNYS_SIMLINK", path)  # read by the simulators' process
        trace = tmp_path / f"{path}.trace"
        env = {"TYNYS_SIMLINK_TRACE": str(trace), **({"TYNYS_SIMLINK_SPLIT": "1"} if path == "split" else {})}
        vn = VirtualNode.create(tmp_path / path, NODE, scenario=NODE_WORLD, start=T0, end=end, heap="256K", env=env)
        monkeypatch.setattr(firmware, "BUILD", tmp_path / "entry")  # where the board finds main.py
        with vn.start():
            vn.wait_world(end, timeout=300)
        lines = trace.read_text().splitlines()
        traces[path] = [ln for ln in lines if int(ln.split()[0]) < end * S]
        records[path] = [ln for ln in vn.lines if ln.startswith(b"{")]
        monkeypatch.undo()
        counts = re.findall(r"simhost: (\d+): (\d+) requests", (tmp_path / path / "sim.log").read_text())
        asked[path] = max(int(n) for t, n in counts if int(t) < end)
    calls = traces["chatty"]
    assert len(calls) > 10000 and {ln.split()[1] for ln in calls} >= {"any", "read", "write", "open", "i2c-write", "i2c-read"}
    assert traces["fast"] == calls
    assert traces["split"] == calls
    assert asked["fast"] < asked["split"] - 1000  # the ADS1115's 720 readings a simulated hour, 4 register reads each
    # 15.2k against 24.7k on 2 Dec 2026 (93k before the firmware looked for a UART frame every 200 ms, not 20)
    assert asked["fast"] < 0.75 * asked["chatty"]
    # the records too, but for the free heap (the two paths' own objects differ by a few bytes in
    # the node's heap, where a board has no link at all) and so the signature
    strip = lambda line: {k: v for k, v in json.loads(line).items() if k not in ("health", "sig")}  # noqa: E731
    assert len(records["chatty"]) >= 11
    assert [strip(x) for x in records["fast"][:11]] == [strip(x) for x in records["chatty"][:11]]


@pytest.mark.skipif(len(getattr(os, "sched_getaffinity", lambda _: ())(0)) < 2, reason="needs two CPUs or more")
def test_a_node_and_its_simulators_share_one_cpu_and_nodes_share_the_cpus_out(tmp_path, built_firmware):
    """They take turns a round trip per bus transfer: on one CPU no turn has to wake another
    (docs/sim.md, "Speed"). Two nodes started one after the other get different CPUs."""
    from tynys.vnode import VirtualNode

    cpus = []
    for name in ("a", "b"):
        vn = VirtualNode.create(tmp_path / name, NODE, scenario=NODE_WORLD, start=T0, end=T0 + 60, heap="256K")
        with vn.start():
            vn.wait_world(T0 + 60, timeout=60)
            node, sims = (os.sched_getaffinity(p.pid) for p in (vn.board.proc, vn.board._sims))
        assert len(node) == 1 and node == sims
        cpus.append(node)
    assert cpus[0] != cpus[1]
