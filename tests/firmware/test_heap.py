"""The node's heap margin with a host acknowledging every record: the demo's typical serial node
(tynys sim: PMS5003 + SHT3x + SO2-B4 on ISB/ADS1115, sensors simulated byte for byte), as .mpy
on the MicroPython unix port in a 96 KB heap, its console read by the real host (SerialIngest)
for 12 simulated hours. The node's own loop runs; ports/unix/measure.py (TYNYS_MEASURE=peaks)
measures each host reply and each window close alone (a collection first, the collector off
during the call): the bytes it allocates and the free heap left at its peak. docs/node.md,
"Memory", quotes the figures."""

from __future__ import annotations

import json
import time

import pytest

from tynys.ingest import Collector, Ingestor
from tynys.keys import KeyFile
from tynys.sim import Endpoints, create_node, node_config, plan, register
from tynys.store import Store
from tynys.transport.serialport import SerialIngest

pytestmark = pytest.mark.firmware

HOURS = 12
# Measured on the 64-bit unix port (objects about twice an ESP32's size), 2 Dec 2026, with what
# measuring holds itself (about 2 KB) still in the heap: least free heap at a reply's or serial send's
# peak about 8.5 KB, at a window's end about 12.6 KB; a reply of one ack allocates about 3.3 KB
# on average (the checker's code, loaded for it, is 1.3 KB of that), each further seq it frees
# about 0.5 KB (the next record's length is read from flash); a record sent over serial about
# 0.9 KB. The bounds leave room for noise, not for a regression of a buffer.
LEAST_FREE = 6 * 1024  # bytes free at any reply's or serial send's peak
LEAST_AT_END = 9 * 1024  # bytes free at a window's end (health.heap_free), measuring included
REPLY = 3700  # bytes one reply allocates on average, beside...
PER_ACK = 640  # ...each seq beyond its first
PER_RECORD = 1280  # bytes a serial pass allocates per record it writes


def test_heap_margin_over_a_long_run_with_acks(built_firmware, tmp_path):
    start = (int(time.time()) // 86400 - 3) * 86400  # midnight three days ago: the host's past
    p = plan("oskemen", 1, HOURS, "inversion", "serial", start=start)[0]
    store = Store.open(tmp_path / "city.db")
    keys = KeyFile(tmp_path / "city.keys")
    key = register(store, keys, [p], installed=start)[p.node]
    vn = create_node(p, node_config(p, key, Endpoints()), tmp_path / "node", start, HOURS, heap="96K",
                     env={"TYNYS_MEASURE": "peaks"})
    windows = HOURS * 12
    try:
        with Collector(Ingestor(store, keys, now=lambda: vn.world_time())) as col:
            vn.start()
            ing = SerialIngest(col, [vn.port], gap=0.2).start()  # replies of a few acks each, and many
            vn.wait_world(start + HOURS * 3600, timeout=600)
            deadline = time.monotonic() + 120
            while store.stats()["records"] < windows:
                assert time.monotonic() < deadline, f"{store.stats()['records']} of {windows} records stored"
                time.sleep(0.2)
            time.sleep(2)  # the last replies typed and read
            ing.stop()
        vn.write(b"\x03")
        vn.expect(rb">>> $", timeout=20)
        vn.write(b"import measure; measure.peaks(); print('SPOOL', n.spool.count)\r")
        line = vn.expect(rb"^peaks .*", timeout=20).group(0).decode()
        spooled = int(vn.expect(rb"^SPOOL (\d+)", timeout=20).group(1))
    finally:
        vn.stop()
    m = dict(zip(line.split()[1::2], map(int, line.split()[2::2])))
    rows = [json.loads(raw) for (raw,) in store.conn.execute("SELECT raw FROM records ORDER BY seq")]
    store.close()
    least_at_close = min(r["health"]["heap_free"] for r in rows)
    print(line, "least heap_free at a window's end", least_at_close)
    assert not any(b"MemoryError" in x for x in vn.lines), "the node ran out of heap"
    assert vn.resets == ["soft"], vn.resets  # the one after its config check, no crash
    assert len(rows) >= windows and m["replies"] >= 20 and m["sends"] >= 20
    assert spooled <= 1, "the host's replies did not free the spool"  # the newest may wait for its reply
    assert least_at_close >= LEAST_AT_END, "free heap at a window's end (health.heap_free)"
    assert m["least_free"] >= LEAST_FREE, line
    assert m["reply_sum"] <= REPLY * m["replies"] + PER_ACK * (m["acks"] - m["replies"]), line
    assert m["reply_max"] <= REPLY + 1536 + PER_ACK * (m["reply_max_acks"] - 1), line  # +1.5 KB: a segment ends
    assert m["send_sum"] <= PER_RECORD * m["send_records"], line
