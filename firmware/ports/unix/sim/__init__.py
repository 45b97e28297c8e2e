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

# driver type -> (module, class, fixed keyword arguments, bus, default I2C address, UART baud), from the
# sensor type table every part of Tynys reads (firmware/node/drivers/types.json: "sim").
def _table():
    import json

    root = __file__.rsplit("/", 4)[0]  # <root>/ports/unix/sim/__init__: firmware/ or build/mpy/
    with open(root + "/node/drivers/types.json") as f:
        t = json.load(f)
    return {k: (e["module"], e["sim"], {"model": e["model"]} if e["model"] else {}, e["bus"],
                e["addr"][0] if e.get("addr") else None, e.get("baud"))
            for k, e in t.items() if k[0] != "_" and e.get("sim")}


SIMS = _table()


def _entry(name):
    e = SIMS.get(name)
    if e is None:
        raise ValueError("no simulator for sensor type %r; there are %s"
                         % (name, ", ".join(sorted(SIMS))))
    return e


def create(name, scenario, **options):
    """The simulator of a driver type, measuring `scenario`."""
    mod, cls, fixed = _entry(name)[:3]
    options.update(fixed)
    return getattr(__import__("sim." + mod, None, None, (cls,)), cls)(scenario, **options)


def attach(name, bus, peer, addr=None):
    """Wire `peer` to UART `bus` or to I2C `bus` at `addr` (the type's default address)."""
    import machine

    kind, default = _entry(name)[3:5]
    if kind == "uart":
        machine.attach_uart(bus, peer)
    else:
        machine.attach_i2c(bus, default if addr is None else addr, peer)
    return peer
