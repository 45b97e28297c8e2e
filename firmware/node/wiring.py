# Wiring at boot: from a sensor's entry in config.json and the board file to its Slot: the
# driver class (imported only for configured types), bus and pins, options, sampling policy and
# power gate. Boot only: node.startup unloads this module once the slots exist.
#
#     slot = wiring.slot("pm", cfg["sensors"]["pm"], board)
from node import ConfigError, drivers
from node.sensors import Slot

# Node policy per type: (ask every [s], awake [s] before each window's end, 0 = always awake).
# PM sensors sleep between samples to spare laser and fan (a PMS5003 laser lasts about 8000 h
# continuous; airRohr runs its PM sensor ~20 s per 145 s: firmware-anchors.md sections 1.3, 6);
# electrochemical gas cells stay biased and T/RH sensors are cheap to keep.
POLICY = {
    "pms5003": (3, 120), "pms7003": (3, 120), "pmsa003": (3, 120), "pms5003t": (3, 120),
    "sds011": (3, 120), "sps30": (3, 120),
    "isb": (5, 0), "ze03": (5, 0), "dgs": (5, 0), "sht3x": (10, 0), "bme280": (10, 0),
}


def slot(name, s, board, where="config.json.sensors"):
    where = "%s.%s" % (where, name)
    typ = s["type"]
    cls = drivers.driver(typ)
    fixed = drivers.TYPES[typ][2]
    if fixed and s["model"] not in (None, fixed):
        raise ConfigError('%s.model: "%s" contradicts type "%s"; set "type" to the model' % (
            where, s["model"], typ))
    model = s["model"] or fixed
    kw = dict(s["options"])
    kind = getattr(cls, "BUS", "uart" if hasattr(cls, "BAUD") else "i2c")
    bus = None
    if kind:
        bus = s[kind]
        if bus is None:
            ids = sorted(board[kind])
            if len(ids) != 1:
                raise ConfigError('%s: which %s? add "%s": one of %s (board %s)' % (
                    where, kind.upper(), kind, ", ".join(ids), board["board"]))
            bus = int(ids[0])
        pins = board[kind].get(str(bus), {})
        for p in ("tx", "rx") if kind == "uart" else ("scl", "sda"):
            kw[p] = s[p] if s[p] is not None else pins.get(p)
            if kw[p] is None:
                raise ConfigError('%s: no %s pin for %s %d on board %s; add "%s": <GPIO> or use %s %s' % (
                    where, p, kind.upper(), bus, board["board"], p, kind,
                    " or ".join(sorted(board[kind])) or "-"))
        if kind == "i2c" and s["addr"] is not None:
            kw["addr"] = s["addr"]
    if s["warmup_s"] is not None:
        kw["warmup_ms"] = s["warmup_s"] * 1000
    if model is not None:
        kw["model"] = model
    gate = None
    if s["power"] is not None:
        g = board.get("power", {}).get(s["power"])
        if g is None:
            raise ConfigError('%s.power: board %s has no power gate "%s"; use one of %s' % (
                where, board["board"], s["power"], ", ".join(sorted(board.get("power", {}))) or "(none)"))
        import machine

        gate = (machine.Pin(g["pin"], machine.Pin.OUT), g.get("on", 1))
        gate[0].value(gate[1])
    pol = POLICY.get(typ, (5, 0))
    sample = pol[1] if s["sample_s"] is None else s["sample_s"]
    return Slot(name, cls, bus, kw, (s["every_s"] or pol[0]) * 1000,
                sample * 1000 if hasattr(cls, "sleep") or gate is not None else 0, gate, s["id"], where)
