"""The node record, version 1: the one contract between node and host (docs/record.md).

A record travels as one line of UTF-8 JSON whose last member is ``"sig"``. The signature is
HMAC-SHA256 under the node's key over the exact bytes of the line with that member removed::

    {"v":1,"node":"osk-01",...,"health":{...},"sig":"3f5a...e1"}
    signed bytes = b'{"v":1,"node":"osk-01",...,"health":{...}}'

so neither side needs a canonical JSON form (float formatting differs between MicroPython and
CPython); the host keeps the line it received, byte for byte.

    >>> line = sign(b'{"v":1}', bytes(32))
    >>> verify(line, bytes(32))
    {'v': 1}
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from functools import lru_cache
from importlib import resources

from .errors import TynysError

VERSION = 1
_SIG_TAIL = re.compile(rb',"sig":"([0-9a-f]{64})"\}\s*$')
RESET_CAUSES = ("power_on", "hard", "wdt", "deepsleep", "soft", "unknown")


class RecordError(TynysError):
    """A record was refused. ``reason`` is a short code stored in the rejects table:
    ``malformed`` (not a signed JSON line), ``bad_signature``, ``schema`` (signed but not a valid
    version-1 record). ``detail`` says what exactly was wrong."""

    def __init__(self, reason: str, detail: str):
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


def split(line: bytes) -> tuple[bytes, str]:
    """Return ``(signed_bytes, sig_hex)`` of a record line, without checking the signature."""
    if isinstance(line, str):
        line = line.encode()
    m = _SIG_TAIL.search(line)
    if not m or not line.lstrip().startswith(b"{"):
        raise RecordError("malformed", 'not a record line: expected a JSON object ending in ,"sig":"<64 hex>"}')
    return line[: m.start()].strip() + b"}", m.group(1).decode()


def parse(line: bytes) -> tuple[dict, bytes, str]:
    """Decode a record line: ``(body, signed_bytes, sig_hex)``. Does not verify anything but form."""
    signed, sig = split(line)
    try:
        body = json.loads(signed)
    except (ValueError, UnicodeDecodeError) as e:
        raise RecordError("malformed", f"invalid JSON: {e}") from None
    except RecursionError:  # '[[[[…' from line noise or on purpose
        raise RecordError("malformed", "invalid JSON: nested too deeply") from None
    if not isinstance(body, dict):
        raise RecordError("malformed", "a record is a JSON object")
    return body, signed, sig


def signature(signed: bytes, key: bytes) -> str:
    return hmac.new(key, signed, hashlib.sha256).hexdigest()


def sign(body: bytes | dict, key: bytes) -> bytes:
    """Append the signature member to a JSON object (bytes as they will be sent, or a dict)."""
    if isinstance(body, dict):
        body = json.dumps(body, separators=(",", ":")).encode()
    body = body.strip()
    if not body.endswith(b"}"):
        raise ValueError("body must be a JSON object")
    return body[:-1] + b',"sig":"' + signature(body, key).encode() + b'"}'


def verify(line: bytes, key: bytes) -> dict:
    """Check the signature of a line under *key*; return the decoded body (without ``sig``)."""
    body, signed, sig = parse(line)
    if not hmac.compare_digest(signature(signed, key), sig):
        raise RecordError("bad_signature", f"HMAC-SHA256 does not match the key registered for node {body.get('node')!r}")
    return body


@lru_cache(maxsize=1)
def schema() -> dict:
    return json.loads(resources.files("tynys.contract").joinpath("record-1.schema.json").read_text())


@lru_cache(maxsize=1)
def _validator():
    # Compiled once to Python code: about ten times faster per record than interpreting the
    # schema (jsonschema), which mattered for ingest throughput (bench/bench_ingest.py).
    import fastjsonschema

    return fastjsonschema.compile(schema())


def validate(body: dict, sig: str | None = None) -> None:
    """Check a decoded record against the version-1 JSON Schema and the rules it cannot express."""
    if body.get("v") != VERSION:
        raise RecordError("schema", f"record version {body.get('v')!r}; this host reads version {VERSION}")
    import fastjsonschema

    try:
        _validator()(dict(body, sig=sig or "0" * 64))
    except fastjsonschema.JsonSchemaValueException as e:
        # e.message reads "data.sensors.pm.ch must ..."; name the record, not "data"
        raise RecordError("schema", "record" + e.message[4:]) from None
    if body["t1"] <= body["t0"]:
        raise RecordError("schema", f"window end t1={body['t1']} is not after start t0={body['t0']}")
    for slot, s in body["sensors"].items():
        for name, st in s["ch"].items():
            if st["n"] == 0 and any(st[k] is not None for k in ("mean", "sd", "min", "max")):
                raise RecordError("schema", f"sensors/{slot}/ch/{name}: n is 0 but statistics are given")
            if st["n"] > 0 and any(st[k] is None for k in ("mean", "sd", "min", "max")):
                raise RecordError("schema", f"sensors/{slot}/ch/{name}: n={st['n']} but a statistic is null")
            if st["n"] > 0:
                tol = 1e-6 * max(abs(st["min"]), abs(st["max"]), 1.0)  # the node rounds when it formats
                if not (st["min"] - tol <= st["mean"] <= st["max"] + tol):
                    raise RecordError("schema", f"sensors/{slot}/ch/{name}: mean {st['mean']} outside [{st['min']}, {st['max']}]")


def channels(body: dict) -> dict[str, dict]:
    """Flatten ``sensors`` into ``{"<slot>.<channel>": stats}`` (the host's channel names)."""
    return {f"{slot}.{name}": st for slot, s in body["sensors"].items() for name, st in s["ch"].items()}
