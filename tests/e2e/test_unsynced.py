"""A node on WiFi whose NTP is blocked for its first hour, collected over serial by the real host:
the windows it measured on its 2000-01-01 clock are stored, acknowledged and re-timed to the
world's times once NTP sets the clock; none is lost."""

import time

import pytest

from tynys.ingest import Collector, Ingestor
from tynys.keys import KeyFile
from tynys.registry import add_node
from tynys.store import Store
from tynys.transport.serialport import SerialIngest
from tynys.vnode import POWER_ON_RTC

from .conftest import KEY, T0, config

pytestmark = pytest.mark.e2e

END = T0 + 2 * 3600 + 600


def test_windows_before_the_clock_was_set_are_stored_and_retimed(make_node, tmp_path):
    store = Store.open(tmp_path / "city.db")
    keys = KeyFile(tmp_path / "city.keys")
    add_node(store, keys, "vn-01", key=bytes.fromhex(KEY))
    cfg = config(wifi={"ssid": "balcony", "password": "x"})  # NTP on, records over the serial console
    vn = make_node(cfg, {"network": {"outages": [{"from": T0 - 60, "to": T0 + 3600, "what": "ntp"}]}},
                   vtime="virtual", end=END)
    with Collector(Ingestor(store, keys, now=lambda: vn.world_time())) as col:
        vn.start()
        ing = SerialIngest(col, [vn.port], set_time=False).start()  # only NTP sets the clock
        vn.wait_world(END, timeout=180)
        vn.expect(rb"clock set by ntp", timeout=30)
        deadline = time.monotonic() + 60
        while store.stats()["records"] < (END - T0) // 300 and time.monotonic() < deadline:
            time.sleep(0.2)
        ing.stop()
    rows = store.conn.execute("SELECT boot, seq, clock, timing, t0, t1, eff_t0, eff_t1, timing_note FROM records"
                              " ORDER BY seq").fetchall()
    assert {r[0] for r in rows} == {1}  # boot 0 only checked the config
    assert [r[1] for r in rows] == list(range(len(rows))) and len(rows) >= (END - T0) // 300  # none lost
    assert set(store.stats()["rejected_by_reason"]) <= {"replay"}
    unsynced = [r for r in rows if r[2] == "unsynced"]
    assert len(unsynced) >= 12 and unsynced == rows[:len(unsynced)]  # the first hour, on the 2000-01-01 clock
    assert all(r[4] < 10 ** 9 for r in unsynced)
    # the node's clock read world - (T0 - POWER_ON_RTC) until NTP set it: each window at its world time
    world = T0 - POWER_ON_RTC
    assert [r[3] for r in unsynced] == ["retimed"] * len(unsynced), unsynced[0][8]
    assert all(abs(r[6] - (r[4] + world)) <= 1 and abs(r[7] - (r[5] + world)) <= 1 for r in unsynced)
    first_synced = rows[len(unsynced)]
    assert first_synced[2] == "ntp" and first_synced[4] == unsynced[-1][7]  # the cut window meets it
    assert store.stats()["pending"] == 0
    s = store.series("vn-01", "pm.pm25")
    assert len(s) == len(rows) and s.t0[0] == unsynced[0][6] and (s.t0[1:] >= s.t1[:-1]).all()
    store.close()
