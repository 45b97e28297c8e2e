# Tynys node firmware. Runs unchanged on an ESP32 and on the MicroPython unix port.
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
