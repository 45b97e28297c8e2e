# The virtual node's wires to its sensors: peers for machine.attach_uart/attach_i2c that carry
# every bus transfer, stamped with world time, to the sensor simulators running in their own
# process (simhost.py). The simulated world then costs the node's capped heap only this link
# (about 4 KB: its code and a peer per sensor, which a board's C drivers do not take); the bytes
# on the bus are the simulators' own, unchanged.
#
#     import simlink
#     simlink.connect("/path/sim.sock", config_json_bytes, board_json_bytes)
#
# Wire format (little-endian), one request per transfer, answered in order:
#   request  op:u8 bus:u8 addr:u8 0:u8 n:u32 world_us:i64, then n bytes for writes
#   'C' config.json + NUL + board.json -> u32 length + JSON [[kind, bus, addr], ...] peers made
#   'r' UART read up to n  -> u32 k + i64 quiet_us + k bytes    'w' UART write n bytes (no answer)
#   'W' I2C write n bytes  -> u32 errno (0: ACK)   'R' I2C read n -> u32 errno + n bytes
#   'M' I2C register read: n = wn | rn << 16, then wn bytes written and rn read in one transfer
#       (a repeated start: one round trip, not two) -> u32 errno + rn bytes
#   'P' pin `bus` set to `addr` (no answer)
#   'O' UART `bus` opened: n = 8 bytes tx:u16 rx:u16 baud:u32 (0xFFFF: no pin given) (no answer)
# quiet_us: the world time before which that UART's simulator sends nothing unless the node
# writes to it or reopens it (sim/uart.py quiet_until; no simulator listens to pins, and
# simhost.py gives no such time if one does). Until then the link answers the driver's polls
# itself, "nothing waiting", as the simulator would have: most polls of a day find nothing, and
# each would cost two processes a round trip. The firmware sees the same bytes at the same world
# times (tests/firmware/test_simlink.py); the node's heap pays about 100 bytes for it (its code,
# an attribute per UART).
import usocket
import utime
import struct
import time
import machine

_ENODEV = OSError(19)  # made once: an I2C NACK on every not-ready poll must not allocate
_h = bytearray(16)
_r = bytearray(12)  # an answer's head: u32, and after a UART read the i64 quiet_us
_s = None  # the socket to the simulators


def _req(op, bus, addr, n):
    struct.pack_into("<BBBBIq", _h, 0, op, bus, addr, 0, n, time.world_us())
    _s.write(_h)


def _exact(buf, n):
    got = _s.readinto(buf, n)
    while got < n:  # rare: the answer came in pieces
        k = _s.readinto(memoryview(buf)[got:n])
        if not k:
            raise OSError(104)  # the simulators are gone
        got += k


def _answer():
    _exact(_r, 4)
    return _r[0] | _r[1] << 8 | _r[2] << 16 | _r[3] << 24


class _Uart:
    def __init__(self, bus):
        self.bus = bus
        self.q = bytearray(256)  # what the simulator sent and the driver has not read yet
        self.pos = self.end = 0
        # quiet_us of the last read; named `due` as the firmware's own attribute is, because
        # each new name would be a qstr more in the node's heap
        self.due = 0

    def any(self):
        if self.pos >= self.end:
            if time.world_us() < self.due:
                return 0
            _req(0x72, self.bus, 0, 256)  # 'r'
            _exact(_r, 12)
            n = _r[0] | _r[1] << 8  # u32, but never above the 256 asked for
            q = 0
            for i in range(11, 3, -1):  # i64, little-endian; small ints: no allocation
                q = q << 8 | _r[i]
            self.due = q
            if n:
                _exact(self.q, n)
            self.pos = 0
            self.end = n
        return self.end - self.pos

    def readinto(self, buf, n):
        m = min(self.any(), n)
        q = self.q
        p = self.pos
        for i in range(m):
            buf[i] = q[p + i]
        self.pos = p + m
        return m

    def write(self, buf):
        _req(0x77, self.bus, 0, len(buf))  # 'w'
        _s.write(buf)
        self.due = 0  # a command may make it send

    def opened(self, tx, rx, baud):
        _req(0x4F, self.bus, 0, 8)  # 'O'
        _s.write(struct.pack("<HHI", 0xFFFF if tx is None else tx, 0xFFFF if rx is None else rx, baud))
        self.pos = self.end = 0  # a reopened UART starts empty
        self.due = 0  # and what it hears may have changed


class _I2c:
    def __init__(self, bus, addr):
        self.bus = bus
        self.addr = addr

    def i2c_write(self, buf, n):
        _req(0x57, self.bus, self.addr, n)  # 'W'
        _s.write(buf, n)
        if _answer():
            raise _ENODEV

    def i2c_read_into(self, buf, n):
        _req(0x52, self.bus, self.addr, n)  # 'R'
        if _answer():
            raise _ENODEV
        _exact(buf, n)

    def i2c_write_read(self, wbuf, wn, rbuf, rn):
        _req(0x4D, self.bus, self.addr, wn | rn << 16)  # 'M'
        _s.write(wbuf, wn)
        if _answer():
            raise _ENODEV
        _exact(rbuf, rn)


def connect(path, config, board):
    """Link to the simulator process; it builds the sensors config.json names and we attach
    a peer for each. Returns the peers as [kind, bus, addr] lists."""
    global _s
    import json

    for _ in range(100):  # the launcher starts the simulators first; give them a moment
        try:
            _s = usocket.socket(usocket.AF_UNIX, usocket.SOCK_STREAM)
            _s.connect(b"\x01\x00" + path.encode() + b"\x00")  # struct sockaddr_un
            break
        except OSError:
            utime.sleep_ms(50)  # real time: the world clock is not moving yet
    else:
        raise OSError("no sensor simulators at %s" % path)
    _req(0x43, 0, 0, len(config) + 1 + len(board))  # 'C'
    _s.write(config)
    _s.write(b"\x00")
    _s.write(board)
    buf = bytearray(_answer())
    _exact(buf, len(buf))
    peers = json.loads(buf)
    for kind, bus, addr in peers:
        if kind == "uart":
            machine.attach_uart(bus, _Uart(bus))
        else:
            machine.attach_i2c(bus, addr, _I2c(bus, addr))
    machine.on_pin(lambda pid, v: _req(0x50, pid, v, 0))  # 'P'
    return peers
