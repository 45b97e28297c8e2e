"""The watchdog against blocking network calls: each POST or connect may take its socket's
timeout, and a window close with a Sensor.Community push runs several in one pass of the loop."""

import pytest

from .conftest import CHECK, T0
from .receiver import HTTPReceiver
from .test_typical import SCENARIO, typical

pytestmark = pytest.mark.e2e


def test_hanging_hosts_do_not_starve_the_watchdog(make_node, keys):
    # Every host hangs for the whole timeout: at each window close the Sensor.Community push
    # (pm and th: two POSTs of 15 s) and then the HTTP uplink (15 s) run in one pass, 45 s in
    # all, each well within the 40 s watchdog when it is fed before each of them.
    hang = {"network": {"outages": [{"from": T0, "to": T0 + 7200, "what": "host", "mode": "timeout"}]}}
    with HTTPReceiver(keys) as rx:
        cfg = typical(rx.url, wdt_s=40)
        cfg["uplinks"]["http"]["timeout_s"] = 15
        cfg["uplinks"]["sensor_community"] = {"url": rx.url, "timeout_s": 15}
        vn = make_node(cfg, {**SCENARIO, **hang}, vtime="virtual", end=T0 + 9000, heap="160K")
        vn.start()
        vn.wait_world(T0 + 9000, timeout=300)
        rx.wait(9000 // 300 - 1, timeout=60)
    assert vn.resets == [CHECK], "the watchdog reset the node"
    seqs = rx.seqs()
    assert seqs == list(range(len(seqs)))
