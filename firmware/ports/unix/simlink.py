# The virtual node's wires to its sensors: peers for machine.attach_uart/attach_i2c that carry
# every bus transfer, stamped with world time, to the sensor simulators running in their own
# process (simhost.py). The simulated world then costs the node's capped heap nothing, as real
# sensors cost a board nothing; the bytes on the bus are the simulators' own, unchanged.
#
#     import simlink
#     simlink.connect("/path/sim.sock", config_json_bytes, board_json_bytes)
#
# Wire format (little-endian). The node sends batches: u32 length, then requests, each
#   op:u8 bus:u8 addr:u8 0:u8 n:u32 world_us:i64, then n bytes for writes;
# requests that need no answer wait in the batch until one that does (or until it is full),
# and the simulators answer those in order:
#   'C' config.json + NUL + board.json -> u32 length + JSON [[kind, bus, addr, acks], ...]
#   'r' UART read up to n  -> u32 k + i64 quiet_us + k bytes    'w' UART write n bytes (no answer)
#   'W' I2C write n bytes  -> u32 errno (0: ACK)
#   'R' I2C read n -> u32 errno + n bytes + u8 wn, u8 rn, 4 bytes w, 4 bytes r (read hint, rn 0: none)
#   'V' I2C write n bytes to a device whose simulator ACKs every write (acks above; no answer)
#   'P' pin `bus` set to `addr` (no answer)
# The simulators act on each request at its own world time, so a write that waits in the batch
# takes effect when it would have. quiet_us: the world time before which that UART's simulator
# sends nothing unless it hears a command (sim/uart.py quiet_until); until then the link
# answers the driver's polls itself, "no bytes", as the simulator would have. The firmware sees
# the same bytes at the same world times with a round trip per frame instead of one per poll
# (tests/firmware/test_simlink.py proves it). A read hint is the same for I2C: the simulator says
# what a read right after a given write will answer while nothing else is written (an ADS1115's
# conversion register once the conversion is done), and the link answers that read itself.
# TYNYS_SIMLINK=chatty ignores the hints and the ACK promises, and asks at every poll and write
# (the old path, for comparison).
import os
import usocket
import utime
import struct
import time
import machine

_ENODEV = OSError(19)  # made once: an I2C NACK on every not-ready poll must not allocate
_out = bytearray(128)  # the batch being built: u32 length, then requests
_k = 4  # bytes of _out in use
_r = bytearray(12)
_rr = bytearray(14 + 64)  # an I2C read's answer
_s = None  # the socket to the simulators
_uarts = []
_hints = os.getenv("TYNYS_SIMLINK") != "chatty"


def _put(op, bus, addr, n, buf=None):
    """Add a request to the batch: n bytes of buf for a write, else the n bytes to read."""
    global _k
    m = 0 if buf is None else n
    if _k + 16 + m > len(_out):
        _flush()
    struct.pack_into("<BBBBIq", _out, _k, op, bus, addr, 0, n, time.world_us())
    k = _k + 16
    for i in range(m):  # a command or register write: a few bytes
        _out[k + i] = buf[i]
    _k = k + m
    if not _hints:
        _flush()  # the old path: every request on its own, at once


def _flush():
    global _k
    if _k > 4:
        n = _k - 4
        _out[0] = n & 0xFF
        _out[1] = n >> 8 & 0xFF
        _out[2] = _out[3] = 0
        _s.write(_out, _k)
        _k = 4


def _ask(op, bus, addr, n, buf=None):
    """Send the batch, ending with a request that is answered."""
    _put(op, bus, addr, n, buf)
    _flush()


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


def _quiet_all():
    for u in _uarts:
        u.quiet = 0


class _Uart:
    def __init__(self, bus):
        self.bus = bus
        self.q = bytearray(256)  # what the simulator sent and the driver has not read yet
        self.pos = self.end = 0
        self.quiet = 0  # world time [us] before which the simulator sends nothing (its word)
        _uarts.append(self)

    def any(self):
        if self.pos >= self.end:
            if time.world_us() < self.quiet:
                return 0
            _ask(0x72, self.bus, 0, 256)  # 'r'
            _exact(_r, 12)
            n = _r[0] | _r[1] << 8 | _r[2] << 16 | _r[3] << 24
            if _hints:
                q = 0
                for i in range(11, 3, -1):  # i64, little-endian; small ints: no allocation
                    q = q << 8 | _r[i]
                self.quiet = q
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
        _put(0x77, self.bus, 0, len(buf), buf)  # 'w'
        self.quiet = 0  # a command may make it send


class _I2c:
    def __init__(self, bus, addr, acks):
        self.bus = bus
        self.addr = addr
        self.op = 0x56 if acks and _hints else 0x57  # 'V': its simulator ACKs every write
        self.hint = bytearray(10)  # the simulator's word: after writing [0:wn], a read of rn is [4:4+rn]
        self.armed = False  # the last write was the hinted one

    def i2c_write(self, buf, n):
        h = self.hint
        self.armed = False
        if _hints and n == h[8] and n:
            self.armed = True
            for i in range(n):
                if buf[i] != h[i]:
                    self.armed = False
        if not self.armed:
            h[8] = 0  # any other write may change what a read says
        if self.op == 0x56:
            _put(0x56, self.bus, self.addr, n, buf)  # 'V'
        else:
            _ask(0x57, self.bus, self.addr, n, buf)  # 'W'
            if _answer():
                raise _ENODEV

    def i2c_read_into(self, buf, n):
        h = self.hint
        if self.armed and n == h[9]:
            self.armed = False
            for i in range(n):
                buf[i] = h[4 + i]
            return
        self.armed = False
        _ask(0x52, self.bus, self.addr, n)  # 'R' -> errno, n bytes, hint (wn, rn, 4 + 4 bytes)
        _exact(_rr, 14 + n)
        if _rr[0] | _rr[1] | _rr[2] | _rr[3]:
            raise _ENODEV
        for i in range(n):
            buf[i] = _rr[4 + i]
        for i in range(8):
            h[i] = _rr[6 + n + i]
        h[8] = _rr[4 + n]
        h[9] = _rr[5 + n]


def _pin(pid, v):
    _put(0x50, pid, v, 0)  # 'P'
    _quiet_all()  # a power gate or SET line may wake a sensor


def connect(path, config, board):
    """Link to the simulator process; it builds the sensors config.json names and we attach
    a peer for each. Returns the peers as [kind, bus, addr, acks] lists."""
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
    n = len(config) + 1 + len(board)  # 'C', a batch of its own
    struct.pack_into("<IBBBBIq", _out, 0, 16 + n, 0x43, 0, 0, 0, n, time.world_us())
    _s.write(_out, 20)
    _s.write(config)
    _s.write(b"\x00")
    _s.write(board)
    buf = bytearray(_answer())
    _exact(buf, len(buf))
    peers = json.loads(buf)
    uart, i2c = _Uart, _I2c
    if os.getenv("TYNYS_SIMLINK_TRACE"):  # tests only: loaded when asked (the node's heap is tight)
        import simtrace

        uart, i2c = simtrace.Uart, simtrace.I2c
    for kind, bus, addr, acks in peers:
        if kind == "uart":
            machine.attach_uart(bus, uart(bus))
        else:
            machine.attach_i2c(bus, addr, i2c(bus, addr, acks))
    machine.on_pin(_pin)
    return peers
