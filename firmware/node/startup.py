# Starting the node: count the boot, check for a crash loop (safe mode), read the config, run.
# Whatever goes wrong before measuring starts leaves the REPL free, with one line saying why.
#
#     import node.startup; node.startup.run()        # what main.py on the board does
#     node.startup.clear_safe_mode()              # after fixing what made it crash
import gc
import sys
import time
import machine
from node import VERSION, log, state

SAFE_AFTER = 3  # failed starts in a row (resets other than power-on) before safe mode
_RESETS = (("PWRON_RESET", "power_on"), ("HARD_RESET", "hard"), ("WDT_RESET", "wdt"),
           ("DEEPSLEEP_RESET", "deepsleep"), ("SOFT_RESET", "soft"))


def reset_name():
    c = machine.reset_cause()
    for attr, name in _RESETS:
        if getattr(machine, attr, None) == c:
            return name
    return "unknown"


def clear_safe_mode():
    """Forget the failed starts and restart the node."""
    st = state.load()
    st["crashes"] = 0
    st["pending"] = False
    state.save(st)
    machine.reset()


def _feed_forever(wdt):
    # Ctrl-C left the running watchdog behind: keep feeding it from a timer, so the REPL
    # stays usable; machine.reset() starts measuring again.
    if wdt is not None:
        t = machine.Timer(0)
        t.init(period=1000, mode=machine.Timer.PERIODIC, callback=lambda _t: wdt.feed())
        return t


def run():
    st = state.load()
    reset = reset_name()
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
            "Fix the cause shown before the resets, then run: import node.startup; node.startup.clear_safe_mode()"
            " (or power-cycle the node)" % (st["crashes"], reset))
        return None
    from node import ConfigError, forget

    try:
        from node import config

        cfg = config.load()
        brd = config.board()
        config = None
        forget("config")  # its tables are only needed at boot
        gc.collect()
        from node.app import Node

        def healthy():
            st["pending"] = False
            st["crashes"] = 0
            state.save(st)

        node = Node(cfg, brd, st["boot"], reset, healthy)
    except ConfigError as e:
        st["pending"] = False  # a config mistake is not a crash; fix it and reset
        state.save(st)
        log("%s  (not measuring; the REPL is free)" % e)
        return None
    except Exception as e:
        _crashed(e)
    log("node %s on %s: %s" % (cfg["node"], brd["board"], ", ".join(
        "%s=%s" % (s.name, s.type) + ("" if s.drv else " (absent)") for s in node.slots)))
    try:
        node.run()
    except KeyboardInterrupt:
        log("stopped by Ctrl-C; the REPL is free. machine.reset() starts measuring again")
        _feed_forever(node.wdt)
        return node
    except Exception as e:
        _crashed(e)


def _crashed(e):
    # A bug or a fault nobody planned for: show it, then start again (a node has no one to
    # press reset); safe mode ends a crash loop.
    sys.print_exception(e)
    log("crashed (%s: %s); restarting in 5 s" % (type(e).__name__, e))
    time.sleep(5)
    machine.reset()
