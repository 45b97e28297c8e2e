"""The record contract on the host side: shared vectors verify, validate and fail as documented.
(The RFC 4231 HMAC vectors are checked where the HMAC is ours: on the node, tests/firmware.)"""

import json

import pytest

from tests.conftest import VECTORS
from tynys import record

pytestmark = pytest.mark.host

INVALID = json.loads((VECTORS / "records" / "record-1.json").read_text())["invalid"]


def test_valid_vectors_verify_and_validate(record_vectors):
    key = bytes.fromhex(record_vectors["key"])
    for line in record_vectors["valid"]:
        body = record.verify(line.encode(), key)
        record.validate(body)
        assert "sig" not in body
        assert all("." in name for name in record.channels(body))


@pytest.mark.parametrize("v", INVALID, ids=[v["why"] for v in INVALID])
def test_invalid_vectors_are_refused_with_their_reason(record_vectors, v):
    key = bytes.fromhex(record_vectors["key"])
    with pytest.raises(record.RecordError) as e:
        record.validate(record.verify(v["line"].encode(), key))
    assert e.value.reason == v["reason"], v["why"]


def test_sign_then_verify_round_trip_keeps_the_bytes():
    key = b"k" * 32
    line = record.sign(b'{"v":1,"x":1.10}', key)
    signed, sig = record.split(line)
    assert signed == b'{"v":1,"x":1.10}'  # float text kept as sent
    assert record.verify(line, key) == {"v": 1, "x": 1.1}
