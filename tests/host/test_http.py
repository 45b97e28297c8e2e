"""HTTP ingest: acknowledgements, size limits (a 10 MB POST), clear status codes, status, busy."""

from __future__ import annotations

import http.client
import json
import socket
import sqlite3
import time

import pytest
from factory import KEY, FakeNode, make_line

from tynys import reply
from tynys.ingest import Collector, Ingestor
from tynys.store import Store
from tynys.transport.httpserver import RecordServer

pytestmark = pytest.mark.host


@pytest.fixture
def server(city):
    col = Collector(city.ingestor(now=time.time))
    srv = RecordServer(("127.0.0.1", 0), col, max_body=1 << 20, max_records=100, max_clients=8).start()
    yield srv
    srv.stop()
    col.close()


def post(srv, body: bytes, headers=None, path="/api/v1/records"):
    conn = http.client.HTTPConnection(*srv.server_address[:2], timeout=30)
    h = {"Content-Type": "application/x-ndjson"}
    h.update(headers or {})
    conn.request("POST", path, body=body, headers=h)
    r = conn.getresponse()
    data = r.read()
    conn.close()
    return r.status, dict(r.getheaders()), json.loads(data) if data else None


def test_post_acknowledges_stored_and_names_refusals(server, city):
    node = FakeNode("osk-03", KEY)
    lines = node.produce(5)
    forged = make_line("osk-03", bytes(32), 77)
    status, headers, doc = post(server, b"\n".join(lines + [b"garbage", forged, lines[0]]) + b"\n", {"X-Tynys-Node": "osk-03"})
    assert status == 200 and headers["Content-Type"] == "application/json"
    assert reply.verify(json.dumps(doc, separators=(",", ":")).encode(), KEY) == {k: v for k, v in doc.items() if k != "sig"}
    assert doc["node"] == "osk-03" and doc["seq"] == 4  # signed for the node (docs/record.md, "Replies")
    assert doc["ack"] == [0, 1, 2, 3, 4]  # the resent seq 0 is already stored: acknowledged again
    assert [(r["seq"], r["reason"]) for r in doc["rejected"]] == [(None, "malformed"), (77, "bad_signature")]
    assert abs(doc["time"] - time.time()) < 5
    assert city.store.stats()["records"] == 5


def test_header_naming_another_node_is_refused(server):
    status, _, doc = post(server, make_line("osk-03", KEY, 1) + b"\n", {"X-Tynys-Node": "osk-02"})
    assert status == 200 and doc["ack"] == [] and "sig" not in doc  # nothing signed: no node obeys it
    assert doc["rejected"] == [{"seq": 1, "reason": "node_mismatch", "detail": "record of node 'osk-03' arrived as node 'osk-02'"}]


def test_10_megabyte_post_gets_413_and_the_server_keeps_running(server, city):
    status, headers, doc = post(server, b"x" * (10 << 20))
    assert status == 413 and headers["Connection"] == "close"
    assert doc == {"error": "Request Entity Too Large",
                   "detail": f"body of {10 << 20} bytes is larger than the {1 << 20} byte limit: post fewer records at a time"}
    assert post(server, make_line("osk-03", KEY, 1) + b"\n")[0] == 200
    assert city.store.stats()["records"] == 1


def _raw(srv, data: bytes, read_timeout=5) -> bytes:
    s = socket.create_connection(srv.server_address[:2], timeout=read_timeout)
    s.sendall(data)
    out = b""
    try:
        while b"\r\n\r\n" not in out:
            chunk = s.recv(65536)
            if not chunk:
                break
            out += chunk
    finally:
        s.close()
    return out


def test_oversized_post_is_answered_before_the_body_is_sent(server):
    head = b"POST /api/v1/records HTTP/1.1\r\nHost: x\r\nContent-Length: 10485760\r\nExpect: 100-continue\r\n\r\n"
    assert _raw(server, head).startswith(b"HTTP/1.1 413 ")
    # without Expect, the answer still comes at once, after the headers, not after 10 MB
    head = b"POST /api/v1/records HTTP/1.1\r\nHost: x\r\nContent-Length: 10485760\r\n\r\n"
    t = time.monotonic()
    assert _raw(server, head + b"x" * 1000).startswith(b"HTTP/1.1 413 ")
    assert time.monotonic() - t < 4


@pytest.mark.parametrize("head,code,detail", [
    (b"POST /api/v1/records HTTP/1.1\r\nHost: x\r\n\r\n", 411, "Content-Length is required"),
    (b"POST /api/v1/records HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 411,
     "chunked bodies are not accepted: send Content-Length"),
    (b"POST /api/v1/records HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n", 400, "Content-Length '-5' is not a byte count"),
    (b"POST /api/v1/records HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Type: multipart/form-data\r\n\r\nab", 415,
     "Content-Type 'multipart/form-data': send application/x-ndjson, one record per line"),
    (b"POST /api/v1/records HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nX-Tynys-Node: a/b\r\n\r\nab", 400,
     "X-Tynys-Node 'a/b' is not a node id"),
    (b"POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n", 404, "no such path '/upload': POST records to /api/v1/records"),
    (b"GET /api/v1/records HTTP/1.1\r\nHost: x\r\n\r\n", 405, "POST records here (application/x-ndjson, one record per line)"),
    (b"DELETE /api/v1/records HTTP/1.1\r\nHost: x\r\n\r\n", 405, "use POST /api/v1/records or GET /api/v1/status"),
], ids=["no-length", "chunked", "negative-length", "multipart", "bad-node-header", "wrong-path", "get-records", "delete"])
def test_clear_status_codes(server, head, code, detail):
    s = socket.create_connection(server.server_address[:2], timeout=5)
    s.sendall(head)
    f = s.makefile("rb")
    assert f.readline().split()[1] == str(code).encode()
    length = 0
    while (line := f.readline()) not in (b"\r\n", b""):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":")[1])
    assert json.loads(f.read(length))["detail"] == detail
    s.close()


def test_too_many_records_in_one_post(server):
    lines = FakeNode("osk-03", KEY).produce(101)
    status, _, doc = post(server, b"\n".join(lines))
    assert (status, doc["detail"]) == (413, "101 records in one POST; at most 100")


def test_keep_alive_and_status(server, city):
    conn = http.client.HTTPConnection(*server.server_address[:2], timeout=10)
    for seq in (1, 2):
        conn.request("POST", "/api/v1/records", body=make_line("osk-03", KEY, seq) + b"\n")
        r = conn.getresponse()
        assert r.status == 200 and json.loads(r.read())["ack"] == [seq]
    conn.request("GET", "/api/v1/status")
    r = conn.getresponse()
    doc = json.loads(r.read())
    assert r.status == 200 and doc["status"] == "ok"
    assert doc["collector"]["outcomes"] == {"stored": 2}
    assert {n["node"]: n["last_transport"] for n in doc["nodes"]} == {"osk-01": None, "osk-02": None, "osk-03": "http"}


def test_busy_store_answers_503_and_nothing_is_acknowledged(city):
    ing = Ingestor(Store.open(city.db, timeout=0.1), city.keys)
    with Collector(ing) as col:
        srv = RecordServer(("127.0.0.1", 0), col).start()
        try:
            blocker = sqlite3.connect(city.db, isolation_level=None)
            blocker.execute("BEGIN IMMEDIATE")
            status, headers, doc = post(srv, make_line("osk-03", KEY, 1) + b"\n")
            assert status == 503 and headers["Retry-After"] == "30" and "resend later" in doc["detail"]
            blocker.execute("ROLLBACK")
            assert post(srv, make_line("osk-03", KEY, 1) + b"\n")[2]["ack"] == [1]
        finally:
            srv.stop()


def test_too_many_connections_get_503_at_once(city):
    with Collector(city.ingestor(now=time.time)) as col:
        srv = RecordServer(("127.0.0.1", 0), col, max_clients=2).start()
        idle = [socket.create_connection(srv.server_address[:2]) for _ in range(2)]
        try:
            time.sleep(0.2)
            assert _raw(srv, b"GET /api/v1/status HTTP/1.1\r\nHost: x\r\n\r\n").startswith(b"HTTP/1.1 503 ")
            for s in idle:
                s.close()
            time.sleep(0.2)
            assert _raw(srv, b"GET /api/v1/status HTTP/1.1\r\nHost: x\r\n\r\n").startswith(b"HTTP/1.1 200 ")
        finally:
            srv.stop()


def test_a_store_slower_than_the_wait_answers_503_and_the_resend_is_acknowledged(city):
    ing = city.ingestor(now=time.time)
    slow = ing.ingest_many
    ing.ingest_many = lambda batches: (time.sleep(1.0), slow(batches))[1]
    col = Collector(ing)
    srv = RecordServer(("127.0.0.1", 0), col, wait=0.2).start()
    try:
        line = make_line("osk-03", KEY, 1)
        status, headers, doc = post(srv, line + b"\n", {"X-Tynys-Node": "osk-03"})
        assert (status, headers["Retry-After"]) == (503, "10")
        assert doc["detail"] == "not stored within 0.2 s; resend later (a resend is deduplicated)"
        time.sleep(1.0)  # the first copy is stored meanwhile; the resend is a replay, acknowledged
        srv.wait = 5
        assert post(srv, line + b"\n", {"X-Tynys-Node": "osk-03"})[2]["ack"] == [1]
    finally:
        srv.stop()
        col.close()
    assert city.store.conn.execute("SELECT COUNT(*) FROM records").fetchone() == (1,)
