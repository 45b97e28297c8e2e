# Wiring at boot: from a sensor's entry in the checked config (node.config resolved its driver,
# bus, pins and sampling policy from drivers/types.json and the board file) to its Slot: the
# driver class (imported only for configured types), options and power gate. Boot only:
# node.startup unloads this module once the slots exist.
#
#     slot = wiring.slot("pm", cfg["sensors"]["pm"], board)
from node.sensors import Slot


def slot(name, s, board, where="config.json.sensors"):
    where = "%s.%s" % (where, name)
    mod, cname = s["driver"]
    cls = getattr(__import__("node.drivers." + mod, None, None, (cname,)), cname)
    kw = dict(s["options"])
    kind = s["bus"]
    bus = None
    if kind:
        bus = s[kind]
        for p in ("tx", "rx") if kind == "uart" else ("scl", "sda"):
            kw[p] = s[p]
        if kind == "i2c":
            kw["addr"] = s["addr"]
    if s["warmup_s"] is not None:
        kw["warmup_ms"] = s["warmup_s"] * 1000
    if s["model"] is not None:
        kw["model"] = s["model"]
    gate = None
    if s["power"] is not None:
        import machine

        g = board["power"][s["power"]]
        gate = (machine.Pin(g["pin"], machine.Pin.OUT), g.get("on", 1))
        gate[0].value(gate[1])
    sample = s["sample_s"]
    return Slot(name, cls, bus, kw, s["every_s"] * 1000,
                sample * 1000 if hasattr(cls, "sleep") or gate is not None else 0, gate, s["id"], where)
