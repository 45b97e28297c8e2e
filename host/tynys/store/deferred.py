"""Writes a transaction makes last, just before its COMMIT: rows of a table that many writers add
to (the sensors' hourly sums, :mod:`tynys.store.counters`). Written at the end, all at once and
in key order, a transaction takes their row locks after all its others and in one order, so two
writers never wait on each other in a cycle (which PostgreSQL ends by aborting one of them).
Both engines' ``transaction`` and ``savepoint`` drive this."""

from __future__ import annotations

from typing import Callable, Iterable


class Deferred:
    def __init__(self, db):
        self.db = db
        self._rows: dict[Callable, list] | None = None  # None: no transaction is open

    def begin(self) -> None:
        self._rows = {}

    def add(self, write: Callable, rows: Iterable) -> None:
        """*rows* for ``write(db, rows)`` to write before the COMMIT (at once outside a transaction)."""
        if self._rows is None:
            write(self.db, list(rows))
        else:
            self._rows.setdefault(write, []).extend(rows)

    def mark(self) -> dict[Callable, int]:
        """Where a savepoint starts."""
        return {w: len(r) for w, r in self._rows.items()}

    def undo(self, mark: dict[Callable, int]) -> None:
        """The savepoint begun at *mark* rolled back: forget what it added."""
        for w in list(self._rows):
            if w in mark:
                del self._rows[w][mark[w]:]
            else:
                del self._rows[w]

    def write(self) -> None:
        """Just before the COMMIT: each writer's rows of the whole transaction."""
        rows, self._rows = self._rows, None
        for write, r in rows.items():
            write(self.db, r)

    def clear(self) -> None:
        """The transaction rolled back."""
        self._rows = None
