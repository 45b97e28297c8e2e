"""Refused lines: exact counts per transport, source and reason (``reject_counts``), and a bounded
sample of the lines themselves with their reason and detail (``rejects``).

Unsigned junk must not fill the disk (10 POSTs of 2000 junk lines once added 17 MB), yet nothing
a node signed may be lost. So a line is kept as a sample while its (transport, source, reason)
has fewer than :data:`KEEP_FIRST` kept, and after that only as the 2^k-th of its kind (the
32nd, 64th, …: recent examples stay visible, the table grows with the logarithm of the
flood). Lines a node signed whose content is stored nowhere else (``schema``, ``unstorable``,
``conflict``, ``retired_node``) are all kept, whole: only a holder of a node's key can make them,
and they may be a node's only copy of a measurement. Unverified lines keep their first
:data:`RAW_UNSIGNED` bytes. Past
:data:`MAX_SOURCES` sources per transport and reason (a flood from many addresses or topics),
new sources are counted together as ``(other sources)``.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Iterable, NamedTuple

REJECT_RAW_MAX = 4096  # bytes kept of a refused line that is not a node's signed record
RAW_UNSIGNED = 512  # bytes kept of an unverified line (noise, forgeries, unknown nodes)
KEEP_FIRST = 20
MAX_SOURCES = 256
OTHER = "(other sources)"
SIGNED_UNSTORED = frozenset({"schema", "unstorable", "conflict", "retired_node"})
VERIFIED = SIGNED_UNSTORED | {"replay", "node_mismatch"}


class Reject(NamedTuple):
    received: int
    transport: str
    source: str
    reason: str
    detail: str
    raw: bytes
    node: str | None = None
    boot: int | None = None
    seq: int | None = None


def _keep(reason: str, before: int) -> bool:
    """Is the (before+1)-th line of its kind kept?"""
    n = before + 1
    return reason in SIGNED_UNSTORED or before < KEEP_FIRST or n & (n - 1) == 0


def _raw(reason: str, raw: bytes) -> bytes:
    if reason in SIGNED_UNSTORED:
        return bytes(raw)
    return bytes(raw[:REJECT_RAW_MAX if reason in VERIFIED else RAW_UNSIGNED])


def add_rejects(db, rejects: Iterable[Reject]) -> int:
    """Count refused lines exactly and keep the sample of them (inside the caller's transaction);
    returns how many were kept."""
    rejects = list(rejects)
    groups: dict[tuple[str, str, str], list[Reject]] = defaultdict(list)
    for r in rejects:
        groups[(r.transport, r.source, r.reason)].append(r)
    kept: dict[int, str] = {}  # id() of a kept reject -> the source it is counted under
    for (transport, source, reason), rs in sorted(groups.items()):  # counters updated in one order by every writer
        row = db.execute("SELECT n FROM reject_counts WHERE transport=? AND source=? AND reason=?",
                         (transport, source, reason)).fetchone()
        if row is None and db.execute("SELECT COUNT(*) FROM reject_counts WHERE transport=? AND reason=?",
                                      (transport, reason)).fetchone()[0] >= MAX_SOURCES:
            source = OTHER
            row = db.execute("SELECT n FROM reject_counts WHERE transport=? AND source=? AND reason=?",
                             (transport, source, reason)).fetchone()
        before = row[0] if row else 0
        mine = [r for i, r in enumerate(rs) if _keep(reason, before + i)]
        kept.update((id(r), source) for r in mine)
        db.execute("INSERT INTO reject_counts (transport, source, reason, n, bytes, first, last, kept)"
                   " VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (transport, source, reason) DO UPDATE SET"
                   " n = reject_counts.n + excluded.n, bytes = reject_counts.bytes + excluded.bytes,"
                   " last = excluded.last, kept = reject_counts.kept + excluded.kept",
                   (transport, source, reason, len(rs), sum(len(r.raw) for r in rs), min(r.received for r in rs),
                    max(r.received for r in rs), len(mine)))
    # the sample in the order the lines came
    kept_rows = [(r.received, r.transport, kept[id(r)], r.reason, r.detail, r.node, r.boot, r.seq, _raw(r.reason, r.raw),
                  len(r.raw)) for r in rejects if id(r) in kept]
    if kept_rows:
        db.bulk_insert("rejects", ("received", "transport", "source", "reason", "detail", "node", "boot", "seq", "raw",
                                   "raw_len"), kept_rows)
    return len(kept_rows)


def insert_reject(db, received: int, transport: str, source: str, reason: str, detail: str, raw: bytes,
                  node: str | None = None, boot: int | None = None, seq: int | None = None) -> None:
    """One refused line (see :func:`add_rejects`)."""
    add_rejects(db, [Reject(received, transport, source, reason, detail, raw, node, boot, seq)])


def rejects(db, *, since: int | None = None, reason: str | None = None, node: str | None = None,
            limit: int = 100) -> list[dict]:
    """The kept sample of refused lines, newest first."""
    where, args = ["received >= ?"], [since or 0]
    if reason:
        where.append("reason = ?")
        args.append(reason)
    if node:
        where.append("node = ?")
        args.append(node)
    cur = db.execute(
        "SELECT id, received, transport, source, reason, detail, node, boot, seq, raw_len, raw FROM rejects"
        f" WHERE {' AND '.join(where)} ORDER BY id DESC LIMIT ?", (*args, limit))
    cols = [d[0] for d in cur.description]
    return [dict(zip(cols, r)) for r in cur.fetchall()]


def reject_counts(db, *, since: int | None = None, reason: str | None = None) -> list[dict]:
    """Exact counts of refused lines per transport, source and reason (last seen since *since*),
    most first: ``n``, ``bytes``, ``first``/``last`` seen, ``kept`` as samples."""
    where, args = ["last >= ?"], [since or 0]
    if reason:
        where.append("reason = ?")
        args.append(reason)
    cur = db.execute("SELECT transport, source, reason, n, bytes, first, last, kept FROM reject_counts"
                     f" WHERE {' AND '.join(where)} ORDER BY n DESC, transport, source, reason", args)
    cols = [d[0] for d in cur.description]
    return [dict(zip(cols, r)) for r in cur.fetchall()]
