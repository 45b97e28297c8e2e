# Starting the node: count the boot, stop a crash loop (safe mode), read the config, build the
# node. Whatever goes wrong before measuring starts leaves the REPL free, with one line saying
# why. main.py then unloads this module and runs the node:
#
#     import node.startup
#     n = node.startup.boot()          # a node.app.Node, or None (safe mode, config problem);
#                                      # after a new config.json, it checks it and restarts
#     node.forget("startup")
#     if n: n.serve()
#
# After fixing what made it crash:  import node.startup; node.startup.clear_safe_mode()
import gc
import machine
from node import VERSION, log, state, ConfigError, forget

SAFE_AFTER = 3  # starts in a row that never made a record, before safe mode
_CHECKED = "config.run"  # config.json and board.json as checked, with defaults filled in
_RESETS = (("PWRON_RESET", "power_on"), ("HARD_RESET", "hard"), ("WDT_RESET", "wdt"),
           ("DEEPSLEEP_RESET", "deepsleep"), ("SOFT_RESET", "soft"))


def clear_safe_mode():
    """Forget the failed starts and restart the node."""
    st = state.load()
    st["crashes"] = 0
    st["pending"] = False
    state.save(st)
    machine.reset()


def _config(st):
    # config.json and board.json, checked. The checker (node.config) is big and its names stay
    # in RAM for good once loaded (MicroPython keeps interned strings), so its result is kept in
    # config.run with a hash of both files, and after a check the node restarts once to run
    # without it. Raises ConfigError.
    import json
    from hashlib import sha256
    from binascii import hexlify

    h = sha256(b"2")  # the format of config.run: bump it when node.config resolves differently
    for p in ("config.json", "board.json"):
        try:
            with open(p, "rb") as f:
                h.update(f.read())
        except OSError:
            pass  # node.config says what is missing
    stamp = hexlify(h.digest()).decode()
    try:
        with open(_CHECKED) as f:
            c = json.load(f)
        if c["stamp"] == stamp:
            return c["config"], c["board"]
    except (OSError, ValueError, KeyError):
        pass
    from node import config

    c = {"stamp": stamp, "config": config.load(), "board": config.board()}
    state.save(c, _CHECKED)
    log("config.json checked; restarting to run it")
    st["pending"] = False  # a planned restart, not a crash
    state.save(st)
    machine.soft_reset()


def boot():
    st = state.load()
    c = machine.reset_cause()
    reset = "unknown"
    for attr, name in _RESETS:
        if getattr(machine, attr, None) == c:
            reset = name
    st["boot"] += 1
    if st["pending"]:
        # The last start never got as far as its first record: it crashed, the watchdog reset it,
        # or the power failed. An ESP32 reports a brownout (a weak supply giving way as WiFi
        # starts) as PWRON_RESET, like a power-on, so the cause cannot tell these apart.
        st["crashes"] += 1
    elif reset in ("power_on", "deepsleep"):
        st["crashes"] = 0  # after a start that worked, or after safe mode: a fresh start
    st["pending"] = True
    state.save(st)
    log("%s, boot %d, reset: %s" % (VERSION, st["boot"], reset))
    if st["crashes"] >= SAFE_AFTER:
        log("SAFE MODE: the last %d starts failed (last reset: %s%s); not measuring, the REPL is free. "
            "Fix the cause shown before the resets, then run: import node.startup; "
            "node.startup.clear_safe_mode()  (or power-cycle the node)" % (
                st["crashes"], reset, ": a brownout reads so too, check the supply" if c == machine.PWRON_RESET else ""))
        st["pending"] = False  # so that a power cycle from here is a fresh start
        state.save(st)
        return None
    try:
        cfg, brd = _config(st)
        from node import wiring

        slots = [wiring.slot(k, cfg["sensors"][k], brd) for k in sorted(cfg["sensors"])]
        where = brd["board"]
        brd = cfg["sensors"] = wiring = None
        forget("wiring")  # boot only, like the driver registry and the bus opener:
        forget("drivers.bus")  # each slot holds its driver class and a way to rebuild it
        forget("drivers")
        gc.collect()  # what boot needed once goes before the rest of the node loads
        from node.app import Node

        n = Node(cfg, slots, st, reset)
    except ConfigError as e:
        st["pending"] = False  # a config mistake is not a crash; fix it and reset
        state.save(st)
        log("%s  (not measuring; the REPL is free)" % e)
        return None
    except Exception as e:
        from node.app import crashed

        crashed(e)
    log("node %s on %s: %s" % (cfg["node"], where, ", ".join(
        "%s=%s" % (s.name, s.type) + ("" if s.drv else " (absent)") for s in n.slots)))
    return n
