"""The host's signed replies (tynys.transport.reply) against the shared vectors the node's tests check."""

import json

import pytest

from tests.conftest import VECTORS
from tynys.transport import reply
from tynys.ingest import Outcome
from tynys.record import RecordError

pytestmark = pytest.mark.host

V = json.loads((VECTORS / "replies" / "reply-1.json").read_text())
KEY = bytes.fromhex(V["key"])


@pytest.mark.parametrize("case", V["build"], ids=lambda c: c["line"][:40])
def test_replies_are_built_byte_for_byte_as_the_vectors(case):
    line = reply.build(case["node"], KEY, case["acks"], now=case.get("now"), rejected=case.get("rejected"))
    assert line.decode() == case["line"]
    assert reply.verify(line, KEY)["ack"] == sorted(case["acks"])


@pytest.mark.parametrize("case", [c for c in V["check"] if not c["expect"][0]["ok"]], ids=lambda c: c["about"])
def test_refused_vectors_that_fail_their_signature_fail_here_too(case):
    line = case["lines"][0].encode()
    try:
        doc = reply.verify(line, KEY)
    except (RecordError, ValueError):
        return
    # signed with the node's key: the node refuses it for what it says, not for its signature
    assert doc.get("node") != V["node"] or not 0 <= doc["seq"] <= case["last_seq"] or any(a > doc["seq"] for a in doc["ack"])


def outcomes(node, seqs, status="stored"):
    return [Outcome(status, node, 1, s) for s in seqs]


def test_a_console_line_carries_what_fits_the_nodes_buffer():
    acks, docs = list(range(1000, 1100)), []
    while acks:
        line, carried = reply.console_line("osk-01", KEY, acks, now=1795813512)
        assert len(line) <= reply.SERIAL_MAX
        docs.append(reply.verify(line, KEY))
        acks = acks[len(carried):]
    assert len(docs) > 1 and [a for d in docs for a in d["ack"]] == list(range(1000, 1100))
    assert all(d["seq"] == max(d["ack"]) and d["time"] == 1795813512 for d in docs)


def test_nothing_to_acknowledge_means_no_signed_reply():
    refused = [Outcome("rejected", "osk-01", 1, 5, "bad_signature", "HMAC does not match")]
    assert reply.for_outcomes("osk-01", KEY, refused) is None
    body = json.loads(reply.http_body(lambda n: KEY, "osk-01", refused, 1795813512))
    assert body == {"ack": [], "rejected": [{"seq": 5, "reason": "bad_signature", "detail": "HMAC does not match"}],
                    "time": 1795813512}  # unsigned: the node obeys none of it


def test_an_http_answer_is_signed_for_the_node_named_and_carries_the_refusals():
    mixed = outcomes("osk-01", [3, 4]) + [Outcome("rejected", "osk-01", 1, 5, "schema", "t1 before t0"),
                                          Outcome("rejected", "osk-01", 1, 6, "bad_signature", "HMAC")]
    doc = reply.verify(reply.http_body(lambda n: KEY if n == "osk-01" else None, "osk-01", mixed, 1795813512), KEY)
    assert doc == {"node": "osk-01", "seq": 5, "ack": [3, 4, 5], "time": 1795813512,  # schema: refused for good
                   "rejected": [{"seq": 5, "reason": "schema"}, {"seq": 6, "reason": "bad_signature"}]}
    # records of another node acknowledged in the same POST: no one node's signed reply
    other = outcomes("osk-01", [3]) + outcomes("osk-02", [9])
    assert "sig" not in json.loads(reply.http_body(lambda n: KEY, None, other, 1795813512))
