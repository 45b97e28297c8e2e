"""The node's timing on the virtual clock (ticks wrap at 2**30 ms as on an ESP32): uplink
backoff after a long outage, and a window whose clock is set by a small step."""

import pytest

pytestmark = pytest.mark.firmware

T0 = 1795813200  # a multiple of 300: a window boundary


def lines(mpy, code):
    return mpy(code, heap="256K").stdout.decode().split()


def test_backoff_is_due_after_an_outage_longer_than_half_the_ticks_period(mpy):
    # ticks_diff is only meaningful within 2**29 ms (6.2 days): a backoff stamped before a week
    # without WiFi must still be due when the network returns, not for another 6 days.
    got = lines(mpy, """
import time
from node.uplink import Backoff
b = Backoff(30, 900)
b.fail(time.ticks_ms())
start = time.world_us()
out = []
for days in (1, 3, 6, 7, 9, 12, 13):
    while time.world_us() < start + days * 86400 * 1000000:
        time.sleep_ms(3600 * 1000)
        b.due(time.ticks_ms())  # the uplink asks every pass while the network is down
    out.append(b.due(time.ticks_ms()))
print(" ".join(str(x) for x in out))
""")
    assert got == ["True"] * 7

