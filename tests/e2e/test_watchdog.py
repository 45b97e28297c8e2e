"""The watchdog against blocking network calls. On an ESP32 every socket call waits up to its
timeout on its own and a name lookup has none (lwIP asks each DNS server 4 times over 7 s): with
wdt_s at its smallest, twice the uplinks' timeout_s, a host that does not answer, stalls or
trickles its answer, DNS and NTP that do not answer never reset the node, and every record
reaches `tynys serve` once they are back."""

import pytest

from tynys.ingest import Collector, Ingestor
from tynys.keys import KeyFile
from tynys.registry import add_node
from tynys.store import Store
from tynys.transport.mqtt import MqttIngest

from .conftest import CHECK, KEY, T0, config
from .test_typical import SCENARIO, typical

pytestmark = pytest.mark.e2e

TIMEOUT = 10
END = T0 + 2 * 3600
TRICKLE = {"what": "host", "mode": "slow", "delay_s": TIMEOUT - 1, "bytes": 1}
FAULTS = {  # from T0 + 30 min to T0 + 90 min
    "host hangs at connect": [{"what": "host", "mode": "timeout"}],
    "host stalls after the request": [{"what": "host", "mode": "stall"}],
    "host trickles its answer": [TRICKLE],
    "DNS does not answer": [{"what": "dns"}],
    # two of three DNS servers dead: the answer after 14 s, then a host that stalls
    "DNS answers late, host stalls": [{"what": "dns", "mode": "slow", "delay_s": 14}, {"what": "host", "mode": "stall"}],
    "NTP and DNS do not answer": [{"what": "ntp"}, {"what": "dns"}],
}


def plan(faults: list) -> dict:
    return {"network": {"outages": [{"from": T0 + 1800, "to": T0 + 5400, **f} for f in faults]}}


def windows(vn) -> int:
    return sum(line.startswith(b"tynys: window to ") for line in vn.lines)


@pytest.mark.parametrize("fault", FAULTS.values(), ids=FAULTS.keys())
def test_http_at_the_smallest_watchdog(make_node, host, fault):
    url = host.url.replace("127.0.0.1", "localhost")  # a name: the node looks it up each POST
    cfg = config(wdt_s=2 * TIMEOUT, wifi={"ssid": "balcony", "password": "x"},
                 uplinks={"http": {"url": url, "timeout_s": TIMEOUT, "retry_s": 60}})
    vn = make_node(cfg, plan(fault), vtime="virtual", end=END)
    vn.start()
    vn.wait_world(END, timeout=300)
    host.wait(windows(vn), timeout=120)
    assert vn.resets == [CHECK], "the watchdog reset the node"
    assert [r["seq"] for r in host.records()] == list(range(windows(vn)))
    assert any(b"http: host unreachable" in line for line in vn.lines)


def test_mqtt_broker_trickling_at_the_smallest_watchdog(make_node, mosquitto, tmp_path):
    store = Store.open(tmp_path / "city.db")
    keys = KeyFile(tmp_path / "city.keys")
    add_node(store, keys, "vn-01", key=bytes.fromhex(KEY))
    cfg = config(wdt_s=2 * TIMEOUT, wifi={"ssid": "balcony", "password": "x"},
                 uplinks={"mqtt": {"host": "localhost", "port": mosquitto.port, "timeout_s": TIMEOUT, "retry_s": 60}})
    vn = make_node(cfg, plan([TRICKLE]), vtime="virtual", end=END, heap="128K")
    with Collector(Ingestor(store, keys, now=lambda: vn.world_time())) as col:
        sub = MqttIngest(col, mosquitto.host, mosquitto.port).start()
        assert sub.connected.wait(10)
        vn.start()
        vn.wait_world(END, timeout=300)
        for _ in range(600):
            if store.stats()["records"] >= windows(vn):
                break
            __import__("time").sleep(0.1)
        sub.stop()
    assert vn.resets == [CHECK], "the watchdog reset the node"
    assert [r[0] for r in store.conn.execute("SELECT seq FROM records ORDER BY seq")] == list(range(windows(vn)))
    store.close()


def test_a_window_close_with_sensor_community_and_hanging_hosts(make_node, host):
    # At each window close the Sensor.Community push (pm and th: two POSTs) and then the HTTP
    # uplink run in one pass, each against a hanging host: fed before each, none starves it.
    hang = {"network": {"outages": [{"from": T0, "to": T0 + 7200, "what": "host", "mode": "timeout"}]}}
    cfg = typical(host.url, wdt_s=2 * TIMEOUT)
    cfg["uplinks"]["http"]["timeout_s"] = TIMEOUT
    cfg["uplinks"]["sensor_community"] = {"url": "http://127.0.0.1:9/v1/push-sensor-data/", "timeout_s": TIMEOUT}
    vn = make_node(cfg, {**SCENARIO, **hang}, vtime="virtual", end=T0 + 9000, heap="160K")
    vn.start()
    vn.wait_world(T0 + 9000, timeout=300)
    host.wait(windows(vn), timeout=120)
    assert vn.resets == [CHECK], "the watchdog reset the node"
    assert [r["seq"] for r in host.records()] == list(range(windows(vn)))
