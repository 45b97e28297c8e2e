"""A virtual node run 60 times faster than real time (``tynys vnode run --speed 60``) collected
by the real host over serial (``tynys ingest serial``: each signed reply carries the host's time,
which the node takes, and the host judges windows by its own clock). Its clock runs ahead of the
host's between replies: once 10 of 14 windows were refused as ``clock`` and, being acknowledged,
deleted by the node. Now every window is stored (one ending too far ahead is kept pending, with
the reason) and acknowledged; none is lost."""

import time

import pytest

from tynys.ingest import Collector, Ingestor
from tynys.keys import KeyFile
from tynys.registry import add_node
from tynys.store import Store
from tynys.transport.serialport import SerialIngest

from .conftest import KEY, config

pytestmark = pytest.mark.e2e


def test_a_node_running_60_times_real_time_keeps_all_its_windows(make_node, tmp_path):
    store = Store.open(tmp_path / "city.db")
    keys = KeyFile(tmp_path / "city.keys")
    add_node(store, keys, "vn-01", key=bytes.fromhex(KEY))
    vn = make_node(config(), vtime="60", start=int(time.time()))
    with Collector(Ingestor(store, keys)) as col:  # the host's own clock, as tynys ingest serial
        vn.start()
        ing = SerialIngest(col, [vn.port]).start()
        deadline = time.monotonic() + 240
        while store.stats()["records"] < 14:
            assert time.monotonic() < deadline, f"{store.stats()['records']} of 14 windows stored in 240 s"
            time.sleep(0.2)
        ing.stop()
    vn.write(b"\x03")
    vn.expect(rb">>> $", timeout=30)
    vn.write(b"print('SPOOL', n.spool.count, n.spool.last_seq + 1)\r")
    left, made = (int(x) for x in vn.expect(rb"^SPOOL (\d+) (\d+)", timeout=30).groups())
    s = store.stats()
    assert s["rejected"] == s["rejected_by_reason"].get("replay", 0)  # nothing refused
    rows = store.conn.execute("SELECT seq, clock, timing, timing_note FROM records ORDER BY seq").fetchall()
    assert [r[0] for r in rows] == list(range(len(rows)))
    assert made - len(rows) <= left + 1  # what the node made and does not hold any more is stored
    clocks = [r[1] for r in rows]
    assert "host" in clocks and set(clocks[clocks.index("host"):]) == {"host"}  # the host's replies set its clock
    pending = [note for _, clock, timing, note in rows if clock == "host" and timing == "pending"]
    assert all("ahead of the host clock" in n or "s after the host clock" in n for n in pending), pending
    assert s["pending_clock"] == len(pending)
    store.close()
