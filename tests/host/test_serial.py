"""Serial ingest over real ptys: noise, partial and malformed lines, signed replies, unplug and replug."""

from __future__ import annotations

import time

import pytest
from factory import KEY, FakeNode, make_line
from ptys import PtyNode

from tynys.ingest import Collector
from tynys.transport.serialport import SerialIngest

pytestmark = pytest.mark.host


@pytest.fixture
def serial_city(city):
    col = Collector(city.ingestor(now=time.time))
    yield city, col
    col.close()


def count(city, sql="SELECT COUNT(*) FROM records"):
    return city.store.conn.execute(sql).fetchone()[0]


def start(col, ports, **kw):
    ing = SerialIngest(col, [str(p) for p in ports], reopen_every=0.1, **kw).start()
    for link in ing.links:
        assert link.connected.wait(10), link.port
    return ing


def test_records_among_console_noise_are_stored_and_acknowledged(serial_city, tmp_path):
    city, col = serial_city
    node = PtyNode(tmp_path / "ttyNODE", KEY)
    ing = start(col, [node.link])
    try:
        fake = FakeNode("osk-03", KEY)
        recs = fake.produce(3)
        forged = make_line("osk-03", bytes(32), 99)
        node.write(b"ets Jun  8 2016 00:22:57\r\nrst:0x1 (POWERON_RESET)\r\n>>> \r\n\r\n" + recs[0] + b"\r\n"
                   + b'{"v":1,"node":"osk-03","bo\r\n' + recs[1] + b"\n" + b"I (812) wifi: connected\n" + forged + b"\n"
                   + recs[2][:50])
        node.write(recs[2][50:] + b"\r\n")  # a record split over two writes
        assert node.wait_for(lambda: sorted(node.acked()) == [0, 1, 2])
        assert all(d["node"] == "osk-03" and abs(d["time"] - time.time()) < 5 for d in node.replies())
        assert count(city) == 3
        assert [r[0] for r in city.store.conn.execute("SELECT reason FROM rejects ORDER BY id")] == ["malformed", "bad_signature"]
        c = ing.counts()[str(node.link)]
        assert (c["records"], c["noise"], c["acked"]) == (5, 4, 3)
        assert 99 not in node.acked()  # a forgery is never acknowledged
    finally:
        ing.stop()
        node.close()


def test_reconnects_after_the_pty_closes(serial_city, tmp_path):
    city, col = serial_city
    node = PtyNode(tmp_path / "ttyNODE", KEY)
    ing = start(col, [node.link])
    link = ing.links[0]
    try:
        fake = FakeNode("osk-03", KEY)
        for line in fake.produce(2):
            node.write(line + b"\n")
        assert node.wait_for(lambda: sorted(node.acked()) == [0, 1])
        node.write(fake.produce(1)[0][:80])  # cut by the unplug: never acknowledged, so resent
        time.sleep(0.3)
        node.replug()
        deadline = time.monotonic() + 10
        while link.counts["opened"] < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert link.counts["opened"] == 2 and link.counts["lost"] == 1 and link.counts["partial"] == 1
        for line in fake.pending():
            node.write(line + b"\n")
        assert node.wait_for(lambda: 2 in node.acked())
        assert count(city) == 3
    finally:
        ing.stop()
        node.close()


def test_two_ports_at_once_and_an_overlong_line(serial_city, tmp_path):
    city, col = serial_city
    a, b = PtyNode(tmp_path / "ttyA", KEY), PtyNode(tmp_path / "ttyB", city.keys.get("osk-01"))
    ing = start(col, [a.link, b.link])
    try:
        fa, fb = FakeNode("osk-03", KEY), FakeNode("osk-01", city.keys.get("osk-01"))
        a.write(b"{" + b"x" * 70_000)  # no newline in sight: dropped without holding memory
        a.write(b"\n" + b"\n".join(fa.produce(20)) + b"\n")
        b.write(b"\n".join(fb.produce(20)) + b"\n")
        assert a.wait_for(lambda: len(a.acked()) == 20) and b.wait_for(lambda: len(b.acked()) == 20)
        assert count(city) == 40
        assert ing.counts()[str(a.link)]["overlong"] == 1
        refused = city.store.rejects()  # the operator sees it in `tynys db rejects`, not only in a counter
        assert [(r["reason"], r["transport"]) for r in refused] == [("malformed", "serial")]
        assert "longer than the" in refused[0]["detail"]
    finally:
        ing.stop()
        a.close()
        b.close()


def test_many_acknowledgements_go_in_short_signed_lines(serial_city, tmp_path):
    # a board's console input ring holds 259 bytes and is read once a pass of its loop
    city, col = serial_city
    node = PtyNode(tmp_path / "ttyNODE", KEY)
    ing = start(col, [node.link], set_time=False, gap=0.3)
    try:
        fake = FakeNode("osk-03", KEY)
        node.write(b"\n".join(fake.produce(60)) + b"\n")
        assert node.wait_for(lambda: sorted(node.acked()) == list(range(60)), timeout=20)
        lines = [x for x in node.received if x.startswith("{")]
        assert len(lines) >= 2 and all(len(x) <= 250 for x in lines)
        assert all("time" not in d for d in node.replies())  # --no-time
    finally:
        ing.stop()
        node.close()


def test_watch_only_sends_nothing(city, tmp_path):
    node = PtyNode(tmp_path / "ttyNODE")
    seen = []
    ing = SerialIngest(None, [str(node.link)], reopen_every=0.1, on_records=lambda port, lines: seen.extend(lines)).start()
    try:
        assert ing.links[0].connected.wait(10)
        line = make_line("osk-03", KEY, 1)
        node.write(line + b"\n")
        deadline = time.monotonic() + 10
        while not seen and time.monotonic() < deadline:
            time.sleep(0.05)
        assert seen == [line]
        node.pump(0.3)
        assert node.received == []
    finally:
        ing.stop()
        node.close()
