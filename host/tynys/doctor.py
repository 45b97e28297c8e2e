"""The wiring doctor: a self-test that runs on the node over its raw REPL and a report that names
each fault with its fix. ``tynys doctor`` is a thin command over :func:`examine`::

    from tynys import doctor
    report = doctor.examine("/dev/ttyUSB0", board="esp32-devkitc")
    for f in report["findings"]: print(f["status"], f["check"], f["found"], f["fix"])

On the node (one script, :func:`probe_script`): each UART socket of the board is opened as wired
and listened to at the baud rates of the sensor types (after the commands that wake them); a
socket that hears nothing is tried again with TX and RX exchanged; each I2C bus is scanned; an
ADS1115 (the ISB's ADC) has its four inputs read; free heap, free flash, reset cause and the
node's boot state are read. On the host the bytes are matched against the frame headers of the
sensor type table (PMS ``42 4D``, SDS011 ``AA C0 .. AB``, SPS30 ``7E``), and what was found is
compared with config.json when the node has one.
"""

from __future__ import annotations

import json
import re

from . import __version__, boards, sensortypes
from .device import Device
from .errors import TynysError

LISTEN_MS = 2500  # a PMS in active mode sends a frame every second; an SDS011 too
OK, WARN, FAIL, INFO = "ok", "warn", "fail", "info"
HEAP_WARN = 16 * 1024  # bytes free after a collection
FLASH_WARN, FLASH_FAIL = 64 * 1024, 16 * 1024  # bytes free on the flash (the spool needs room)


def _probes() -> dict[int, list[str]]:
    """{baud: [command hex, ...]}: what wakes or asks each UART type, grouped by speed."""
    out: dict[int, list[str]] = {}
    for t in sensortypes.names(bus="uart"):
        e = sensortypes.entry(t)
        send = e["probe"]["send"]
        if send not in out.setdefault(e["baud"], []):
            out[e["baud"]].append(send)
    return out


def probe_script(board: dict) -> str:
    """The MicroPython code tynys doctor runs on the node; it prints one JSON line."""
    plan = {
        "uart": [[int(b), p["tx"], p["rx"]] for b, p in sorted(board["uart"].items())],
        "i2c": [[int(b), p["scl"], p["sda"]] for b, p in sorted(board["i2c"].items())],
        "probes": sorted(_probes().items()),
        "ads": sensortypes.entry("isb")["addr"],
        "listen_ms": LISTEN_MS,
    }
    return f"P = {json.dumps(plan)}\n" + _SCRIPT


# Runs on the node. ADS1115 single-shot read of AINx against GND at +-4.096 V (TI SBAS444:
# config register 1: OS=1, MUX=1xx, PGA=001, MODE=1, DR=100 (128 SPS), comparator off).
_SCRIPT = r"""
import machine, time, gc, os, sys, json
from binascii import hexlify, unhexlify
R = {"uart": [], "i2c": [], "ads": {}}
def listen(bus, tx, rx, baud, sends):
    u = machine.UART(bus, baud, tx=tx, rx=rx)
    while u.any():
        u.read()
    for s in sends:
        u.write(unhexlify(s))
    got = bytearray()
    t0 = time.ticks_ms()
    while time.ticks_diff(time.ticks_ms(), t0) < P["listen_ms"] and len(got) < 400:
        n = u.any()
        if n:
            got += u.read(min(n, 400 - len(got))) or b""
        else:
            time.sleep_ms(20)
    return hexlify(got).decode()
for bus, tx, rx in P["uart"]:
    for wiring, t, r in (("as wired", tx, rx), ("tx/rx swapped", rx, tx)):
        heard = False
        for baud, sends in P["probes"]:
            h = listen(bus, t, r, baud, sends)
            heard = heard or bool(h)
            R["uart"].append([bus, t, r, baud, wiring, h])
        if heard:
            break
for bus, scl, sda in P["i2c"]:
    i2c = machine.I2C(bus, scl=machine.Pin(scl), sda=machine.Pin(sda), freq=100000)
    found = i2c.scan()
    R["i2c"].append([bus, scl, sda, found])
    for a in found:
        if a in P["ads"]:
            mv = []
            for ch in range(4):
                cfg = 0x8000 | (4 + ch) << 12 | 1 << 9 | 1 << 8 | 4 << 5 | 3
                i2c.writeto_mem(a, 1, bytes((cfg >> 8, cfg & 0xFF)))
                time.sleep_ms(10)
                b = i2c.readfrom_mem(a, 0, 2)
                v = b[0] << 8 | b[1]
                mv.append(((v - 65536) if v & 0x8000 else v) * 4096 // 32768)
            R["ads"]["%d:%d" % (bus, a)] = mv
gc.collect()
R["heap_free"] = gc.mem_free()
R["heap_used"] = gc.mem_alloc()
try:
    st = os.statvfs(".")
    R["flash_free"] = st[0] * st[4]
    R["flash_size"] = st[0] * st[2]
except OSError:
    pass
c = machine.reset_cause()
R["reset"] = [n for n in ("PWRON_RESET", "HARD_RESET", "WDT_RESET", "DEEPSLEEP_RESET", "SOFT_RESET", "BROWNOUT_RESET")
              if getattr(machine, n, None) == c]
try:
    with open("state.json") as f:
        R["state"] = json.load(f)
except (OSError, ValueError):
    R["state"] = None
R["version"] = ".".join(str(v) for v in sys.implementation.version[:3])
print(json.dumps(R))
"""


def _headers() -> list[tuple[str, list[str], bytes, int]]:
    """[(name, types, header, baud)] from the type table, one per distinct header: the driver
    family's name and the header, e.g. "PMS (42 4D)", and the types that send it."""
    seen: dict[tuple[bytes, int], list[str]] = {}
    for t in sensortypes.names(bus="uart"):
        e = sensortypes.entry(t)
        if e["probe"]["header"]:
            seen.setdefault((bytes.fromhex(e["probe"]["header"]), e["baud"]), []).append(t)
    return [(f"{sensortypes.entry(ts[0])['module'].upper()} ({h.hex(' ').upper()})", ts, h, baud)
            for (h, baud), ts in seen.items()]


def frames_in(data: bytes, baud: int) -> list[tuple[str, list[str], int]]:
    """The sensor families whose frame headers appear in `data` read at `baud`: [(name, types, count)]."""
    out = []
    for name, types, head, b in _headers():
        if b != baud:
            continue
        n = len(re.findall(re.escape(head), data))
        if head == b"\xaa\xc0":  # SDS011: the header alone is two common bytes; a frame ends in AB
            n = len(re.findall(rb"\xaa\xc0.{7}\xab", data, re.S))
        if n:
            out.append((name, types, n))
    return out


def analyse(raw: dict, board: dict, config: dict | None) -> list[dict]:
    """Findings from the node's probe: each {"check", "status", "found", "fix"}."""
    found: list[dict] = []

    def add(check, status, text, fix=""):
        found.append({"check": check, "status": status, "found": text, "fix": fix})

    sensors = (config or {}).get("sensors", {}) if isinstance(config, dict) else {}
    expected = {}  # (kind, bus) -> [(slot, type)]
    for slot, s in sensors.items():
        e = sensortypes.types().get(s.get("type")) if isinstance(s, dict) else None
        if e and e["bus"]:
            bus = s.get(e["bus"])
            if bus is None and len(board[e["bus"]]) == 1:
                bus = int(next(iter(board[e["bus"]])))
            expected.setdefault((e["bus"], bus), []).append((slot, s["type"]))
    # UART sockets
    for bus, pins in sorted(board["uart"].items()):
        bus = int(bus)
        tries = [u for u in raw["uart"] if u[0] == bus]
        want = expected.get(("uart", bus), [])
        who = " / ".join(f"{slot} ({t})" for slot, t in want) or "nothing configured"
        where = f"UART{bus} (TX GPIO {pins['tx']}, RX GPIO {pins['rx']}; config: {who})"
        hits = [(u, f) for u in tries for f in frames_in(bytes.fromhex(u[5]), u[3])]
        straight = [(u, f) for u, f in hits if u[4] == "as wired"]
        swapped = [(u, f) for u, f in hits if u[4] != "as wired"]
        noise = sum(len(u[5]) // 2 for u in tries)
        if straight:
            u, (name, types, n) = straight[0]
            if want and not any(t in types for _, t in want):
                add(where, FAIL, f"{name} frames ({n}) at {u[3]} baud, but config.json names {who}",
                    f"set the slot's \"type\" to one of {', '.join(types)}, or connect the sensor it names")
            else:
                add(where, OK, f"{name} frames: {n} in {LISTEN_MS / 1000:g} s at {u[3]} baud")
        elif swapped:
            u, (name, types, n) = swapped[0]
            add(where, FAIL, f"TX and RX are swapped: {name} frames arrive on GPIO {pins['tx']}, the board's TX pin",
                f"exchange the two signal wires: sensor TX to GPIO {pins['rx']} (RX), sensor RX to GPIO {pins['tx']} (TX)")
        elif noise:
            add(where, WARN, f"{noise} bytes but no frame header Tynys knows, at any speed tried",
                "check GND is shared, the cable is short, and the sensor is a type in docs/drivers.md")
        elif want:
            add(where, FAIL, f"silent: no byte from {who}, either way round",
                f"check the sensor has 5 V and GND (does its fan spin?), and its TX goes to GPIO {pins['rx']}")
        else:
            add(where, INFO, "nothing answers (no sensor configured here)")
    # I2C buses
    ads_addrs = sensortypes.entry("isb")["addr"]
    for bus, scl, sda, addrs in raw["i2c"]:
        where = f"I2C{bus} (SCL GPIO {scl}, SDA GPIO {sda})"
        want = expected.get(("i2c", bus), [])
        for slot, t in want:
            s = sensors[slot]
            e = sensortypes.entry(t)
            addr = s.get("addr", e["addr"][0])
            if isinstance(addr, str):
                addr = int(addr, 16) if addr.lower().startswith("0x") else int(addr)
            label = f"{where}: {slot} ({t}) at 0x{addr:02x}"
            if addr not in addrs:
                add(label, FAIL, "does not answer", f"check its 3.3 V and GND, SDA to GPIO {sda} and SCL to GPIO {scl} "
                    f"(not swapped), and its address pin ({' or '.join(f'0x{a:02x}' for a in e['addr'])})")
                continue
            add(label, OK, "answers")
            if t == "isb":
                found.extend(_isb(raw, bus, addr, s, label))
        named = {a for slot, t in want for a in sensortypes.entry(t)["addr"]}
        for a in addrs:
            if a in named:
                continue
            maybe = [t for t in sensortypes.names(bus="i2c") if a in sensortypes.entry(t)["addr"]]
            add(f"{where}: 0x{a:02x}", INFO if maybe else WARN,
                f"answers: {' or '.join(maybe) if maybe else 'a device Tynys has no driver for'}",
                f"add it to config.json, e.g. \"{'so2' if 'isb' in maybe else 'th'}\": {{\"type\": \"{maybe[0]}\"}}" if maybe and sensors else "")
        if not addrs and not want:
            add(where, INFO, "no device answers")
    # health
    heap = raw.get("heap_free")
    if heap is not None:
        add("free heap", OK if heap >= HEAP_WARN else WARN, f"{heap} bytes free, {raw.get('heap_used')} used (after a collection)",
            "" if heap >= HEAP_WARN else "fewer sensors or uplinks, or a board with more RAM (an ESP32 heap also grows into the system heap)")
    ff = raw.get("flash_free")
    if ff is not None:
        st = OK if ff >= FLASH_WARN else WARN if ff >= FLASH_FAIL else FAIL
        add("free flash", st, f"{ff // 1024} KB free of {raw.get('flash_size', 0) // 1024} KB",
            "" if st == OK else "delete files the node does not need (mpremote fs ls), or lower spool.max_records")
    reset = (raw.get("reset") or ["unknown"])[0]
    st = raw.get("state") or {}
    if st.get("crashes", 0) >= 3:
        add("node state", FAIL, f"SAFE MODE after {st['crashes']} failed starts (boot {st.get('boot')})",
            "read the console lines before the resets (tynys monitor), fix the cause, then: "
            "import node.startup; node.startup.clear_safe_mode()")
    add("last reset", WARN if reset in ("WDT_RESET", "BROWNOUT_RESET") else OK, reset,
        "a watchdog reset: a sensor or network call hung; a brownout: a weak supply (use a 1 A USB supply, short cable)"
        if reset in ("WDT_RESET", "BROWNOUT_RESET") else "")
    return found


def _isb(raw, bus, addr, s, label):
    mv = raw["ads"].get(f"{bus}:{addr}")
    if not mv:
        return []
    lo, hi = sensortypes.entry("isb")["mv"]
    we, ae = s.get("we", 0), s.get("ae", 1)
    vals = {"WE": mv[we], "AE": mv[ae]}
    bad = {k: v for k, v in vals.items() if not lo <= v < hi}
    text = f"electrodes WE {mv[we]} mV (A{we}), AE {mv[ae]} mV (A{ae})"
    if not bad:
        return [{"check": f"{label}: ISB", "status": OK, "found": text + f", inside {lo}-{hi} mV", "fix": ""}]
    return [{"check": f"{label}: ISB", "status": FAIL, "found": text + f": outside the {lo}-{hi} mV a connected, powered ISB gives",
             "fix": f"the ISB is unplugged from the ADS1115 or unpowered: OP1 (WE) to A{we}, OP2 (AE) to A{ae}, "
                    "ISB V+ to 5 V (3.5-6.4 V) and GND shared"}]


def examine(port: str, board: str | None = None, timeout: float = 120) -> dict:
    """Run the self-test on the node at `port`; {"board", "micropython", "findings", "raw"}."""
    with Device(port, timeout=timeout) as dev:
        info = dev.info()
        on_node = dev.read_json("board.json")
        if board is None:
            if not on_node or "board" not in on_node:
                raise TynysError(f"the node on {port} has no board.json: say which board it is with --board "
                                 f"({', '.join(boards.names())})")
            board = on_node["board"]
        b = boards.load(board)
        config = dev.read_json("config.json")
        raw = json.loads(dev.run(probe_script(b), timeout=timeout).strip().splitlines()[-1])
    if isinstance(config, dict) and "key" in config:
        config = {**config, "key": "(hidden)"}
    return {"board": board, "port": port, "micropython": info, "findings": analyse(raw, b, config),
            "config": config, "raw": raw}


LABEL = {OK: "[ OK ]", WARN: "[WARN]", FAIL: "[FAIL]", INFO: "[ -- ]"}


def render(report: dict) -> str:
    mp = report["micropython"]
    lines = [f"tynys doctor: {report['board']} on {report['port']}, MicroPython {mp['version']} ({mp['machine']})"]
    for f in report["findings"]:
        lines.append(f"{LABEL[f['status']]} {f['check']}: {f['found']}")
        if f["fix"] and f["status"] in (WARN, FAIL):
            lines.append(f"       fix: {f['fix']}")
    bad = sum(f["status"] == FAIL for f in report["findings"])
    warn = sum(f["status"] == WARN for f in report["findings"])
    lines.append(f"{bad} fault(s), {warn} warning(s)")
    lines.append("The node is stopped (the test took its REPL): press RESET, or run tynys provision --update, "
                 "to measure again")
    return "\n".join(lines)


def forum_block(report: dict) -> str:
    """A block to paste into a forum post: what was found, versions, the config without its key."""
    mp = report["micropython"]
    body = [f"tynys {__version__} doctor, board {report['board']}, MicroPython {mp['version']} on {mp['machine']}"]
    body += [f"{f['status'].upper():4} {f['check']}: {f['found']}" for f in report["findings"]]
    if report.get("config"):
        body.append("config.json: " + json.dumps(report["config"], separators=(",", ":")))
    for bus, tx, rx, baud, wiring, h in report["raw"]["uart"]:
        body.append(f"UART{bus} tx={tx} rx={rx} {baud} {wiring}: {h[:64] or '-'}")
    return "```\n" + "\n".join(body) + "\n```"
