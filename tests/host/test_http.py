"""HTTP ingest: acknowledgements, size limits (a 10 MB POST), strict framing, clear status codes,
slow and vanishing clients, status for this machine or a token holder, busy."""

from __future__ import annotations

import http.client
import json
import logging
import socket
import sqlite3
import threading
import time

import pytest
from factory import KEY, FakeNode, make_line

from tynys.transport import reply
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


def post(srv, body: bytes, headers=None, path="/api/v1/records", host=None):
    conn = http.client.HTTPConnection(host or srv.server_address[0], srv.server_address[1], timeout=30)
    h = {"Content-Type": "application/x-ndjson"}
    h.update(headers or {})
    conn.request("POST", path, body=body, headers=h)
    r = conn.getresponse()
    data = r.read()
    conn.close()
    return r.status, dict(r.getheaders()), json.loads(data) if data else None


def get(srv, path, headers=None, host=None):
    conn = http.client.HTTPConnection(host or srv.server_address[0], srv.server_address[1], timeout=30)
    conn.request("GET", path, headers=headers or {})
    r = conn.getresponse()
    doc = json.loads(r.read())
    conn.close()
    return r.status, doc


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


def test_a_post_of_junk_gets_a_short_answer(server):
    status, _, doc = post(server, b"\n".join(b"junk %d " % i + b"x" * 100 for i in range(100)))
    assert status == 200 and doc["ack"] == []
    assert len(doc["rejected"]) == 20 and doc["rejected_more"] == 80
    assert len(json.dumps(doc)) < 5000


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
    # without Expect, the answer still comes after the headers, not after 10 MB (which never come)
    head = b"POST /api/v1/records HTTP/1.1\r\nHost: x\r\nContent-Length: 10485760\r\n\r\n"
    assert _raw(server, head + b"x" * 1000, read_timeout=20).startswith(b"HTTP/1.1 413 ")


def test_expect_100_continue_then_the_body(server):
    line = make_line("osk-03", KEY, 1) + b"\n"
    s = socket.create_connection(server.server_address[:2], timeout=10)
    s.sendall(b"POST /api/v1/records HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\nExpect: 100-continue\r\n\r\n" % len(line))
    assert s.recv(100).startswith(b"HTTP/1.1 100 Continue\r\n\r\n")
    s.sendall(line)
    f = s.makefile("rb")
    assert f.readline().startswith(b"HTTP/1.1 200 ")
    s.close()


def _answer(srv, head: bytes) -> tuple[int, dict]:
    s = socket.create_connection(srv.server_address[:2], timeout=10)
    s.sendall(head)
    f = s.makefile("rb")
    code = int(f.readline().split()[1])
    length = 0
    while (line := f.readline()) not in (b"\r\n", b""):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":")[1])
    doc = json.loads(f.read(length))
    s.close()
    return code, doc


@pytest.mark.parametrize("head,code,detail", [
    (b"POST /api/v1/records HTTP/1.1\r\nHost: x\r\n\r\n", 411, "Content-Length is required"),
    (b"POST /api/v1/records HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 411,
     "chunked bodies are not accepted: send Content-Length"),
    (b"POST /api/v1/records HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Type: multipart/form-data\r\n\r\nab", 415,
     "Content-Type 'multipart/form-data': send application/x-ndjson, one record per line"),
    (b"POST /api/v1/records HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nX-Tynys-Node: a/b\r\n\r\nab", 400,
     "X-Tynys-Node 'a/b' is not a node id"),
    (b"POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n", 404, "no such path '/upload': POST records to /api/v1/records"),
    (b"GET /api/v1/records HTTP/1.1\r\nHost: x\r\n\r\n", 405, "POST records here (application/x-ndjson, one record per line)"),
    (b"DELETE /api/v1/records HTTP/1.1\r\nHost: x\r\n\r\n", 405, "use POST /api/v1/records or GET /api/v1/status"),
], ids=["no-length", "chunked", "multipart", "bad-node-header", "wrong-path", "get-records", "delete"])
def test_clear_status_codes(server, head, code, detail):
    assert _answer(server, head) == (code, {"error": __import__("http").HTTPStatus(code).phrase, "detail": detail})


@pytest.mark.parametrize("length", [b"Content-Length: -5", b"Content-Length: 1_0", b"Content-Length: 0x10",
                                    b"Content-Length: 2\r\nContent-Length: 2", b"Content-Length: 2\r\nContent-Length: 3",
                                    b"Content-Length: 2\r\nTransfer-Encoding: chunked"],
                         ids=["negative", "underscore", "hex", "twice-same", "twice-different", "with-chunked"])
def test_malformed_framing_is_a_400_and_counted(server, length, caplog):
    caplog.set_level(logging.DEBUG)
    code, doc = _answer(server, b"POST /api/v1/records HTTP/1.1\r\nHost: x\r\n" + length + b"\r\n\r\nab")
    assert code == 400 and doc["detail"].startswith("malformed HTTP request: ")
    assert server.counts["malformed_http"] == 1 and server.counts["posts"] == 0
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING or r.exc_info]


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


def _lan_address() -> str | None:
    """This machine's address on a network interface (not loopback), if it has one."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("203.0.113.1", 9))  # a documentation address; nothing is sent: this only picks the interface
            addr = s.getsockname()[0]
        except OSError:
            return None
    return None if addr.startswith("127.") else addr


@pytest.mark.parametrize("token", [None, "s3cret-token"])
def test_status_answers_this_machine_or_a_token_holder(city, token):
    lan = _lan_address()
    if lan is None:
        pytest.skip("this machine has no network address besides loopback to ask from")
    with Collector(city.ingestor(now=time.time)) as col:
        srv = RecordServer(("0.0.0.0", 0), col, status_token=token).start()
        try:
            assert get(srv, "/api/v1/status", host="127.0.0.1")[0] == 200
            status, doc = get(srv, "/api/v1/status", host=lan)
            assert status == 403 and "answers this machine only" in doc["detail"] and "osk" not in json.dumps(doc)
            if token:
                assert get(srv, "/api/v1/status", {"Authorization": "Bearer wrong"}, host=lan)[0] == 403
                assert get(srv, "/api/v1/status", {"Authorization": f"Bearer {token}"}, host=lan)[0] == 200
            # writing is not guarded by the token: the records' signatures guard it
            assert post(srv, make_line("osk-03", KEY, 1) + b"\n", host=lan)[2]["ack"] == [1]
        finally:
            srv.stop()


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


def _slow_store(ing, release: threading.Event):
    """Make every commit wait for *release* (a disk that cannot keep up)."""
    inner = ing.ingest_many
    ing.ingest_many = lambda batches: (release.wait(30), inner(batches))[1]


def test_slow_clients_do_not_lock_nodes_out(city):
    """500 connections dribbling a request head (one header line now and then) take no slot a
    node needs: the oldest idle ones make room, and a valid POST is stored and answered."""
    with Collector(city.ingestor(now=time.time)) as col:
        srv = RecordServer(("127.0.0.1", 0), col, max_clients=64).start()
        slow = []
        try:
            for i in range(500):
                s = socket.create_connection(srv.server_address[:2], timeout=10)
                s.sendall(b"POST /api/v1/records HTTP/1.1\r\nHost: x\r\n")
                slow.append(s)
            for s in slow[-64:]:
                s.sendall(b"X-Slow: 1\r\n")
            status, _, doc = post(srv, make_line("osk-03", KEY, 1) + b"\n")
            assert status == 200 and doc["ack"] == [1]
            assert srv.counts["evicted"] >= 500 - 64
        finally:
            for s in slow:
                s.close()
            srv.stop()


def test_when_every_slot_is_serving_a_new_connection_gets_503(city):
    release = threading.Event()
    ing = city.ingestor(now=time.time)
    _slow_store(ing, release)
    with Collector(ing) as col:
        srv = RecordServer(("127.0.0.1", 0), col, max_clients=2).start()
        results = []
        posts = [threading.Thread(target=lambda s=s: results.append(post(srv, make_line("osk-03", KEY, s) + b"\n")))
                 for s in (1, 2)]
        try:
            [t.start() for t in posts]
            deadline = time.monotonic() + 20
            while col.stats()["queued"] < 2 and time.monotonic() < deadline:  # both POSTs are being stored
                time.sleep(0.01)
            assert _raw(srv, b"GET /api/v1/status HTTP/1.1\r\nHost: x\r\n\r\n").startswith(b"HTTP/1.1 503 ")
            release.set()
            [t.join(30) for t in posts]
            assert sorted(r[2]["ack"] for r in results) == [[1], [2]]
            assert _raw(srv, b"GET /api/v1/status HTTP/1.1\r\nHost: x\r\n\r\n").startswith(b"HTTP/1.1 200 ")
        finally:
            release.set()
            srv.stop()


def test_a_vanished_client_is_counted_not_a_traceback(city, caplog):
    caplog.set_level(logging.DEBUG)
    release = threading.Event()
    ing = city.ingestor(now=time.time)
    _slow_store(ing, release)
    with Collector(ing) as col:
        srv = RecordServer(("127.0.0.1", 0), col).start()
        try:
            line = make_line("osk-03", KEY, 1) + b"\n"
            s = socket.create_connection(srv.server_address[:2], timeout=10)  # gone mid-body
            s.sendall(b"POST /api/v1/records HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % len(line) + line[:20])
            s.close()
            s = socket.create_connection(srv.server_address[:2], timeout=10)  # gone while its records are stored
            s.sendall(b"POST /api/v1/records HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % len(line) + line)
            deadline = time.monotonic() + 20
            while col.stats()["queued"] < 1 and time.monotonic() < deadline:
                time.sleep(0.01)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")  # reset, not FIN
            s.close()
            release.set()
            deadline = time.monotonic() + 20
            while srv.counts["vanished"] < 2 and time.monotonic() < deadline:
                time.sleep(0.01)
            assert srv.counts["vanished"] == 2
            assert city.store.stats()["records"] == 1  # stored (not acknowledged: the node resends, deduplicated)
        finally:
            release.set()
            srv.stop()
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING or r.exc_info]


def test_a_store_slower_than_the_wait_answers_503_and_the_resend_is_acknowledged(city):
    release = threading.Event()
    ing = city.ingestor(now=time.time)
    _slow_store(ing, release)
    col = Collector(ing)
    srv = RecordServer(("127.0.0.1", 0), col, wait=0.2).start()
    try:
        line = make_line("osk-03", KEY, 1)
        status, headers, doc = post(srv, line + b"\n", {"X-Tynys-Node": "osk-03"})
        assert (status, headers["Retry-After"]) == (503, "10")
        assert doc["detail"] == "not stored within 0.2 s; resend later (a resend is deduplicated)"
        release.set()
        deadline = time.monotonic() + 20
        while col.stats()["queued"] and time.monotonic() < deadline:  # the first copy is stored meanwhile
            time.sleep(0.01)
        srv.wait = 5
        assert post(srv, line + b"\n", {"X-Tynys-Node": "osk-03"})[2]["ack"] == [1]  # the resend: a replay, acknowledged
    finally:
        release.set()
        srv.stop()
        col.close()
    assert city.store.conn.execute("SELECT COUNT(*) FROM records").fetchone() == (1,)
