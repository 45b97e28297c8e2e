"""The virtual world's clock as a host reads it (tynys.vnode.clock): the node notes it each
simulated minute; between notes a host's clock carries it on where the world keeps a pace."""

import os
import time

import pytest

from tynys.vnode.clock import WorldClock

pytestmark = pytest.mark.host

W = 1795813200


def clock(tmp_path, speed: int | None, age: float) -> WorldClock:
    f = tmp_path / "clock"
    f.write_text(f"{W * 1000000} 0 - 0 0" + ("" if speed is None else f" {speed}") + "\n")
    written = time.time() - age
    os.utime(f, (written, written))
    return WorldClock(f, start=W - 600)


@pytest.mark.parametrize("speed, age, now", [
    (1, 10, W + 10),  # real time (after a virtual run's end, at the REPL): 10 s since the note
    (3, 5, W + 15),  # three times real time
    (60, 5, W + 60),  # at most one note's interval: a stopped node's world does not run on
    (0, 10, W),  # a racing virtual clock: its pace is unknown, the note is what there is
    (None, 10, W),  # a note written before the pace was noted
])
def test_the_world_runs_on_between_notes_at_its_pace(tmp_path, speed, age, now):
    c = clock(tmp_path, speed, age)
    assert now <= c.current() <= min(now + 2 * (speed or 0), W + 60)  # a loaded machine reads a little later
    assert c.now() == W  # what the node noted: where a restart begins, and what wait_world waits on
