# The watchdog across resets. On an ESP32 it cannot be stopped once armed and it stays armed
# through a soft reset, while a soft reset stops every Timer (ports/esp32/machine_wdt.c, main.c);
# and after a soft reset into the raw REPL, which mpremote makes before it copies a file or runs
# code, main.py does not run, only boot.py. So whoever leaves the REPL to a person or a tool
# keeps the watchdog fed at its longest timeout: boot.py after a soft reset, the node on Ctrl-C.
#
#     node.wdt.hold()         # the REPL is free: the watchdog fed by a Timer (every second)
#     w = node.wdt.arm(60)    # the node at work: 60 s, fed by its loop; hold()'s Timer stops
import machine
from micropython import const

HOLD_S = const(3600)  # any single step of maintenance (a flash write, one exec) ends within it
_timer = None


def hold():
    global _timer
    w = machine.WDT(timeout=HOLD_S * 1000)
    if _timer is None:
        _timer = machine.Timer(0)
    _timer.init(period=1000, mode=machine.Timer.PERIODIC, callback=lambda t: w.feed())


def arm(s):
    global _timer
    if _timer is not None:
        _timer.deinit()
        _timer = None
    return machine.WDT(timeout=s * 1000)
