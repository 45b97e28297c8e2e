# Starting the node: count the boot, stop a crash loop (safe mode), read the config, build the
# node. Whatever goes wrong before measuring starts leaves the REPL free, with one line saying
# why. main.py then unloads this module and runs the node:
#
#     import node.startup
#     n = node.startup.boot()          # a node.app.Node, or None (safe mode, config problem)
#     node.forget("startup")
#     if n: n.serve()
#
# After fixing what made it crash:  import node.startup; node.startup.clear_safe_mode()
import gc
import machine
from node import VERSION, log, state, ConfigError, forget

SAFE_AFTER = 3  # failed starts in a row (resets other than power-on) before safe mode
_RESETS = (("PWRON_RESET", "power_on"), ("HARD_RESET", "hard"), ("WDT_RESET", "wdt"),
           ("DEEPSLEEP_RESET", "deepsleep"), ("SOFT_RESET", "soft"))


def clear_safe_mode():
    """Forget the failed starts and restart the node."""
    st = state.load()
    st["crashes"] = 0
    st["pending"] = False
    state.save(st)
    machine.reset()


def boot():
    st = state.load()
    c = machine.reset_cause()
    reset = "unknown"
    for attr, name in _RESETS:
        if getattr(machine, attr, None) == c:
            reset = name
    st["boot"] += 1
    if reset in ("power_on", "deepsleep"):
        st["crashes"] = 0  # someone unplugged it, or it woke by plan: a fresh start
    elif st["pending"]:
        st["crashes"] += 1  # the last start never got as far as its first record
    st["pending"] = True
    state.save(st)
    log("%s, boot %d, reset: %s" % (VERSION, st["boot"], reset))
    if st["crashes"] >= SAFE_AFTER:
        log("SAFE MODE: the last %d starts failed (last reset: %s); not measuring, the REPL is free. "
            "Fix the cause shown before the resets, then run: import node.startup; "
            "node.startup.clear_safe_mode()  (or power-cycle the node)" % (st["crashes"], reset))
        return None
    try:
        from node import config

        cfg = config.load()
        brd = config.board()
        config = None
        forget("config")  # its tables are only needed at boot
        gc.collect()
        from node.app import Node

        n = Node(cfg, brd, st, reset)
    except ConfigError as e:
        st["pending"] = False  # a config mistake is not a crash; fix it and reset
        state.save(st)
        log("%s  (not measuring; the REPL is free)" % e)
        return None
    except Exception as e:
        from node.app import crashed

        crashed(e)
    log("node %s on %s: %s" % (cfg["node"], brd["board"], ", ".join(
        "%s=%s" % (s.name, s.type) + ("" if s.drv else " (absent)") for s in n.slots)))
    return n
