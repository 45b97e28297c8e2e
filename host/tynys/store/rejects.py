"""Refused lines: what was refused, why, from where, with the first bytes of the line."""

from __future__ import annotations

REJECT_RAW_MAX = 4096  # bytes of a refused line kept: enough to diagnose, bounded against floods


def insert_reject(db, received: int, transport: str, source: str, reason: str, detail: str, raw: bytes,
                  node: str | None = None, boot: int | None = None, seq: int | None = None) -> None:
    db.execute(
        "INSERT INTO rejects (received, transport, source, reason, detail, node, boot, seq, raw, raw_len)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (received, transport, source, reason, detail, node, boot, seq, bytes(raw[:REJECT_RAW_MAX]), len(raw)))


def rejects(db, *, since: int | None = None, reason: str | None = None, node: str | None = None,
            limit: int = 100) -> list[dict]:
    """Newest refusals first."""
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
