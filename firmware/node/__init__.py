# Tynys node firmware. Runs unchanged on an ESP32 and on the MicroPython unix port.
# Here: what every part shares (log, forget), the node key's HMAC (records are signed with it,
# the host's replies checked) and the watchdog across resets.
from hashlib import sha256
from binascii import hexlify

VERSION = "0.1.0"


def log(msg):
    """Human lines on the console (one per line of msg); record lines start with '{', these never do."""
    print("tynys: " + msg.replace("\n", "\ntynys: "))


class ConfigError(ValueError):
    """config.json or board.json is wrong; the text names the field and the fix."""


def forget(name):
    """Unload node.<name> (a module needed once, at boot) so its code leaves the heap."""
    import sys

    sys.modules.pop("node." + name, None)
    try:
        delattr(sys.modules["node"], name)
    except (AttributeError, KeyError):
        pass


class Signer:
    """HMAC-SHA256 (RFC 2104) over hashlib.sha256: MicroPython has no hmac module.

        h = signer.begin(); h.update(part); ...; signer.end(h) -> 64 hex digits
                                                  signer.digest(h) -> the 32 bytes
    """

    def __init__(self, key):
        if len(key) > 64:
            key = sha256(key).digest()
        key = bytes(key) + bytes(64 - len(key))
        self._ipad = bytes(b ^ 0x36 for b in key)
        self._opad = bytes(b ^ 0x5C for b in key)

    def begin(self):
        return sha256(self._ipad)

    def digest(self, h):
        o = sha256(self._opad)
        o.update(h.digest())
        return o.digest()

    def end(self, h):
        return hexlify(self.digest(h)).decode()


# The watchdog across resets. On an ESP32 it cannot be stopped once armed and it stays armed
# through a soft reset, while a soft reset stops every Timer (ports/esp32/machine_wdt.c, main.c);
# and after a soft reset into the raw REPL, which mpremote makes before it copies a file or runs
# code, main.py does not run, only boot.py. So whoever leaves the REPL to a person or a tool
# keeps the watchdog fed at its longest timeout: boot.py after a soft reset, the node on Ctrl-C.
_timer = None


def watchdog(s=None):
    """The node at work: the watchdog at s seconds, fed by its loop (returns it). Without s, the
    REPL is free: the watchdog at an hour (any single step of maintenance, a flash write or one
    exec, ends within it), fed by a Timer every second until watchdog(s) again."""
    global _timer
    import machine

    if s is not None:
        if _timer is not None:
            _timer.deinit()
            _timer = None
        return machine.WDT(timeout=s * 1000)
    w = machine.WDT(timeout=3600000)
    if _timer is None:
        _timer = machine.Timer(0)
    _timer.init(period=1000, mode=machine.Timer.PERIODIC, callback=lambda t: w.feed())
