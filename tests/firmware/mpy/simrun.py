# Run one driver against its simulator on the unix port (for tests/firmware/test_simulators.py):
#     micropython simrun.py '{"sensor": "pms5003", "cycles": 10, "faults": {...}, ...}'   (or a .json file)
# Spec: sensor; bus (default 1 for UART, 0 for I2C); cycles (1 s each); scenario {} and faults {}
# (keyword arguments); sim {} (simulator options); options {} (driver options); steps
# [[cycle, action, arg]] with actions sleep, wake, configure, fault (arg: {name: value}).
# Prints one JSON line per reading {"c": cycle, "v": [channel values]} and a last line with the
# driver's counters, the simulator's state and the commands it heard.
import json
import sys
import time

from node import drivers
from sim import SIMS, attach, create
from sim.faults import Faults
from sim.scenario import Scenario

# the spec inline, or a file holding it (the unix port cannot take an argument of 256 bytes or more)
spec = json.loads(sys.argv[1] if sys.argv[1][:1] == "{" else open(sys.argv[1]).read())
name = spec["sensor"]
uart = SIMS[name][3] == "uart"
bus = spec.get("bus", 1 if uart else 0)
sc = Scenario(**spec.get("scenario", {}))
faults = Faults(**spec.get("faults", {}))
peer = attach(name, bus, create(name, sc, faults=faults, **spec.get("sim", {})))
opts = spec.get("options", {})
opts.setdefault("warmup_ms", 0)
d = drivers.create(name, bus, **opts)
steps = spec.get("steps", [])
for c in range(spec.get("cycles", 10)):
    for at, action, arg in steps:
        if at == c:
            if action == "fault":
                for k, v in arg.items():
                    setattr(faults, k, v)
            else:
                getattr(d, action)()
    t0 = time.ticks_ms()
    time.sleep_ms(d.start())
    for _ in range(5):
        while d.poll():
            print(json.dumps({"c": c, "v": [v / s for v, s in zip(d.values, d.SCALE)]}))
        time.sleep_ms(10)
    time.sleep_ms(1000 - time.ticks_diff(time.ticks_ms(), t0))
state = {k: getattr(peer, k) for k in ("asleep", "active", "sent", "lost", "passive", "query",
                                       "measuring", "qa", "period_min") if hasattr(peer, k)}
print(json.dumps({"counts": {k: getattr(d, k) for k in ("frames", "bad", "replies", "warming",
                                                        "missing", "noise")},
                  "ident": d.ident, "state": d.state, "sim": state, "channels": d.CHANNELS,
                  "heard": [bytes(h).hex() for h in getattr(peer, "heard", [])]}))
