# Sensor drivers, one module per family; a driver module is imported only when a node's
# configuration names its type (a node with a PMS5003 never loads the SPS30 code).
#
#     from node import drivers
#     pm = drivers.create("pms7003", 1, tx=17, rx=16)      # -> pms.PMS5003(1, model="pms7003", ...)
#     cls = drivers.driver("sht3x")                        # the class, e.g. for its CHANNELS
#     drivers.types()["sht3x"]["addr"]                     # the type table (types.json)
#
# Every sensor type is one entry of types.json beside this file: its driver, bus, I2C addresses,
# sampling policy, options, simulator and probe. The node, the simulators and the host all read
# that one table. It is read at boot only (JSON strings are not interned, so they leave the heap
# with it). The contract every driver follows is in docs/dev.md ("Driver contract").
_types = None
EXTRA = {}  # types a port adds for itself (the virtual node's fake sensor), merged when read


def types():
    """The type table: {type: {"module", "class", "model", "bus", ...}} (notes left out)."""
    global _types
    if _types is None:
        import json

        with open(__file__.rsplit("/", 1)[0] + "/types.json") as f:
            t = json.load(f)
        _types = {k: v for k, v in t.items() if k[0] != "_"}
        _types.update(EXTRA)
    return _types


def entry(name):
    e = types().get(name)
    if e is None:
        raise ValueError("unknown sensor type %r; use one of %s"
                         % (name, ", ".join(sorted(types()))))
    return e


def driver(name):
    """The driver class for a configuration type name (imports its module now)."""
    e = entry(name)
    return getattr(__import__("node.drivers." + e["module"], None, None, (e["class"],)), e["class"])


def create(name, bus, **options):
    """A driver for `name` on `bus` (an open UART/I2C, or its number with pins in options)."""
    model = entry(name)["model"]
    if model is not None:
        if options.get("model", model) != model:
            raise ValueError("%s: model %r contradicts the type; set type to the model's name"
                             % (name, options["model"]))
        options["model"] = model
    return driver(name)(bus, **options)
