# config.json and board.json: checked against the tables below and the sensor type table
# (drivers/types.json), defaults filled in, each sensor resolved to its driver, bus and pins.
# Every problem is found in one pass, each one line naming the field and the fix; the node prints
# them and stays at the REPL (docs/node.md lists every field). The host runs this same module on
# CPython (`tynys config check`), so a config is judged the same way on both.
#
#     cfg = load("config.json", "board.json")   # dict with defaults, or ConfigError (all problems)
#     brd = board("board.json")
#     probs = problems(cfg, brd)                 # [] or ["config.json.sensors.th.addr: ...", ...]
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
_PINS = {"uart": (("tx", True), ("rx", False)), "i2c": (("scl", True), ("sda", True))}
_NAME = re.compile("^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_SLOT = re.compile("^[a-z][a-z0-9_]*$")
_HEX = "0123456789abcdef"


def check(where, d, table, out, extra=()):
    """Check dict d against SPEC[table], fill defaults and append every problem to `out`;
    `where` names it in messages. Keys in `extra` are let through as they are."""
    spec = SPEC[table]
    if not isinstance(d, dict):
        out.append("%s: expected an object {...}, got %s" % (where, json.dumps(d)))
        return d
    for k in d:
        if k not in spec and k not in extra:
            out.append("%s: unknown key %s; known keys: %s" % (
                where, json.dumps(k), ", ".join(sorted(list(spec) + list(extra)))))
    for k, rule in spec.items():
        typ, default = rule[0], rule[1]
        f = "%s.%s" % (where, k)
        if k not in d or d[k] is None:
            if default is REQ:
                out.append("%s: %s is missing; add it (see docs/node.md)" % (where, json.dumps(k)))
            d[k] = None if default is REQ else default
        v = d[k]
        if v is None:
            continue
        if typ is int and k == "addr" and isinstance(v, str):  # "0x44" reads better than 68
            try:
                v = d[k] = int(v, 16) if v[:2] in ("0x", "0X") else int(v)
            except ValueError:
                out.append("%s: %s is not an I2C address; write it as 68 or \"0x44\"" % (f, json.dumps(v)))
                d[k] = None
                continue
        if typ is int and (not isinstance(v, int) or isinstance(v, bool)):
            out.append("%s: expected a whole number, got %s" % (f, json.dumps(v)))
            d[k] = None
        elif typ is str and not isinstance(v, str):
            out.append("%s: expected a string in double quotes, got %s" % (f, json.dumps(v)))
            d[k] = None
        elif typ is dict:
            if not isinstance(v, dict):
                out.append("%s: expected an object {...}, got %s" % (f, json.dumps(v)))
                d[k] = default if isinstance(default, dict) else None
            elif k in SPEC:
                check(f, v, k, out)
        elif typ is int and len(rule) > 2 and not rule[2] <= v <= rule[3]:
            out.append("%s: %d is out of range; use %d to %d" % (f, v, rule[2], rule[3]))
            d[k] = None
    return d


def _read(path, what):
    try:
        with open(path) as f:
            text = f.read()
    except OSError:
        raise ConfigError("%s: not found on the node; %s" % (path, what))
    try:
        return json.loads(text)
    except ValueError:
        raise ConfigError("%s: not valid JSON (check quotes, commas and braces); the node keeps its REPL until it is fixed" % path)


def load(path="config.json", board_path="board.json"):
    """config.json checked against board.json; ConfigError with one line per problem."""
    cfg = _read(path, "copy one there (tynys provision, tynys vnode create, or mpremote cp config.json :)")
    try:
        brd = board(board_path, limits=True)
        out = []
    except ConfigError as e:
        brd = None
        out = [str(e)]
    out += problems(cfg, brd, path)
    if out:
        raise ConfigError("\n".join(out))
    return cfg


def problems(cfg, brd=None, path="config.json"):
    """Every problem of a parsed config (and, given the board, of its pins), one line each.
    Fills in defaults and resolves each sensor's driver, bus and pins in place."""
    out = []
    if not isinstance(cfg, dict):
        return ["%s: expected an object {...} at the top" % path]
    ntp_off = cfg.get("ntp") is False  # "ntp": false turns NTP off (time from the host only)
    if ntp_off:
        del cfg["ntp"]
    check(path, cfg, "config", out)
    if ntp_off:
        cfg["ntp"] = None
    node = cfg["node"]
    if node is not None and (not _NAME.match(node) or len(node) > 64):
        out.append("%s.node: %s is not a node id; use letters, digits, '_', '.', '-' (at most 64), as registered on the host" % (path, json.dumps(node)))
    key = cfg["key"]
    if key is not None and (len(key) != 64 or any(c not in _HEX for c in key)):
        out.append("%s.key: must be 64 lowercase hex digits (the node's 32-byte key, as `tynys nodes add` printed it)" % path)
    if cfg["window_s"] and 86400 % cfg["window_s"]:
        out.append("%s.window_s: %d does not divide a day; use 60, 120, 300, 600, 900, 1800 or 3600" % (path, cfg["window_s"]))
    if cfg["sensors"] is not None:
        _sensors(cfg["sensors"], brd, path, out)
    _uplinks(cfg, path, out)
    return out


def _sensors(sensors, brd, path, out):
    if not sensors:
        out.append("%s.sensors: no sensors; add at least one, e.g. \"pm\": {\"type\": \"pms5003\", \"uart\": 1}" % path)
    types = drivers.types()
    used = {}  # GPIO -> (slot, role, kind, bus) of the first slot that wired it
    buses = {}  # (kind, bus[, addr]) -> slot
    for name in sorted(sensors):
        s = sensors[name]
        if not _SLOT.match(name) or len(name) > 16:
            out.append("%s.sensors: slot name %s: use lowercase letters, digits and '_' (at most 16), e.g. pm, th, so2" % (path, json.dumps(name)))
            continue
        where = "%s.sensors.%s" % (path, name)
        if not isinstance(s, dict) or not isinstance(s.get("type"), str):
            out.append('%s: give the sensor\'s "type", e.g. {"type": "pms5003", "uart": 1}' % where)
            continue
        e = types.get(s["type"])
        if e is None:
            out.append('%s.type: unknown sensor type "%s"; use one of %s' % (where, s["type"], ", ".join(sorted(types))))
            continue
        opts = e["options"]
        check(where, s, "sensor", out, opts)
        s["options"] = {k: s.pop(k) for k in opts if k in s}
        if e["model"] and s["model"] not in (None, e["model"]):
            out.append('%s.model: "%s" contradicts type "%s"; set "type" to the model' % (where, s["model"], s["type"]))
        s["model"] = s["model"] or e["model"]
        s["driver"] = [e["module"], e["class"]]
        s["every_s"] = s["every_s"] or e["every_s"]
        if s["sample_s"] is None:
            s["sample_s"] = e["sample_s"]
        kind = e["bus"]
        s["bus"] = kind
        for other in ("uart", "i2c"):
            if other == kind:
                continue
            wrong = [k for k in (other,) + tuple(r for r, _ in _PINS[other]) if s.get(k) is not None]
            if wrong:
                out.append('%s: %s is %s; "%s" belongs to %s sensors (use %s)' % (
                    where, s["type"], "an I2C sensor" if kind == "i2c" else (
                        "a UART sensor" if kind == "uart" else "on no bus"),
                    wrong[0], other.upper(), "\"%s\"" % kind if kind else "none"))
        if kind == "i2c":
            if s["addr"] is None:
                s["addr"] = e["addr"][0]
            elif s["addr"] not in e["addr"]:
                out.append("%s.addr: 0x%02x is not an address a %s can have; use %s" % (
                    where, s["addr"], s["type"], " or ".join("0x%02x" % a for a in e["addr"])))
        elif s["addr"] is not None:
            out.append('%s.addr: only I2C sensors have an address; remove "addr"' % where)
        if brd is not None and kind:
            _wire(where, s, kind, brd, used, buses, out)
        if brd is not None and s["power"] is not None and s["power"] not in brd.get("power", {}):
            out.append('%s.power: board %s has no power gate "%s"; use one of %s' % (
                where, brd["board"], s["power"], ", ".join(sorted(brd.get("power", {}))) or "(none)"))


def _wire(where, s, kind, brd, used, buses, out):
    # The sensor's bus and pins on this board: the bus exists on the chip, each pin is a GPIO the
    # chip has, not one the board or chip reserves, able to drive a line where it must, and not
    # wired to another sensor (I2C sensors share their bus's two lines).
    socks = brd.get(kind, {})
    lim = brd.get("limits")
    bus = s[kind]
    if bus is None:
        if len(socks) != 1:
            out.append('%s: which %s? add "%s": one of %s (board %s)' % (
                where, kind.upper(), kind, ", ".join(sorted(socks)) or "-", brd["board"]))
            return
        bus = s[kind] = int(list(socks)[0])
    if lim:
        n = lim["uarts" if kind == "uart" else "i2c"]
        first = 1 if kind == "uart" else 0
        if not first <= bus < n:
            have = ", ".join("%s%d" % (kind.upper(), i) for i in range(first, n))
            out.append('%s.%s: %s%d %s on %s (chip %s); use %s' % (
                where, kind, kind.upper(), bus,
                "is the REPL console" if kind == "uart" and bus == 0 else "does not exist",
                brd["board"], brd.get("chip"), have or "another board"))
            return
    sock = socks.get(str(bus), {})
    key = (kind, bus) if kind == "uart" else (kind, bus, s["addr"])
    if key in buses:
        out.append("%s: %s shares %s%d%s with sensor %s; give each its own" % (
            where, s["type"], kind.upper(), bus, " at 0x%02x" % s["addr"] if kind == "i2c" else "",
            buses[key]))
    buses[key] = where.rsplit(".", 1)[1]
    for role, drives in _PINS[kind]:
        pin = s[role] if s[role] is not None else sock.get(role)
        if pin is None:
            out.append('%s: no %s pin for %s %d on board %s; add "%s": <GPIO> or use %s %s' % (
                where, role, kind.upper(), bus, brd["board"], role, kind,
                " or ".join(sorted(socks)) or "-"))
            continue
        s[role] = pin
        f = "%s.%s" % (where, role)
        if lim:
            why = lim["reserved"].get(str(pin))
            if pin not in lim["gpio"]:
                out.append("%s: GPIO %d does not exist on %s (chip %s); wire %s to a GPIO the board has" % (
                    f, pin, brd["board"], brd.get("chip"), role))
                continue
            if why:
                out.append("%s: GPIO %d is reserved on %s (%s); wire %s to another GPIO" % (
                    f, pin, brd["board"], why, role))
                continue
            if drives and pin in lim["input_only"]:
                out.append("%s: GPIO %d is input-only on %s; %s must drive the line, wire it to another GPIO" % (
                    f, pin, brd.get("chip"), role))
                continue
        other = used.get(pin)
        if other and not (kind == "i2c" and other[2:] == (kind, bus) and other[1] == role):
            out.append("%s: GPIO %d is already %s of sensor %s; wire %s to another GPIO" % (
                f, pin, other[1], other[0], role))
        used.setdefault(pin, (where.rsplit(".", 1)[1], role, kind, bus))


def _uplinks(cfg, path, out):
    ups = cfg["uplinks"] or {}
    for name, u in ups.items():
        if not isinstance(u, dict):
            continue
        if name in ("http", "sensor_community") and u.get("url") and not u["url"].startswith("http://"):
            out.append("%s.uplinks.%s.url: %s: only http:// URLs are supported" % (path, name, json.dumps(u["url"])))
        # One blocking call (connect, send, an answer) may take timeout_s; the watchdog is fed
        # between calls, so it must outlast two of them.
        t = u.get("timeout_s")
        if t and cfg["wdt_s"] and cfg["wdt_s"] < 2 * t:
            out.append("%s.wdt_s: %d s is less than twice uplinks.%s.timeout_s (%d s): a slow host would reset the "
                       "node; raise wdt_s to %d or lower timeout_s" % (path, cfg["wdt_s"], name, t, 2 * t))
        if name == "mqtt" and (u.get("user") is None) != (u.get("password") is None):
            out.append("%s.uplinks.mqtt: a broker login needs both \"user\" and \"password\"; give both or neither" % path)
    net = [k for k in ("http", "mqtt", "sensor_community") if ups.get(k)]
    wifi = cfg["wifi"]
    if net and wifi is None:
        out.append("%s.wifi: the network uplinks (%s) need WiFi; add \"wifi\": {\"ssid\": \"...\", \"password\": \"...\"}" % (
            path, ", ".join(net)))
    elif isinstance(wifi, dict) and wifi.get("ssid") == "":
        out.append("%s.wifi.ssid: empty; give the name of the access point" % path)


def board(path="board.json", limits=False):
    """The board file (boards/<name>.json as `tynys` writes it to the node, with its chip's
    limits folded in): pins by bus and gate name; with limits=True also what the chip allows
    (only the check needs those)."""
    b = _read(path, "copy boards/<your board>.json there as board.json (tynys provision does)")
    for k in ("board", "chip", "uart", "i2c"):
        if k not in b:
            raise ConfigError("%s: %s is missing; copy the board file again from boards/" % (path, json.dumps(k)))
    return {k: b.get(k, {}) for k in ("board", "chip", "uart", "i2c", "power") + (("limits",) if limits else ())}
