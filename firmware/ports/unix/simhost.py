# The sensor simulators of a virtual node, in a process of their own (started by
# host/tynys/vnode/board.py; the node reaches them through simlink.py). Each request carries the
# node's world time; the simulators see exactly that time, so the node's clock drives the world.
#
#   micropython simhost.py     with TYNYS_SIM_SOCKET (socket path) and TYNYS_SCENARIO set
#
# The answer to a UART read carries the world time before which that sensor sends nothing unless
# it hears a command (sim/uart.py quiet_until): the node's link answers the polls before then
# itself. TYNYS_SIMLINK=chatty answers 0 instead, so the node asks at every poll (the plain
# path, for benchmarks and for the test that both paths give the firmware the same bytes).
# Every 10 simulated minutes it prints the requests so far, and how many it answered (round
# trips): "simhost: <world s>: <n> requests, <k> answered" (sim.log; bench_sim.py, test_simlink.py).
# scenario.json: {"world": <sim.scenario table or constants>,
#                 "sensors": {"<slot>": {"faults": {...sim.faults.Faults...}, "options": {...},
#                                        "wires": "swapped"}}}
# A slot's simulator is the one for its config type (sim.SIMS), on the UART or I2C bus and
# address config.json gives it (else the board's only bus and the type's usual address). A slot
# whose scenario entry has a "type" (and "uart"/"i2c", "addr") is wired so whatever config.json
# says, as on a board not provisioned yet. A UART sensor's TX goes to the socket's RX pin and its
# RX to the TX pin ("wires": "swapped": the other way round); the node hears it only on a UART
# opened with its RX on the sensor's TX and at the sensor's speed (at another speed: garbage).
import os
import json
import struct
import time
import usocket
import machine
import sim
from sim.scenario import Scenario
from sim.faults import Faults
from sim.uart import NEVER

_HINTS = os.getenv("TYNYS_SIMLINK") != "chatty"  # else the plain path: the node asks at every poll


def _world(sc):
    w = sc.get("world", {})
    if "t" in w:
        return Scenario(**w)
    return Scenario(**w) if w else Scenario()


def build(config, board, sc):
    """Make and attach the simulators config.json needs; returns [[kind, bus, addr], ...]."""
    world = _world(sc)
    peers = []
    slots = dict(config.get("sensors", {}))
    for name, spec in sc.get("sensors", {}).items():
        if "type" in spec:  # wired so on the board, whatever config.json says
            slots[name] = spec
    wires = {}
    for name in sorted(slots):
        s = slots[name]
        typ = s.get("type")
        if typ not in sim.SIMS:
            continue  # a sensor without a simulator (the fake) needs no wire
        kind, default = sim.SIMS[typ][3], sim.SIMS[typ][4]
        bus = s.get(kind)
        if bus is None:
            ids = sorted(board.get(kind, {}))
            bus = int(ids[0]) if ids else 0
        addr = s.get("addr", default)
        if isinstance(addr, str):
            addr = int(addr, 16) if addr[:2] in ("0x", "0X") else int(addr)
        spec = sc.get("sensors", {}).get(name, {})
        opts = dict(spec.get("options", {}))
        if typ == "isb":  # the ISB simulator wires WE/AE and the model as the config says
            for k in ("we", "ae", "model"):
                if k in s:
                    opts[k] = s[k]
        peer = sim.create(typ, world, faults=Faults(**spec.get("faults", {})), **opts)
        sim.attach(typ, bus, peer, addr)
        peers.append([kind, bus, addr if kind == "i2c" else 0])
        sock = board.get("uart", {}).get(str(bus), {})
        tx, rx = s.get("tx", sock.get("tx")), s.get("rx", sock.get("rx"))
        if kind == "uart" and tx is not None and rx is not None:
            wires[bus] = (tx, rx, sim.SIMS[typ][5]) if spec.get("wires") == "swapped" else (rx, tx, sim.SIMS[typ][5])
    return peers, wires


def _line(state, bus):
    """The UART line between the node and the sensor on `bus`: "ok", "off" (the node's RX is not
    on the sensor's TX), or "garbled" (another speed); the node's TX reaches the sensor on "ok"."""
    w = state.get("wires", {}).get(bus)
    o = state.get("opened", {}).get(bus)
    if w is None or o is None:
        return "ok", True
    tx, rx, baud = o
    if rx != 0xFFFF and rx != w[0]:
        return "off", tx in (0xFFFF, w[1]) and baud == w[2]
    return ("ok" if baud == w[2] else "garbled"), tx in (0xFFFF, w[1]) and baud == w[2]


def _exact(c, buf, n):
    mv = memoryview(buf)
    got = 0
    while got < n:
        k = c.readinto(mv[got:n])
        if not k:
            return False
        got += k
    return True


def serve(c, sc, state):
    h = bytearray(16)
    buf = bytearray(4096)  # the bytes a request brings
    out = bytearray(12 + 4096)  # an answer, sent in one piece: the node reads it without waiting twice
    mv = memoryview(out)
    count = state.setdefault("count", [0, 0, 0])  # requests, answered (round trips), 10 minutes noted
    while _exact(c, h, 16):
        op, bus, addr, _, n, w = struct.unpack_from("<BBBBIq", h, 0)
        now = time.world_us()
        if w > now:
            time.advance_us(w - now)
        count[0] += 1
        if w // 600000000 != count[2]:
            count[2] = w // 600000000
            print("simhost: %d: %d requests, %d answered" % (w // 1000000, count[0], count[1]))
        rn = 0
        if op == 0x4D:  # an I2C register read: bytes to write, bytes to read
            n, rn = n & 0xFFFF, n >> 16
        if op in (0x77, 0x57, 0x43, 0x4F, 0x4D):  # requests that bring bytes
            if n > len(buf):
                buf = bytearray(n)
            if not _exact(c, buf, n):
                return
        k = 0  # bytes of answer in out
        if op == 0x72:  # UART read
            p = machine._uarts.get(bus)
            k = p.readinto(mv[12:], min(n, 4096)) if p is not None and p.any() else 0
            line = _line(state, bus)[0]
            if line == "off":
                k = 0  # the sensor's bytes went to a pin nobody reads
            elif line == "garbled":
                for i in range(12, 12 + k):
                    out[i] ^= 0xA5
            # the time before which it sends nothing: only while a pin cannot wake a simulator
            quiet = 0 if not _HINTS or machine._pin_listeners else p.quiet_until() if p is not None else NEVER
            struct.pack_into("<Iq", out, 0, k, quiet)
            k += 12
        elif op == 0x77:  # UART write
            p = machine._uarts.get(bus)
            if p is not None and _line(state, bus)[1]:
                p.write(bytes(buf[:n]))
        elif op == 0x4F:  # the node opened a UART: its pins and speed
            state.setdefault("opened", {})[bus] = struct.unpack_from("<HHI", buf, 0)
        elif op in (0x57, 0x52, 0x4D):  # I2C write / read / write then read
            d = machine._i2c.get(bus, {}).get(addr)
            err = 0
            try:
                if d is None:
                    raise OSError(19)
                if op == 0x57 and n == 0:  # an address probe (I2C.scan): only the ACK
                    d._ack()
                elif op == 0x52:
                    d.i2c_read_into(mv[4:], n)
                else:
                    d.i2c_write(buf, n)
                    if op == 0x4D:
                        d.i2c_read_into(mv[4:], rn)
                        n = rn
            except OSError as e:
                err = e.errno or 19
            struct.pack_into("<I", out, 0, err)
            k = 4 + n if op != 0x57 and not err else 4
        elif op == 0x50:  # a pin changed
            for fn in machine._pin_listeners:
                fn(bus, addr)
        elif op == 0x43:  # the node's config: make the sensors (once; a reset keeps them)
            key = bytes(buf[:n])
            if state.get("key") != key:
                config, _, board = key.partition(b"\x00")
                state["key"] = key
                try:
                    state["peers"], state["wires"] = build(json.loads(config or b"{}"), json.loads(board or b"{}"), sc)
                except ValueError as e:  # a config the firmware will refuse: no sensors then
                    print("simhost: no simulators for this config.json:", e)
                    state["peers"], state["wires"] = [], {}
            js = json.dumps(state["peers"]).encode()
            struct.pack_into("<I", out, 0, len(js))
            c.write(out, 4)
            c.write(js)
            count[1] += 1
        if k:
            c.write(out, k)
            count[1] += 1


def main():
    path = os.getenv("TYNYS_SIM_SOCKET")
    sp = os.getenv("TYNYS_SCENARIO")
    sc = {}
    if sp:
        with open(sp) as f:
            sc = json.load(f)
    srv = usocket.socket(usocket.AF_UNIX, usocket.SOCK_STREAM)
    try:
        os.remove(path)
    except OSError:
        pass
    srv.bind(b"\x01\x00" + path.encode() + b"\x00")
    srv.listen(1)
    state = {}
    while True:  # one node at a time; it reconnects after each reset
        c, _ = srv.accept()
        try:
            serve(c, sc, state)
        except OSError:
            pass
        c.close()


main()
