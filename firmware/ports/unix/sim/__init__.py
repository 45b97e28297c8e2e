# Byte-exact sensor simulators for the virtual node: each is the peer a driver talks to through
# machine.attach_uart / machine.attach_i2c (protocol at the top of ports/unix/machine.py), driven
# by a Scenario and spoiled on purpose by Faults.
#
#     import machine
#     from sim import create, attach
#     from sim.scenario import Scenario
#     from sim.faults import Faults
#     sc = Scenario(pm25=35.0, t_c=-15.0, rh=85.0, so2_ppb=60.0, seed=2)
#     pm = attach("pms5003", 1, create("pms5003", sc, faults=Faults(noise=0.05)))   # UART1
#     th = attach("sht3x", 0, create("sht3x", sc))                                   # I2C0 @ 0x44
#
# Each simulator module documents its constructor, the commands it answers and its physics.

# driver type -> (module, class, fixed keyword arguments, bus, default I2C address)
SIMS = {
    "pms5003": ("pms", "PMSSim", {"model": "pms5003"}, "uart", None),
    "pms7003": ("pms", "PMSSim", {"model": "pms7003"}, "uart", None),
    "pmsa003": ("pms", "PMSSim", {"model": "pmsa003"}, "uart", None),
    "pms5003t": ("pms", "PMSSim", {"model": "pms5003t"}, "uart", None),
    "sds011": ("sds011", "SDS011Sim", {}, "uart", None),
    "sps30": ("sps30", "SPS30Sim", {}, "uart", None),
    "ze03": ("ze03", "ZE03Sim", {}, "uart", None),
    "dgs": ("dgs", "DGSSim", {}, "uart", None),
    "sht3x": ("sht3x", "SHT3xSim", {}, "i2c", 0x44),
    "bme280": ("bme280", "BME280Sim", {}, "i2c", 0x76),
    "isb": ("isb", "ISBSim", {}, "i2c", 0x48),
}


def _entry(name):
    e = SIMS.get(name)
    if e is None:
        raise ValueError("no simulator for sensor type %r; there are %s"
                         % (name, ", ".join(sorted(SIMS))))
    return e


def create(name, scenario, **options):
    """The simulator of a driver type, measuring `scenario`."""
    mod, cls, fixed, _, _ = _entry(name)
    options.update(fixed)
    return getattr(__import__("sim." + mod, None, None, (cls,)), cls)(scenario, **options)


def attach(name, bus, peer, addr=None):
    """Wire `peer` to UART `bus` or to I2C `bus` at `addr` (the type's default address)."""
    import machine

    _, _, _, kind, default = _entry(name)
    if kind == "uart":
        machine.attach_uart(bus, peer)
    else:
        machine.attach_i2c(bus, default if addr is None else addr, peer)
    return peer
