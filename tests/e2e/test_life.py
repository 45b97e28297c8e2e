"""Node life on the virtual board: power cuts, the watchdog, safe mode, bad configuration."""

import json

import pytest

from .conftest import CHECK, KEY, T0, config

pytestmark = pytest.mark.e2e


def records(vn):
    """Console records, each identity once (the serial uplink may send one again; a line cut by
    a power cut runs into the next boot's first line and is not a record)."""
    seen = {}
    for line in vn.lines:
        if line.startswith(b'{"v":1'):
            try:
                r = json.loads(line)
            except ValueError:
                continue
            seen.setdefault((r["boot"], r["seq"]), r)
    return list(seen.values())


def test_power_cuts_keep_seq_rising_and_count_boots(make_node):
    vn = make_node(config(spool={"max_records": 1000}), vtime="virtual", end=T0 + 10 ** 6)
    vn.start()
    vn.expect(rb"window to .* seq 3 ", timeout=60)
    vn.power_cycle(off_s=600)
    vn.expect(rb"boot 2, reset: power_on", timeout=60)
    vn.expect(rb"window to .* seq 6 ", timeout=60)
    vn.power_cycle(off_s=0)
    vn.expect(rb"boot 3, reset: power_on", timeout=60)
    vn.expect(rb"window to .* seq 9 ", timeout=60)  # the records before it are out whole
    vn.stop()
    recs = records(vn)
    seqs = [r["seq"] for r in recs]
    assert seqs == sorted(set(seqs)), "seq rises across boots, never repeats"
    assert [r["boot"] for r in recs] == sorted(r["boot"] for r in recs)
    assert {r["health"]["reset"] for r in recs if r["boot"] > 1} == {"power_on"}
    assert vn.resets == [CHECK, "power_on", "power_on"]
    # after a cut the RTC reads 2000-01-01 until someone sets it: those windows say so
    assert all(r["clock"] == "unsynced" for r in recs if r["boot"] > 1)
    assert any(r["t0"] < 10 ** 9 for r in recs if r["boot"] > 1)


def test_a_hung_sensor_trips_the_watchdog_and_the_record_tells(make_node):
    cfg = config(wdt_s=30, sensors={"pm": {"type": "fake", "model": "hang900"}})
    vn = make_node(cfg, vtime="virtual", end=T0 + 10 ** 6)
    vn.start()
    vn.expect(rb"watchdog expired", timeout=60)
    vn.expect(rb'"boot":2,.*"reset":"wdt"', timeout=60)
    assert vn.resets[:2] == [CHECK, "wdt"]


def test_crashing_at_every_start_ends_in_safe_mode_with_the_repl_free(make_node):
    cfg = config(wdt_s=30, sensors={"pm": {"type": "fake", "model": "hang"}})
    vn = make_node(cfg, vtime="virtual", end=T0 + 10 ** 6)
    vn.start()
    vn.expect(rb"SAFE MODE: the last 3 starts failed \(last reset: wdt\)", timeout=60)
    vn.expect(rb">>> $", timeout=20)
    vn.write(b"print(6 * 7)\r")
    vn.expect(rb"^42$", timeout=20)
    assert vn.resets == [CHECK, "wdt", "wdt", "wdt"]
    assert not records(vn)
    # a power cycle is a fresh start; so is clear_safe_mode() after the cause is fixed
    vn.write(b"import node.startup; node.startup.clear_safe_mode()\r")
    vn.expect(rb"boot 5, reset: hard", timeout=20)
    vn.expect(rb"watchdog expired", timeout=60)


BAD = [
    pytest.param({"sensors": {"pm": {"type": "pms9000"}}},
                 'config.json.sensors.pm.type: unknown sensor type "pms9000"; use one of ', id="unknown type"),
    pytest.param({"sensors": {"pm": {"type": "fake", "sampel_s": 60}}},
                 'config.json.sensors.pm: unknown key "sampel_s"; known keys: addr, every_s, i2c, id, model, power, '
                 'rx, sample_s, scl, sda, tx, type, uart, warmup_s', id="malformed key"),
    pytest.param({"sensors": {"so2": {"type": "isb", "fsr_mv": 6144}}},
                 "config.json.sensors.so2: isb: unsupported fsr_mv (ADS1115 full scale) 6144; use one of 4096, 2048, "
                 "1024, 512, 256", id="bad driver option"),
    pytest.param({"sensors": {"pm": {"type": "sht3x", "i2c": 1}}},
                 "config.json.sensors.pm: no scl pin for I2C 1 on board virtual; add \"scl\": <GPIO> or use i2c 0",
                 id="missing pin"),
    pytest.param({"sensors": {"pm": {"type": "pms5003", "uart": 1, "tx": 36}}},
                 "config.json.sensors.pm.tx: GPIO 36 is input-only on esp32; tx must drive the line, wire it to "
                 "another GPIO", id="input-only pin as TX"),
    pytest.param({"key": "00ff"}, "config.json.key: must be 64 lowercase hex digits", id="short key"),
    pytest.param({"window_s": 420}, "config.json.window_s: 420 does not divide a day", id="window"),
    pytest.param({"uplinks": {"http": {"url": "http://h/x"}}}, "config.json.wifi: the network uplinks (http) need WiFi",
                 id="http without wifi"),
    pytest.param({"node": None}, 'config.json: "node" is missing; add it', id="no node id"),
    pytest.param({"wdt_s": 20, "wifi": {"ssid": "x"}, "uplinks": {"http": {"url": "http://h/x", "timeout_s": 30}}},
                 "config.json.wdt_s: 20 s is less than twice uplinks.http.timeout_s (30 s): a slow host would reset "
                 "the node; raise wdt_s to 60 or lower timeout_s", id="watchdog shorter than two timeouts"),
]


@pytest.mark.parametrize("change, line", BAD)
def test_a_bad_config_is_one_plain_line_and_the_repl_stays(make_node, change, line):
    vn = make_node(config(**change), vtime="virtual", end=T0 + 10 ** 6)
    vn.start()
    vn.expect(rb"^tynys: config\.json.*\(not measuring; the REPL is free\)$", timeout=60)
    vn.expect(rb">>> $", timeout=20)
    problems = [ln.decode() for ln in vn.lines if ln.startswith(b"tynys: config.json")]  # one line each
    assert any(p.startswith("tynys: " + line) for p in problems), problems
    vn.write(b"print(6 * 7)\r")
    vn.expect(rb"^42$", timeout=20)
    errors = [ln for ln in vn.lines if ln.endswith(b"the REPL is free)")]
    assert len(errors) == 1 and not any(ln.startswith(b"Traceback") for ln in vn.lines)


def test_malformed_json_is_named(make_node):
    vn = make_node(vtime="virtual", end=T0 + 10 ** 6)
    vn.put("config.json", b'{"node": "vn-01", "key": "%s"' % KEY.encode())  # no closing brace
    vn.start()
    m = vn.expect(rb"^tynys: config\.json.*\(not measuring; the REPL is free\)$", timeout=60)
    assert b"not valid JSON" in m.group(0)


def test_a_brownout_loop_at_wifi_start_ends_in_safe_mode(make_node):
    # A supply that gives way when the radio starts: an ESP32 reports each brownout as a power-on.
    weak = {"network": {"outages": [{"from": T0 - 60, "to": T0 + 600, "what": "brownout"}]}}
    vn = make_node(config(wifi={"ssid": "balcony", "password": "x"}), weak, vtime="virtual", end=T0 + 10 ** 6)
    vn.start()
    vn.expect(rb"SAFE MODE: the last 3 starts failed \(last reset: power_on", timeout=60)
    assert vn.resets == [CHECK, "brownout", "brownout", "brownout"]
    vn.expect(rb">>> $", timeout=20)
    vn.power_cycle(off_s=900)  # on a better supply a quarter of an hour later: a fresh start
    vn.expect(rb"boot 5, reset: power_on", timeout=60)
    vn.expect(rb"window to .* seq 0 ", timeout=60)


def test_the_reset_button_reads_as_a_power_on_on_an_esp32(make_node):
    vn = make_node(vtime="virtual", end=T0 + 10 ** 6)
    vn.start()
    vn.expect(rb"window to .* seq 1 ", timeout=60)
    vn.reset()  # EN: a chip reset, reported as PWRON_RESET (never HARD_RESET)
    vn.expect(rb"boot 2, reset: power_on", timeout=60)
    assert vn.resets == [CHECK, "en"]
