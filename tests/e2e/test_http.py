"""HTTP uplink to `tynys serve` through a proxy that is busy or refuses big batches (the faults
a stand-in injects on the host's side: tests/e2e/receiver.py), and the Sensor.Community live push
beside it (its API stood in for)."""

import json

import pytest

from .conftest import T0
from .receiver import Capture, Interceptor
from .test_typical import SCENARIO, typical

pytestmark = pytest.mark.e2e


def test_a_busy_host_and_a_small_batch_limit_cost_nothing(make_node, host):
    with Interceptor(host.url, busy=3, max_lines=2) as proxy:
        cfg = typical(proxy.url)
        cfg["uplinks"]["http"].update(batch=8, retry_s=1)
        # the host unreachable for 2 h: a backlog of 24 records meets the 2-line limit
        scenario = dict(SCENARIO, network={"outages": [{"from": T0 + 600, "to": T0 + 7800, "what": "host"}]})
        vn = make_node(cfg, scenario, vtime="virtual", end=T0 + 4 * 3600)
        vn.start()
        vn.wait_world(T0 + 4 * 3600, timeout=240)
        host.wait(4 * 12 - 1, timeout=60)
    seqs = [r["seq"] for r in host.records()]
    assert seqs == list(range(len(seqs))) and host.rejected() <= {"replay"}
    assert 503 in proxy.statuses and 413 in proxy.statuses  # both happened, and nothing was lost
    assert proxy.statuses[-1] == 200


def test_sensor_community_gets_pm_and_t_rh_in_its_format(make_node, host):
    # HTTP + Sensor.Community on the typical node is more than fits a 96 KB heap on the 64-bit
    # unix port (docs/node.md, "Memory"): this one runs in 128 KB.
    with Capture() as sc:
        cfg = typical(host.url)
        cfg["uplinks"]["sensor_community"] = {"url": sc.url}
        vn = make_node(cfg, SCENARIO, vtime="virtual", end=T0 + 3600, unique_id="a4cf12345678", heap="128K")
        vn.start()
        vn.wait_world(T0 + 3600, timeout=120)
        host.wait(11, timeout=60)
    assert len(sc.requests) >= 2 * 10  # one POST per X-PIN per window
    pins = {}
    for method, path, headers, body in sc.requests:
        assert path == "/v1/push-sensor-data/" and headers["Content-Type"] == "application/json"
        # airRohr's chip id: the eFuse MAC read little-endian, hex(high 16 bits) + hex(low 32)
        assert headers["X-Sensor"] == "esp32-7856%x" % 0x3412cfa4
        pins.setdefault(headers["X-PIN"], []).append(json.loads(body))
    assert set(pins) == {"1", "7"}  # PM, and T/RH from the SHT3x; SO2 has no S.C. sensor type
    pm = pins["1"][-1]
    assert pm["software_version"].startswith("tynys-")
    values = {v["value_type"]: v["value"] for v in pm["sensordatavalues"]}
    assert set(values) == {"P0", "P1", "P2"} and all(isinstance(v, str) for v in values.values())
    rec = host.records()[-1]["sensors"]["pm"]["ch"]
    assert float(values["P2"]) == pytest.approx(rec["pm25_atm"]["mean"], abs=0.01)  # P2 is PM2.5
    assert float(values["P1"]) == pytest.approx(rec["pm10_atm"]["mean"], abs=0.01)  # P1 is PM10
    th = {v["value_type"]: float(v["value"]) for v in pins["7"][-1]["sensordatavalues"]}
    assert set(th) == {"temperature", "humidity"} and th["temperature"] < 0
