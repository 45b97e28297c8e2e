"""The typical node (PMS5003 + SHT3x + Alphasense SO2-B4 on an ISB/ADS1115, HTTP uplink) for two
simulated days across a wrap of its millisecond ticks, as deployed (.mpy) in its 112 KB heap, its
sensors byte-exact simulators, posting to `tynys serve`."""

import time

import pytest

from tynys import firmware

from .conftest import CHECK, KEY, T0

pytestmark = pytest.mark.e2e

DAY = 86400
DAYS = 2
WRAP_MS = 2 ** 30  # ticks_ms wraps every 2**30 ms (12.4 days) on an ESP32; the shim's ticks follow world time


def scenario(start: int) -> dict:
    """A winter day in Oskemen from *start* on, repeated: smoky mornings, an SO2 plume at noon."""
    return {"world": {"seed": 7, "noise": 0.03, "start": start, "loop": True,
                      "t": [0, 21600, 32400, 43200, 64800, 86400], "pm25": [12, 65, 30, 22, 40, 12],
                      "so2_ppb": [3, 20, 140, 30, 8, 3], "t_c": [-22, -18, -9, -12, -20, -22],
                      "rh": [82, 78, 60, 66, 80, 82]}}


SCENARIO = scenario(T0)


def across_a_wrap(now: float) -> tuple[int, int]:
    """A power-on at 21:00:37 UTC (37 s into a window) whose run of DAYS has a ticks wrap between
    3 h and 27 h in, and ends in the host's past: (start, the wrap's world time [s])."""
    wrap = (int(now) - DAYS * DAY) * 1000 // WRAP_MS * WRAP_MS // 1000
    return (wrap - DAY) // DAY * DAY + 21 * 3600 + 37, wrap


def typical(url, **extra):
    cfg = {"node": "vn-01", "key": KEY, "wifi": {"ssid": "balcony", "password": "x"},
           "sensors": {"pm": {"type": "pms5003", "uart": 1},
                       "th": {"type": "sht3x", "i2c": 0},
                       "so2": {"type": "isb", "model": "so2-b4", "i2c": 0, "addr": "0x48",
                               "serial": "162031256"}},
           "uplinks": {"http": {"url": url}}}
    cfg.update(extra)
    return cfg


def test_typical_node_runs_two_days_across_a_ticks_wrap_in_its_heap(make_node, host):
    # Two days are every hour of the scenario twice. What a longer run adds is a wrap of the tick
    # arithmetic (window ends, uptime), which a week met by chance (7 of 12.4 days): here always.
    assert firmware.heap_for(typical(host.url)) == "112K"  # HTTP's (96 KB: serial)
    start, wrap = across_a_wrap(time.time())
    end = start + DAYS * DAY
    assert start + 3 * 3600 <= wrap <= end - 21 * 3600 and end < time.time()
    vn = make_node(typical(host.url), scenario(start), vtime="virtual", start=start, end=end)
    vn.start()
    vn.wait_world(end, timeout=540)
    n = DAYS * DAY // 300
    host.wait(n, timeout=60)
    assert host.rejected() <= {"replay"}
    bodies = host.records()
    assert [b["seq"] for b in bodies] == list(range(len(bodies)))
    assert {b["boot"] for b in bodies} == {1}, "the node never restarted"
    assert vn.resets == [CHECK]  # boot 0 checked config.json and restarted to run it
    full = bodies[1:]  # the first window is partial (power-on mid-window)
    assert all(b["t1"] - b["t0"] == 300 and b["clock"] == "ntp" for b in full)
    for b in full:
        pm, th, so2 = (b["sensors"][k] for k in ("pm", "th", "so2"))
        assert pm["type"] == "pms5003" and th["type"] == "sht3x" and so2["model"] == "so2-b4"
        assert pm["id"].startswith("fw=") and th["id"].startswith("sn=") and so2["id"] == "sn=162031256"
        assert pm["frames"] >= 100 and th["frames"] == 30 and so2["frames"] == 60
        assert pm["bad"] == th["bad"] == so2["bad"] == 0
        assert b["health"]["dropped"] == 0 and b["health"]["rssi"] == -67
    up = [b["health"]["uptime"] for b in full]
    assert all(290 <= b - a <= 310 for a, b in zip(up, up[1:])), "the uptime jumped (at the ticks wrap?)"
    heap = min(b["health"]["heap_free"] for b in bodies)
    assert heap > 4096, f"only {heap} bytes of heap left at a window's end"
    # the simulated world shows through: SO2 plume at noon, smoke in the morning, cold nights
    def mean(bs, slot, ch):
        return sum(b["sensors"][slot]["ch"][ch]["mean"] for b in bs) / len(bs)

    at = lambda a, b: [x for x in full if (x["t0"] - start) % DAY in range(a, b)]
    night, morning, noon = at(0, 1800), at(21600 - 900, 21600 + 900), at(32400 - 900, 32400 + 900)
    assert mean(noon, "so2", "we_mv") > mean(night, "so2", "we_mv") + 5  # the plume on the WE
    assert mean(morning, "pm", "pm25_cf1") > 3 * mean(night, "pm", "pm25_cf1")  # 65 vs 12 ug/m3
    assert all(b["sensors"]["th"]["ch"]["t_c"]["max"] < 0 for b in full)
