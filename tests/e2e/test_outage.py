"""`tynys serve` unreachable for a simulated day: every record still arrives, in order, once
after dedupe; or, when the spool's bound is hit, exactly the dropped records are missing and the
count travels in the next record."""

import pytest

from .conftest import T0, config

pytestmark = pytest.mark.e2e

OUT_FROM, OUT_TO = T0 + 3600, T0 + 3600 + 86400  # 24 h of 5-minute windows with no host


def http_node(make_node, host, **spool):
    cfg = config(wifi={"ssid": "balcony", "password": "x"},
                 uplinks={"http": {"url": host.url, "retry_s": 60, "retry_max_s": 900}},
                 spool=spool)
    scenario = {"network": {"outages": [{"from": OUT_FROM, "to": OUT_TO, "what": "host"}]}}
    return make_node(cfg, scenario, vtime="virtual", end=OUT_TO + 3 * 3600)


def arrivals(host) -> list[int]:
    return [s for (s,) in host.query("SELECT seq FROM records ORDER BY id")]


def test_a_day_without_the_host_loses_nothing(make_node, host):
    vn = http_node(make_node, host)
    vn.start()
    vn.wait_world(OUT_TO + 3 * 3600, timeout=240)
    n = (OUT_TO + 3 * 3600 - T0) // 300
    host.wait(n - 1, timeout=60)
    seqs = arrivals(host)
    assert seqs == list(range(len(seqs))), "first arrivals out of order or missing"
    assert len(seqs) >= n - 1 and host.rejected() <= {"replay"}
    bodies = host.records()
    assert {b["boot"] for b in bodies} == {1}, "the node restarted (boot 0 checked the config)"
    assert all(b["health"]["dropped"] == 0 and b["clock"] == "ntp" for b in bodies)
    backlog = max(b["health"]["spool"] for b in bodies)
    assert backlog >= 86400 // 300  # the whole day waited on flash
    # windows are aligned, contiguous and 5 minutes long from the first full one on
    assert all(b["t1"] % 300 == 0 for b in bodies)
    assert all(a["t1"] == b["t0"] for a, b in zip(bodies, bodies[1:]))


def test_when_the_bound_is_hit_the_dropped_count_is_exact(make_node, host):
    vn = http_node(make_node, host, max_records=100)
    vn.start()
    vn.wait_world(OUT_TO + 3 * 3600, timeout=240)
    host.wait(100, timeout=60)
    seqs = arrivals(host)
    last = max(seqs)
    missing = sorted(set(range(last + 1)) - set(seqs))
    assert missing, "the bound should have dropped records"
    assert missing == list(range(missing[0], missing[-1] + 1)), "the oldest ones, as one block"
    bodies = host.records()
    dropped = [b["health"]["dropped"] for b in bodies]
    assert dropped == sorted(dropped), "the count only grows"
    back = [b for b in bodies if b["t0"] >= OUT_TO]  # built once the host was back
    assert back and back[0]["health"]["dropped"] == len(missing)  # the exact count travels on
    assert all(b["health"]["dropped"] == len(missing) for b in back)
    assert seqs == sorted(seqs)
