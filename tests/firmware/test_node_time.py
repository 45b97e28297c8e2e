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


NODE = """
import time
from node.app import Node
from node.clock import Clock

class N(Node):
    def __init__(self):  # only what the window logic uses
        self.window_s = 300
        self.slots = []
        self.clock = Clock(None)
        self.clock.quality = "host"
        self.t0 = self.t1 = 0
        self.end = time.ticks_ms()

time.set_rtc(%d)
""" % T0


def test_small_clock_step_back_just_after_a_window_start_keeps_the_window(mpy):
    # The host's TIME (whole seconds) puts the clock back 1 s, 0.3 s into a window: the window
    # keeps its start and its end; it never becomes t0..t0.
    got = lines(mpy, NODE + """
time.sleep_ms(200)
n = N()
n._start_window()
time.sleep_ms(100)
n.host_time(%d - 1)
print(n.t0 - %d, n.t1 - %d, time.ticks_diff(n.end, time.ticks_ms()))
""" % (T0, T0, T0))
    t0, t1, left = map(int, got)
    assert (t0, t1) == (0, 300)
    assert 300000 < left <= 301000  # the window's end moved with the clock


def test_small_clock_step_across_the_window_end_closes_the_window_at_its_end(mpy):
    # 0.5 s before the end the clock moves 1 s forward: the window still ends at t1 (at once),
    # it does not run on to the next boundary as a 600 s window.
    got = lines(mpy, NODE + """
n = N()
n._start_window()
time.sleep_ms(299500)
n.host_time(%d + 300)
print(n.t0 - %d, n.t1 - %d, time.ticks_diff(time.ticks_ms(), n.end) >= 0)
""" % (T0, T0, T0))
    assert got == ["0", "300", "True"]
