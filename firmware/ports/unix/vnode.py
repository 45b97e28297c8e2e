# The virtual node's board: mount the flash image, wire the simulated world (network plan,
# sensor simulators), then start the firmware exactly as main.py does on an ESP32.
#
# Environment (host/tynys/vnode/board.py sets it):
#   TYNYS_FLASH          flash image file (LittleFS, 4 KB blocks)
#   TYNYS_SCENARIO       JSON file: {"network": {"outages": [...], "rssi": -67}, "world": {...},
#                        "sensors": {...}} (world and sensors: simhost.py)
#   TYNYS_SIM_SOCKET     where the sensor simulators listen (simhost.py, started by the launcher)
#   TYNYS_NO_APP         "1": leave main.py out (a soft reset in raw REPL, as on a board)
#   TYNYS_FROM_FLASH     "1": the firmware is what was copied onto the flash (lib/, main.py), as
#                        on a board; without it, the build on the host (MICROPYPATH)
#   TYNYS_BOARD          the board file of this virtual hardware, for a flash without board.json
# plus those of time.py and machine.py (virtual time, reset cause, unique id).
import os
import json
import flash

LFS = {}  # LittleFS defaults (read, program and lookahead 32 bytes), as the ESP32 port formats its vfs
MOUNT = "/flash"


def mount(path, blocks=None):
    dev = flash.Flash(path, blocks or 512)
    try:
        vfs = os.VfsLfs2(dev, **LFS)
    except OSError:
        os.VfsLfs2.mkfs(dev, **LFS)
        vfs = os.VfsLfs2(dev, **LFS)
    os.mount(vfs, MOUNT)
    os.chdir(MOUNT)
    return dev


def _scenario():
    p = os.getenv("TYNYS_SCENARIO")
    if not p:
        return {}
    with open(p) as f:
        return json.load(f)


def _read(path):
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError:
        return None


def wire(scenario):
    import network

    net = scenario.get("network", {})
    network.plan(net.get("outages", ()), net.get("rssi", -67), net.get("ssid"))
    cfg = _read("config.json") or b"{}"  # none yet: the firmware says so; the sensors are wired all the same
    brd = _read("board.json") or _read(os.getenv("TYNYS_BOARD") or "") or b"{}"
    if b'"fake"' in cfg:  # the fake sensor type, a driver of this board only
        import sys
        from node import drivers

        sys.modules["node.drivers.fake"] = __import__("fakesensor")
        drivers.EXTRA["fake"] = {"module": "fake", "class": "Fake", "model": None, "bus": None,
                                 "options": [], "every_s": 5, "sample_s": 0}
    sock = os.getenv("TYNYS_SIM_SOCKET")
    if sock:  # the sensors: wired to the simulators' process, from the config on the flash
        import simlink

        simlink.connect(sock, cfg, brd)


def start():
    """Mount the flash and wire the world; return node.startup.boot (None with TYNYS_NO_APP).
    With TYNYS_FROM_FLASH, the flash's own main.py instead, as a board runs it (None when there
    is none: a freshly flashed board sits at its REPL)."""
    import sys

    blocks = os.getenv("TYNYS_FLASH_BLOCKS")
    mount(os.getenv("TYNYS_FLASH"), int(blocks) if blocks else None)
    from_flash = os.getenv("TYNYS_FROM_FLASH") == "1"
    if from_flash:
        sys.path.append(MOUNT)  # '' and /lib on a board: its boot.py, main.py and node package
        sys.path.append(MOUNT + "/lib")
    wire(_scenario())
    if os.getenv("TYNYS_NO_APP") == "1":
        return None
    if from_flash:
        return _flash_main if _read("main.py") is not None else None
    import node.startup

    return node.startup.boot


def _flash_main():
    exec(_read("main.py"), {"__name__": "__main__"})
