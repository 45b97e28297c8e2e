"""A part for Dask workers started by the tests (importable by them: tests/host is on their path)."""

from __future__ import annotations

import os
import time


def wait_for_release(i: int, started: str, release: str) -> int:
    """Say it started (a file), then wait until *release* exists (at most 2 minutes)."""
    open(f"{started}.{i}", "w").close()
    deadline = time.monotonic() + 120
    while not os.path.exists(release) and time.monotonic() < deadline:
        time.sleep(0.05)
    return i
