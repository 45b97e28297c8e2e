"""The host's answers to a node after a commit, built here for every transport (docs/record.md,
"Transports and acknowledgement"): which ``seq`` the node may delete, why lines were refused,
and the host's time. One place, so every transport says the same and signing fits in one spot.

Answers stay short whatever was sent: at most :data:`MAX_LISTED` refusals are listed, each
detail cut to :data:`MAX_DETAIL` characters, and ``rejected_more`` counts the rest (a POST of
2000 junk lines gets a reply of a few kB, not 250 kB; ``tynys db rejects`` has the counts).
"""

from __future__ import annotations

import time
from typing import Sequence

from ..ingest import Outcome

MAX_LISTED = 20
MAX_DETAIL = 200
ACKS_PER_LINE = 16  # keeps a serial ACK line under ~200 bytes for the node's small line buffer


def acked(outcomes: Sequence[Outcome]) -> list[int]:
    """The seqs the node may delete from its spool."""
    return [o.seq for o in outcomes if o.ack]


def refusals(outcomes: Sequence[Outcome], detail: bool = True) -> tuple[list[dict], int]:
    """The first MAX_LISTED refused lines as ``{"seq", "reason"[, "detail"]}``, and how many more there were."""
    out = [o for o in outcomes if o.status == "rejected"]
    listed = [{"seq": o.seq, "reason": o.reason, **({"detail": o.detail[:MAX_DETAIL]} if detail else {})}
              for o in out[:MAX_LISTED]]
    return listed, len(out) - len(listed)


def http_reply(outcomes: Sequence[Outcome], node: str | None = None) -> dict:
    """The body of a 200 answer to ``POST /api/v1/records`` (*node*: the ``X-Tynys-Node`` it named)."""
    listed, more = refusals(outcomes)
    doc = {"ack": acked(outcomes), "rejected": listed, "time": int(time.time())}
    if more:
        doc["rejected_more"] = more
    return doc


def mqtt_reply(outcomes: Sequence[Outcome], node: str) -> dict:
    """The message published to ``tynys/<node>/ack``; ``rejected`` only when some were refused."""
    doc = {"ack": acked(outcomes), "time": int(time.time())}
    listed, more = refusals(outcomes, detail=False)
    if listed:
        doc["rejected"] = listed
    if more:
        doc["rejected_more"] = more
    return doc


def serial_ack_lines(outcomes: Sequence[Outcome]) -> list[str]:
    """``ACK <seq> …`` lines (ACKS_PER_LINE seqs each) for the console."""
    seqs = acked(outcomes)
    return ["ACK " + " ".join(map(str, seqs[i: i + ACKS_PER_LINE])) for i in range(0, len(seqs), ACKS_PER_LINE)]


def serial_time_line() -> str:
    return f"TIME {int(time.time())}"
