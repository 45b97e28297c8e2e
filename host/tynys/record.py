"""The node record, version 1: the one contract between node and host (docs/record.md).

A record travels as one line of UTF-8 JSON whose last member is ``"sig"``. The signature is
HMAC-SHA256 under the node's key over the exact bytes of the line with that member removed::

    {"v":1,"node":"osk-01",...,"health":{...},"sig":"3f5a...e1"}
    signed bytes = b'{"v":1,"node":"osk-01",...,"health":{...}}'

so neither side needs a canonical JSON form (float formatting differs between MicroPython and
CPython); the host keeps the line it received, byte for byte.

The published contract is the JSON Schema ``contract/record-1.schema.json``. The host reads
records with :func:`decode`: msgspec parses the JSON straight into the typed, constrained
structs below in one pass (refusing NaN/Infinity, numbers out of range, integers beyond 64 bits,
unknown members where the schema forbids them), then :func:`check` applies the rules a schema
cannot express. ``tests/host/test_record.py`` proves the structs and the schema accept and
refuse the same shared vectors (``tests/vectors/records/``). One reading the schema leaves open
is fixed here as the firmware writes it: an integer member is a JSON integer (``1``, not ``1.0``).

    >>> line = sign(b'{"v":1}', bytes(32))
    >>> verify(line, bytes(32))
    {'v': 1}
"""

from __future__ import annotations

import hmac
import json
import math
import re
from functools import lru_cache
from importlib import resources
from typing import Annotated, Literal

import msgspec
from msgspec import UNSET, Meta, Struct, UnsetType

from .errors import TynysError

VERSION = 1
RESET_CAUSES = ("power_on", "hard", "wdt", "deepsleep", "soft", "unknown")
_SIG = b',"sig":"'
_TAIL = len(_SIG) + 66  # ,"sig":"<64 hex>"}


class RecordError(TynysError):
    """A record was refused. ``reason`` is a short code stored in the rejects table:
    ``malformed`` (not a signed JSON line), ``bad_signature``, ``schema`` (signed but not a valid
    version-1 record). ``detail`` says what exactly was wrong."""

    def __init__(self, reason: str, detail: str):
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


# -- the record as typed structs (mirrors contract/record-1.schema.json) -------------------------

_I64 = Meta(ge=-(2**63), le=2**63 - 1)  # SQLite (and PostgreSQL BIGINT) integers
Count = Annotated[int, Meta(ge=0, le=2**63 - 1)]
Int = Annotated[int, _I64]
_NODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")  # the schema's patterns (test_record checks they agree)
_SLOT = re.compile(r"^[a-z][a-z0-9_]{0,15}$")
_CHANNEL = re.compile(r"^[a-z][a-z0-9_]{0,23}$")

# gc=False: they hold no cycles, and thousands a second must not wake the garbage collector.


class Stats(Struct, forbid_unknown_fields=True, gc=False):
    """One channel over the window (units: docs/record.md). All four statistics are null when n is 0."""

    n: Count
    mean: float | None
    sd: Annotated[float, Meta(ge=0)] | None
    min: float | None
    max: float | None


class Sensor(Struct, kw_only=True, gc=False):
    type: str
    model: str | UnsetType = UNSET
    id: str | None = None
    frames: Count
    bad: Count
    warmup: Count
    missing: Count
    state: Int | None = None
    ch: dict[str, Stats]


class Health(Struct, kw_only=True, gc=False):
    heap_free: Count
    uptime: Count
    reset: Literal["power_on", "hard", "wdt", "deepsleep", "soft", "unknown"]
    rssi: Int | None = None
    spool: Count
    dropped: Count
    safe_mode: bool | UnsetType = UNSET


class Record(Struct, forbid_unknown_fields=True, gc=False):
    v: Literal[1]
    node: str
    boot: Count
    seq: Count
    t0: Count
    t1: Count
    clock: Literal["ntp", "host", "unsynced"]
    fw: Annotated[str, Meta(max_length=32)]
    sensors: dict[str, Sensor]
    health: Health


_decoder = msgspec.json.Decoder(Record)
# node ids, slot and channel names that matched their pattern (a few dozen in a city); one set
# per pattern, since a name that passed one pattern need not pass another
_seen: dict[str, set[str]] = {"node": set(), "slot": set(), "channel": set()}


def _names_ok(r: Record) -> None:
    """The schema's patterns for the node id and the slot and channel names, each name checked
    once per process (the same few names arrive in every record)."""
    nodes, slots, chans = _seen["node"], _seen["slot"], _seen["channel"]
    if r.node not in nodes:
        if not _NODE.fullmatch(r.node):
            raise RecordError("schema", f"record.node {r.node[:70]!r} does not match {_NODE.pattern}")
        _remember(nodes, r.node)
    for slot, s in r.sensors.items():
        if slot not in slots:
            if not _SLOT.fullmatch(slot):
                raise RecordError("schema", f"record.sensors: slot name {slot[:70]!r} does not match {_SLOT.pattern}")
            _remember(slots, slot)
        for name in s.ch:
            if name not in chans:
                if not _CHANNEL.fullmatch(name):
                    raise RecordError("schema", f"record.sensors.{slot}.ch: channel name {name[:70]!r} does not match {_CHANNEL.pattern}")
                _remember(chans, name)


def _remember(seen: set[str], name: str) -> None:
    if len(seen) > 10_000:  # names are few; a flood of signed odd ones only costs a regex each
        seen.clear()
    seen.add(name)


def split(line: bytes) -> tuple[bytes, str]:
    """Return ``(signed_bytes, sig_hex)`` of a record line, without checking the signature."""
    if isinstance(line, str):
        line = line.encode()
    line = line.strip()
    i = len(line) - _TAIL  # where the signature member must start (hex digits hold no other ',"sig":"')
    sig = line[i + len(_SIG):-2]
    if i < 0 or line[i:i + len(_SIG)] != _SIG or not line.startswith(b"{") or not line.endswith(b'"}') \
            or sig.translate(None, b"0123456789abcdef"):
        raise RecordError("malformed", 'not a record line: expected a JSON object ending in ,"sig":"<64 hex>"}')
    return line[:i].rstrip() + b"}", sig.decode()


def decode(signed: bytes) -> Record:
    """Parse and validate the signed part of a line in one pass (the JSON Schema's rules, with
    :func:`check` next for the rules a schema cannot express)."""
    try:
        r = _decoder.decode(signed)
    except msgspec.ValidationError as e:
        raise RecordError("schema", f"record: {e}") from None
    except msgspec.DecodeError as e:
        raise RecordError("malformed", f"invalid JSON: {e}") from None
    _names_ok(r)
    return r


def check(r: Record) -> None:
    """The rules the schema cannot express: the window ends after it starts; a channel's
    statistics are all given when n > 0 and all null when n = 0, and its mean lies in [min, max]."""
    if r.t1 <= r.t0:
        raise RecordError("schema", f"window end t1={r.t1} is not after start t0={r.t0}")
    for s in r.sensors.values():
        for st in s.ch.values():
            lo, mean, hi = st.min, st.mean, st.max
            if st.n and lo is not None and hi is not None and mean is not None and st.sd is not None and lo <= mean <= hi:
                continue  # the usual case, decided in one test
            _check_stats(r, s, st)


def decode_clean(signed: bytes) -> Record | None:
    """:func:`decode` then :func:`check` for ingest's clean path, in one loop over the record:
    the record when it passes both for sure, None when anything is unusual (a name not seen yet,
    a refusal): then :func:`decode` and :func:`check` say why, in their order."""
    try:
        r = _decoder.decode(signed)
    except msgspec.DecodeError:  # ValidationError included
        return None
    if r.t1 <= r.t0 or r.node not in _seen["node"] or not r.sensors.keys() <= _seen["slot"]:
        return None
    chans = _seen["channel"]
    for s in r.sensors.values():
        if not s.ch.keys() <= chans:
            return None
        for st in s.ch.values():
            try:
                if st.n and st.sd is not None and st.min <= st.mean <= st.max:
                    continue  # the usual case, decided in one test (a None among min, mean, max raises)
            except TypeError:
                pass
            try:
                _check_stats(r, s, st)
            except RecordError:
                return None
    return r


def _check_stats(r: Record, s: Sensor, st: Stats) -> None:
    slot = next(k for k, v in r.sensors.items() if v is s)
    name = next(k for k, v in s.ch.items() if v is st)
    if st.n == 0:
        if st.mean is not None or st.sd is not None or st.min is not None or st.max is not None:
            raise RecordError("schema", f"sensors/{slot}/ch/{name}: n is 0 but statistics are given")
    elif st.mean is None or st.sd is None or st.min is None or st.max is None:
        raise RecordError("schema", f"sensors/{slot}/ch/{name}: n={st.n} but a statistic is null")
    else:
        tol = 1e-6 * max(abs(st.min), abs(st.max), 1.0)  # the node rounds when it formats
        if not (st.min - tol <= st.mean <= st.max + tol):
            raise RecordError("schema", f"sensors/{slot}/ch/{name}: mean {st.mean} outside [{st.min}, {st.max}]")


def parse(line: bytes) -> tuple[dict, bytes, str]:
    """Decode a record line loosely: ``(body, signed_bytes, sig_hex)``, for reading a line that
    may not be valid (monitor, the reasons of a refusal). Does not verify anything but form."""
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
    return hmac.digest(key, signed, "sha256").hex()


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


def validate(body: dict, sig: str | None = None) -> Record:
    """Check a record read loosely (a dict from :func:`parse`) as :func:`decode` and :func:`check`
    check a line, and return it typed; the reason a line :func:`decode` refused, in words."""
    if body.get("v") != VERSION:
        raise RecordError("schema", f"record version {body.get('v')!r}; this host reads version {VERSION}")
    bad = _unstorable_number(body)
    if bad:
        raise RecordError("schema", bad)
    try:
        r = msgspec.convert(body, Record)
    except msgspec.ValidationError as e:
        raise RecordError("schema", f"record: {e}") from None
    _names_ok(r)
    check(r)
    return r


def _unstorable_number(doc, path: str = "") -> str | None:
    """NaN, Infinity (Python's JSON parser takes them) or an integer beyond 64 bits, anywhere."""
    if isinstance(doc, dict):
        items = doc.items()
    elif isinstance(doc, list):
        items = enumerate(doc)
    elif isinstance(doc, bool):
        return None
    elif isinstance(doc, int):
        return None if -(2**63) <= doc < 2**63 else f"{path[1:]}: {doc} does not fit in 64 bits"
    elif isinstance(doc, float):
        return None if math.isfinite(doc) else f"{path[1:]}: {doc} is not a JSON number"
    else:
        return None
    for k, v in items:
        bad = _unstorable_number(v, f"{path}/{k}")
        if bad:
            return bad
    return None


def channels(body: dict) -> dict[str, dict]:
    """Flatten ``sensors`` into ``{"<slot>.<channel>": stats}`` (the host's channel names)."""
    return {f"{slot}.{name}": st for slot, s in body["sensors"].items() for name, st in s["ch"].items()}
