# Sensor drivers, one module per family; a driver module is imported only when a node's
# configuration names its type (a node with a PMS5003 never loads the SPS30 code).
#
#     from node import drivers
#     pm = drivers.create("pms7003", 1, tx=17, rx=16)      # -> pms.PMS5003(1, model="pms7003", ...)
#     cls = drivers.driver("sht3x")                        # the class, e.g. for its CHANNELS
#
# The contract every driver follows is in docs/dev.md ("Driver contract").

# config type name -> (module, class, model passed to the class)
TYPES = {
    "pms5003": ("pms", "PMS5003", "pms5003"),
    "pms7003": ("pms", "PMS5003", "pms7003"),
    "pmsa003": ("pms", "PMS5003", "pmsa003"),
    "pms5003t": ("pms", "PMS5003T", "pms5003t"),
    "sds011": ("sds011", "SDS011", None),
    "sps30": ("sps30", "SPS30", None),
    "isb": ("isb", "ISB", None),
    "ze03": ("ze03", "ZE03", None),
    "dgs": ("dgs", "DGS", None),
    "sht3x": ("sht3x", "SHT3x", None),
    "bme280": ("bme280", "BME280", None),
}


def _entry(name):
    e = TYPES.get(name)
    if e is None:
        raise ValueError("unknown sensor type %r; use one of %s"
                         % (name, ", ".join(sorted(TYPES))))
    return e


def driver(name):
    """The driver class for a configuration type name (imports its module now)."""
    mod, cls, _ = _entry(name)
    return getattr(__import__("node.drivers." + mod, None, None, (cls,)), cls)


def create(name, bus, **options):
    """A driver for `name` on `bus` (an open UART/I2C, or its number with pins in options)."""
    model = _entry(name)[2]
    if model is not None:
        if options.get("model", model) != model:
            raise ValueError("%s: model %r contradicts the type; set type to the model's name"
                             % (name, options["model"]))
        options["model"] = model
    return driver(name)(bus, **options)
