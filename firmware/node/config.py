# config.json and board.json: read once at boot, checked against the tables below, defaults
# filled in. Any problem is one ConfigError whose text names the field and the fix; the node
# prints it and stays at the REPL (docs/node.md lists every field).
#
#     cfg = load("config.json")       # dict with defaults, or ConfigError
#     brd = board("board.json")
import json
import re
from node import ConfigError, drivers

REQ = object()  # marks a required field

# field: (type, default[, min, max]); a dict default is checked with the table of that name.
SPEC = {
    "config": {
        "node": (str, REQ), "key": (str, REQ), "window_s": (int, 300, 60, 3600),
        "wdt_s": (int, 60, 20, 600), "sensors": (dict, REQ), "wifi": (dict, None),
        "ntp": (dict, {}), "uplinks": (dict, {"serial": {}}), "spool": (dict, {}),
    },
    "sensor": {
        "type": (str, REQ), "model": (str, None), "id": (str, None),
        "uart": (int, None, 0, 2), "tx": (int, None, 0, 48), "rx": (int, None, 0, 48),
        "i2c": (int, None, 0, 1), "scl": (int, None, 0, 48), "sda": (int, None, 0, 48),
        "addr": (int, None, 8, 119), "every_s": (int, None, 1, 3600),
        "sample_s": (int, None, 0, 3600), "warmup_s": (int, None, 0, 86400), "power": (str, None),
    },
    "wifi": {"ssid": (str, REQ), "password": (str, "")},
    "ntp": {"host": (str, "pool.ntp.org"), "every_h": (int, 6, 1, 168)},
    "uplinks": {"serial": (dict, None), "http": (dict, None), "mqtt": (dict, None),
                "sensor_community": (dict, None)},
    "serial": {"retry_s": (int, 60, 5, 86400), "batch": (int, 16, 1, 256)},
    "http": {"url": (str, REQ), "batch": (int, 8, 1, 64), "timeout_s": (int, 10, 1, 30),
             "retry_s": (int, 30, 1, 3600), "retry_max_s": (int, 900, 1, 86400)},
    "mqtt": {"host": (str, REQ), "port": (int, 1883, 1, 65535), "user": (str, None),
             "password": (str, None), "keepalive_s": (int, 60, 10, 3600),
             "timeout_s": (int, 10, 1, 30), "retry_s": (int, 30, 1, 3600),
             "retry_max_s": (int, 900, 1, 86400), "prefix": (str, "tynys")},
    "sensor_community": {"url": (str, "http://api.sensor.community/v1/push-sensor-data/"),
                         "sensor_id": (str, None), "timeout_s": (int, 5, 1, 20)},
    "spool": {"max_records": (int, 700, 10, 100000)},
}
# Driver options by sensor type, passed on to the driver, which checks their values
# (docs/drivers.md lists what each means).
OPTIONS = {
    "pms5003": ("mode",), "pms7003": ("mode",), "pmsa003": ("mode",), "pms5003t": ("mode",),
    "sds011": ("mode", "period"), "sps30": (), "ze03": ("resolution_ppb",), "dgs": ("mode",),
    "isb": ("we", "ae", "fsr_mv", "rate", "serial"), "sht3x": ("repeatability",),
    "bme280": ("oversample",),
}
_NAME = re.compile("^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_SLOT = re.compile("^[a-z][a-z0-9_]*$")
_HEX = "0123456789abcdef"


def _fail(where, msg):
    raise ConfigError("%s: %s" % (where, msg))


def check(where, d, table, extra=()):
    """Check dict d against SPEC[table] and fill defaults; `where` names it in messages.
    Keys in `extra` are let through as they are."""
    spec = SPEC[table]
    if not isinstance(d, dict):
        _fail(where, "expected an object {...}, got %s" % json.dumps(d))
    for k in d:
        if k not in spec and k not in extra:
            _fail(where, "unknown key %s; known keys: %s" % (
                json.dumps(k), ", ".join(sorted(list(spec) + list(extra)))))
    for k, rule in spec.items():
        typ, default = rule[0], rule[1]
        f = "%s.%s" % (where, k)
        if k not in d or d[k] is None:
            if default is REQ:
                _fail(where, "%s is missing; add it (see docs/node.md)" % json.dumps(k))
            d[k] = default
        v = d[k]
        if v is None:
            continue
        if typ is int and k == "addr" and isinstance(v, str):  # "0x44" reads better than 68
            try:
                v = d[k] = int(v, 16) if v[:2] in ("0x", "0X") else int(v)
            except ValueError:
                _fail(f, "%s is not an I2C address; write it as 68 or \"0x44\"" % json.dumps(v))
        if typ is int and (not isinstance(v, int) or isinstance(v, bool)):
            _fail(f, "expected a whole number, got %s" % json.dumps(v))
        if typ is str and not isinstance(v, str):
            _fail(f, "expected a string in double quotes, got %s" % json.dumps(v))
        if typ is dict:
            if not isinstance(v, dict):
                _fail(f, "expected an object {...}, got %s" % json.dumps(v))
            if k in SPEC:
                check(f, v, k)
        if typ is int and len(rule) > 2 and not rule[2] <= v <= rule[3]:
            _fail(f, "%d is out of range; use %d to %d" % (v, rule[2], rule[3]))
    return d


def load(path="config.json"):
    try:
        with open(path) as f:
            text = f.read()
    except OSError:
        raise ConfigError("%s: not found on the node; copy one there (tynys vnode create, or mpremote cp config.json :)" % path)
    try:
        cfg = json.loads(text)
    except ValueError:
        raise ConfigError("%s: not valid JSON (check quotes, commas and braces); the node keeps its REPL until it is fixed" % path)
    ntp_off = cfg.get("ntp") is False  # "ntp": false turns NTP off (time from the host only)
    if ntp_off:
        del cfg["ntp"]
    check(path, cfg, "config")
    if ntp_off:
        cfg["ntp"] = None
    if not _NAME.match(cfg["node"]) or len(cfg["node"]) > 64:
        _fail(path + ".node", "%s is not a node id; use letters, digits, '_', '.', '-' (at most 64), as registered on the host" % json.dumps(cfg["node"]))
    key = cfg["key"]
    if len(key) != 64 or any(c not in _HEX for c in key):
        _fail(path + ".key", "must be 64 lowercase hex digits (the node's 32-byte key, as `tynys nodes add` printed it)")
    if 86400 % cfg["window_s"]:
        _fail(path + ".window_s", "%d does not divide a day; use 60, 120, 300, 600, 900, 1800 or 3600" % cfg["window_s"])
    if not cfg["sensors"]:
        _fail(path + ".sensors", "no sensors; add at least one, e.g. \"pm\": {\"type\": \"pms5003\", \"uart\": 1}")
    for name, s in cfg["sensors"].items():
        if not _SLOT.match(name) or len(name) > 16:
            _fail(path + ".sensors", "slot name %s: use lowercase letters, digits and '_' (at most 16), e.g. pm, th, so2" % json.dumps(name))
        where = "%s.sensors.%s" % (path, name)
        if not isinstance(s, dict) or not isinstance(s.get("type"), str):
            _fail(where, 'give the sensor\'s "type", e.g. {"type": "pms5003", "uart": 1}')
        if s["type"] not in drivers.TYPES:
            _fail(where + ".type", 'unknown sensor type "%s"; use one of %s' % (
                s["type"], ", ".join(sorted(drivers.TYPES))))
        opts = OPTIONS.get(s["type"], ())
        check(where, s, "sensor", opts)
        s["options"] = {k: s.pop(k) for k in opts if k in s}
    for name, u in cfg["uplinks"].items():
        if u is None:
            continue
        if name in ("http", "sensor_community") and not u["url"].startswith("http://"):
            _fail("%s.uplinks.%s.url" % (path, name), "%s: only http:// URLs are supported" % json.dumps(u["url"]))
        # One blocking call (connect, send, an answer) may take timeout_s; the watchdog is fed
        # between calls, so it must outlast two of them.
        t = u.get("timeout_s")
        if t and cfg["wdt_s"] < 2 * t:
            _fail(path + ".wdt_s", "%d s is less than twice uplinks.%s.timeout_s (%d s): a slow host would reset the "
                  "node; raise wdt_s to %d or lower timeout_s" % (cfg["wdt_s"], name, t, 2 * t))
    if cfg["wifi"] is None and any(cfg["uplinks"].get(k) for k in ("http", "mqtt", "sensor_community")):
        _fail(path + ".wifi", "the network uplinks need WiFi; add \"wifi\": {\"ssid\": \"...\", \"password\": \"...\"}")
    return cfg


def board(path="board.json"):
    """The board file (boards/<name>.json copied to the node): pins by bus and gate name."""
    try:
        with open(path) as f:
            b = json.load(f)
    except OSError:
        raise ConfigError("%s: not found on the node; copy boards/<your board>.json there as board.json" % path)
    except ValueError:
        raise ConfigError("%s: not valid JSON; copy it again from boards/" % path)
    for k in ("board", "chip", "uart", "i2c"):
        if k not in b:
            raise ConfigError("%s: %s is missing; copy the board file again from boards/" % (path, json.dumps(k)))
    return {k: b.get(k, {}) for k in ("board", "uart", "i2c", "power")}  # what the node uses
