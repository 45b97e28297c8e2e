"""The record contract on the host side: shared vectors verify, validate and fail as documented,
and the one-pass decoder accepts and refuses exactly what the published JSON Schema does."""

import functools
import hashlib
import hmac
import json
from pathlib import Path

import pytest

from tynys import record

pytestmark = pytest.mark.host

VECTORS = Path(__file__).resolve().parents[1] / "vectors" / "records"
RECORD = json.loads((VECTORS / "record-1.json").read_text())
SCHEMA_CASES = json.loads((VECTORS / "schema-1.json").read_text())["cases"]


def test_hmac_reference_vectors():
    for v in RECORD["hmac_sha256"]:
        mac = hmac.new(bytes.fromhex(v["key"]), bytes.fromhex(v["data"]), hashlib.sha256).hexdigest()
        assert mac == v["mac"], v["source"]
        assert record.signature(bytes.fromhex(v["data"]), bytes.fromhex(v["key"])) == v["mac"]


@pytest.mark.parametrize("line", RECORD["valid"], ids=range(len(RECORD["valid"])))
def test_valid_vectors_verify_decode_and_validate(line):
    key = bytes.fromhex(RECORD["key"])
    body = record.verify(line.encode(), key)
    assert "sig" not in body
    assert all("." in name for name in record.channels(body))
    typed = record.decode(record.split(line.encode())[0])
    record.check(typed)
    assert record.validate(body) == typed


@pytest.mark.parametrize("v", RECORD["invalid"], ids=[v["why"] for v in RECORD["invalid"]])
def test_invalid_vectors_are_refused_with_their_reason(v):
    key = bytes.fromhex(RECORD["key"])
    with pytest.raises(record.RecordError) as e:
        record.validate(record.verify(v["line"].encode(), key))
    assert e.value.reason == v["reason"], v["why"]


class _Written(float):
    """A number written with a fraction or an exponent: never a JSON integer (``1.0`` is not ``1``)."""

    def is_integer(self):
        return False


def _strict_number(text: str) -> float:
    x = float(text)
    if x in (float("inf"), float("-inf")):
        raise ValueError(f"{text} is beyond an IEEE 754 double")
    return _Written(x)


@functools.lru_cache(maxsize=1)
def _validator():
    import fastjsonschema

    return fastjsonschema.compile(record.schema())


def _schema_accepts(doc: str) -> bool:
    """The published JSON Schema on the document read as RFC 8259 JSON (no NaN/Infinity), numbers
    within a double's range, integers as written."""
    import fastjsonschema

    try:
        body = json.loads(doc, parse_float=_strict_number, parse_constant=lambda c: (_ for _ in ()).throw(ValueError(c)))
    except ValueError:
        return False
    if not isinstance(body, dict):
        return False
    try:
        _validator()(dict(body, sig="0" * 64))
    except fastjsonschema.JsonSchemaValueException:
        return False
    return True


def _decoder_accepts(doc: str) -> bool:
    try:
        record.decode(doc.encode())
    except record.RecordError:
        return False
    return True


@pytest.mark.parametrize("case", SCHEMA_CASES, ids=[c["why"] for c in SCHEMA_CASES])
def test_decoder_and_json_schema_accept_and_refuse_the_same_documents(case):
    assert _schema_accepts(case["doc"]) == case["valid"], "the vector disagrees with the published schema"
    assert _decoder_accepts(case["doc"]) == case["valid"], "the decoder disagrees with the published schema"


def test_the_decoders_patterns_are_the_schemas():
    s = record.schema()
    assert record._NODE.pattern == s["properties"]["node"]["pattern"]
    assert record._SLOT.pattern == s["properties"]["sensors"]["propertyNames"]["pattern"]
    assert record._CHANNEL.pattern == s["$defs"]["sensor"]["properties"]["ch"]["propertyNames"]["pattern"]


def test_sign_then_verify_round_trip_keeps_the_bytes():
    key = b"k" * 32
    line = record.sign(b'{"v":1,"x":1.10}', key)
    signed, sig = record.split(line)
    assert signed == b'{"v":1,"x":1.10}'  # float text kept as sent
    assert record.verify(line, key) == {"v": 1, "x": 1.1}
