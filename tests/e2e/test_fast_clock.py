"""A virtual node run 60 times faster than real time (``tynys vnode run --speed 60``) collected
by the real host over serial (``tynys ingest serial``: every signed reply carries the host's clock
and the host judges windows by its own clock). Between replies the node's clock runs ahead of the
host's: once 10 of 14 windows were refused as ``clock`` and, being acknowledged, deleted by the
node. Now every window is stored (on the node's time, or pending with the reason when it ends too
far ahead) and acknowledged; none is lost."""

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
        while store.stats()["records"] < 40 and time.monotonic() < deadline:
            time.sleep(0.2)
        ing.stop()
    vn.write(b"\x03")
    vn.expect(rb">>> $", timeout=30)
    vn.write(b"print('SPOOL', n.spool.count, n.spool.last_seq + 1)\r")
    left, made = (int(x) for x in vn.expect(rb"^SPOOL (\d+) (\d+)", timeout=30).groups())
    s = store.stats()
    assert s["rejected"] == s["rejected_by_reason"].get("replay", 0)  # nothing refused
    seqs = [r[0] for r in store.conn.execute("SELECT seq FROM records ORDER BY seq")]
    assert seqs == list(range(len(seqs)))
    assert made - len(seqs) <= left + 1  # what the node made and does not hold any more is stored
    assert len(seqs) >= 40
    timed = store.conn.execute("SELECT timing, timing_note FROM records WHERE clock = 'host'").fetchall()
    assert len(timed) >= 30  # on the host's time after the first reply
    ahead = [n for t, n in timed if t == "pending"]
    assert all(t in ("node", "pending") for t, _ in timed)
    assert all("s after the host clock" in n or "ahead of the host clock" in n for n in ahead), ahead[:1]
    assert s["pending_clock"] == len(ahead)
    store.close()
