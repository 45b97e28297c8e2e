# The virtual node's board: mount the flash image, wire the simulated world (network plan,
# sensor simulators), then start the firmware exactly as main.py does on an ESP32.
#
# Environment (host/tynys/vnode.py sets it):
#   TYNYS_FLASH          flash image file (LittleFS, 4 KB blocks)
#   TYNYS_SCENARIO       JSON file: {"network": {"outages": [...], "rssi": -67}, "world": {...},
#                        "sensors": {...}} (world and sensors: simhost.py)
#   TYNYS_SIM_SOCKET     where the sensor simulators listen (simhost.py, started by the launcher)
#   TYNYS_NO_APP         "1": leave main.py out (a soft reset in raw REPL, as on a board)
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


def wire(scenario):
    import network

    net = scenario.get("network", {})
    network.plan(net.get("outages", ()), net.get("rssi", -67), net.get("ssid"))
    try:
        with open("config.json", "rb") as f:
            cfg = f.read()
        with open("board.json", "rb") as f:
            brd = f.read()
    except OSError:
        return  # no config: the firmware says so itself
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
    """Mount the flash and wire the world; return node.startup.boot (None with TYNYS_NO_APP)."""
    blocks = os.getenv("TYNYS_FLASH_BLOCKS")
    mount(os.getenv("TYNYS_FLASH"), int(blocks) if blocks else None)
    wire(_scenario())
    if os.getenv("TYNYS_NO_APP") == "1":
        return None
    import node.startup

    return node.startup.boot
