"""The import ledger: each imported file's content (by SHA-256) lands once."""

from __future__ import annotations

import time


def imported(db, sha256: str) -> dict | None:
    """The ledger entry of an earlier import of a file with this content, if any."""
    cur = db.execute("SELECT id, sha256, name, kind, size, imported, rows, detail FROM imports WHERE sha256=?", (sha256,))
    row = cur.fetchone()
    return dict(zip([d[0] for d in cur.description], row)) if row else None


def record_import(db, sha256: str, name: str, kind: str, size: int, rows: int, detail: str = "") -> int | None:
    """Add a ledger entry inside the caller's transaction (the one that stored the file's rows)
    and return its id. Returns None when the same content was imported before: the caller must
    then roll back."""
    row = db.execute(
        "INSERT INTO imports (sha256, name, kind, size, imported, rows, detail) VALUES (?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (sha256) DO NOTHING RETURNING id", (sha256, name, kind, size, int(time.time()), rows, detail)).fetchone()
    return None if row is None else row[0]


def finish_import(db, import_id: int, rows: int, detail: str) -> None:
    """Set the row count and summary of a ledger entry (same transaction as its rows)."""
    db.execute("UPDATE imports SET rows=?, detail=? WHERE id=?", (rows, detail, import_id))
