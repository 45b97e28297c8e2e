"""The host's replies to a node after a commit, one module for every transport (docs/record.md,
"Replies"): which records it has (``ack``), why lines were refused, and its clock (``time``).

The same reply travels on every transport: as a console line (serial), as the body of the HTTP
answer, as the message on ``tynys/<node>/ack`` (MQTT). It is signed with the node's own key, so
nobody else on the LAN, the path or the broker can free a node's spool or set its clock::

    {"node":"osk-01","seq":4711,"ack":[4710,4711],"time":1795813512,"sig":"<64 hex>"}

``sig`` is HMAC-SHA256 over :data:`TAG` followed by the line without its sig member (the tag
keeps a reply from ever passing as a record or a record as a reply: both use the node's key).
``seq`` is the newest record the reply answers: every ``ack`` is at most ``seq``; the node takes
``time`` only when ``seq`` is its newest record, so an old reply played again cannot set an old clock.

Replies stay short whatever was sent: at most :data:`MAX_LISTED` refusals are listed (``rejected``,
the node's log shows them) and ``rejected_more`` counts the others (``tynys db rejects`` has them all).

    line = build("osk-01", key, [2, 3], now=1795813512)       # or for_outcomes(node, key, outcomes)
    doc = verify(line, key)
    line, carried = console_line("osk-01", key, acks, now=...)  # what fits a console line
    body = http_body(ingestor.key, node, outcomes, now)         # a 200 answer to a POST
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Iterable

from ..record import RecordError, split

TAG = b"tynys-reply-1\n"
SERIAL_MAX = 250  # bytes of one console line: the node reads 256, a board's input ring holds 259
MAX_LISTED = 20
MAX_DETAIL = 200
_SIG_BYTES = len(',"sig":""') + 64


def signature(body: bytes, key: bytes) -> str:
    return hmac.new(key, TAG + body, hashlib.sha256).hexdigest()


def sign(doc: dict, key: bytes) -> bytes:
    """The reply line for *doc* (members in the order given), signed with the node's *key*."""
    body = json.dumps(doc, separators=(",", ":")).encode()
    return body[:-1] + b',"sig":"' + signature(body, key).encode() + b'"}'


def verify(line: bytes, key: bytes) -> dict:
    """Check a reply's signature under *key*; return the reply without ``sig``."""
    try:
        body, sig = split(line)
    except RecordError:
        raise RecordError("malformed", 'not a reply: expected a JSON object ending in ,"sig":"<64 hex>"}') from None
    if not hmac.compare_digest(signature(body, key), sig):
        raise RecordError("bad_signature", "the reply is not signed with this key")
    return json.loads(body)


def build(node: str, key: bytes, acks: Iterable[int], *, now: int | None = None,
          rejected: list[dict] | None = None, more: int = 0) -> bytes:
    """One signed reply acknowledging *acks* (not empty: ``seq`` is their highest)."""
    acks = sorted(set(acks))
    doc = {"node": node, "seq": acks[-1], "ack": acks}
    if now is not None:
        doc["time"] = int(now)
    if rejected:
        doc["rejected"] = rejected
    if more:
        doc["rejected_more"] = more
    return sign(doc, key)


def acknowledged(node: str, outcomes) -> list[int]:
    """The seqs of *node*'s records that *outcomes* (:class:`tynys.ingest.Outcome`) let it delete."""
    return sorted({o.seq for o in outcomes if o.ack and o.node == node})


def refusals(outcomes, detail: bool = True) -> tuple[list[dict], int]:
    """The first MAX_LISTED refused lines as ``{"seq", "reason"[, "detail"]}``, and how many more there were."""
    out = [o for o in outcomes if o.status == "rejected"]
    listed = [{"seq": o.seq, "reason": o.reason, **({"detail": o.detail[:MAX_DETAIL]} if detail else {})}
              for o in out[:MAX_LISTED]]
    return listed, len(out) - len(listed)


def for_outcomes(node: str, key: bytes, outcomes, *, now: int | None = None, rejected: bool = False) -> bytes | None:
    """The signed reply answering *outcomes* of *node*'s records, or None when nothing may be
    acknowledged (a reply to nothing would prove nothing fresh). *rejected* adds which lines were
    refused and why (the reason code only: a node reads at most 2 kB of answer)."""
    acks = acknowledged(node, outcomes)
    if not acks:
        return None
    listed, more = refusals(outcomes, detail=False) if rejected else ([], 0)
    return build(node, key, acks, now=now, rejected=listed, more=more)


def console_line(node: str, key: bytes, acks: list[int], *, now: int | None = None,
                 max_bytes: int = SERIAL_MAX) -> tuple[bytes, list[int]]:
    """One console line acknowledging as many of the sorted *acks* as fit in *max_bytes*, with
    the time; returns the line and the acks it carries (the rest go in the next line)."""
    n = 1
    while n < len(acks):
        size = len(json.dumps({"node": node, "seq": acks[n], "ack": acks[:n + 1], "time": now or 0},
                              separators=(",", ":")).encode()) + _SIG_BYTES
        if size > max_bytes:
            break
        n += 1
    return build(node, key, acks[:n], now=now), acks[:n]


def http_body(key_of, claimed: str | None, outcomes, now: int) -> bytes:
    """The body of a ``200`` answer to a POST of records: the signed reply, with the refusals, when
    the acknowledged records are one node's (the one ``X-Tynys-Node`` names, if it does) and the
    host holds its key; otherwise ``ack``, ``rejected`` (with each refusal's detail) and ``time``
    unsigned, which no node obeys. *key_of(node)*: the node's key or None."""
    nodes = {o.node for o in outcomes if o.ack}
    node = claimed if claimed is not None else (next(iter(nodes)) if len(nodes) == 1 else None)
    key = key_of(node) if node is not None and nodes <= {node} else None
    if key is not None and nodes:
        return for_outcomes(node, key, outcomes, now=now, rejected=True) + b"\n"
    listed, more = refusals(outcomes)
    doc = {"ack": [o.seq for o in outcomes if o.ack], "rejected": listed, "time": now}
    if more:
        doc["rejected_more"] = more
    return json.dumps(doc, separators=(",", ":")).encode() + b"\n"
