# Setting up the virtual node's link to its sensor simulators (simlink.py): connect to the
# simulators' process, send config.json and board.json, attach a link peer for each sensor the
# simulators made. Run once at boot and then dropped, so its code leaves the node's heap.
import os
import struct
import time
import usocket
import utime

import machine
import simlink


def connect(path, config, board):
    import json

    for _ in range(100):  # the launcher starts the simulators first; give them a moment
        try:
            s = usocket.socket(usocket.AF_UNIX, usocket.SOCK_STREAM)
            s.connect(b"\x01\x00" + path.encode() + b"\x00")  # struct sockaddr_un
            break
        except OSError:
            utime.sleep_ms(50)  # real time: the world clock is not moving yet
    else:
        raise OSError("no sensor simulators at %s" % path)
    simlink._s = s
    b = simlink._b
    n = len(config) + 1 + len(board)  # 'C', a batch of its own
    struct.pack_into("<I", b, 0, 16 + n)
    struct.pack_into("<BBBBIq", b, 4, 0x43, 0, 0, 0, n, time.world_us())
    s.write(b, 20)
    s.write(config)
    s.write(b"\x00")
    s.write(board)
    s.readinto(b, 4)
    buf = bytearray(struct.unpack_from("<I", b, 0)[0])
    got = 0
    while got < len(buf):
        got += s.readinto(memoryview(buf)[got:])
    peers = json.loads(buf)
    uart, i2c = simlink._Uart, simlink._I2c
    if os.getenv("TYNYS_SIMLINK_TRACE"):  # tests only
        import simtrace

        uart, i2c = simtrace._Uart, simtrace._I2c
    for kind, bus, addr, acks in peers:
        if kind == "uart":
            machine.attach_uart(bus, uart(bus))
        else:  # 'V': writes posted, where the simulator ACKs every one
            machine.attach_i2c(bus, addr, i2c(bus, addr, 0x56 if acks and simlink._hints else 0x57))
    machine.on_pin(simlink._pin)
    return peers
