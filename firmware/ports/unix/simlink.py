# The virtual node's wires to its sensors: peers for machine.attach_uart/attach_i2c that carry
# every bus transfer, stamped with world time, to the sensor simulators running in their own
# process (simhost.py). The simulated world then costs the node's capped heap nothing but this
# link (its code, names and buffers: a few KB that a board's C drivers do not take, kept small
# and in one piece); the bytes on the bus are the simulators' own, unchanged.
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
#   'O' UART `bus` opened: n = 8 bytes tx:u16 rx:u16 baud:u32 (0xFFFF: no pin given) (no answer)
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
import struct
import time

_ENODEV = OSError(19)  # made once: an I2C NACK on every not-ready poll must not allocate
_b = bytearray(80)  # the batch being built (u32 length, then requests); then the answer read back
_k = 4  # bytes of the batch so far
_s = None  # the socket to the simulators
_uarts = []
_hints = os.getenv("TYNYS_SIMLINK") != "chatty"


def _put(op, bus, addr, n, buf=None, k=0):
    """Add a request to the batch: n bytes of buf for a write, else the n bytes to read. k > 0: the
    request is answered, so send the batch and read k bytes of the answer into _b."""
    global _k
    m = 0 if buf is None else n
    if _k + 16 + m > 80:
        _flush()
    struct.pack_into("<BBBBIq", _b, _k, op, bus, addr, 0, n, time.world_us())
    i = _k + 16
    for j in range(m):  # a command or register write: a few bytes
        _b[i + j] = buf[j]
    _k = i + m
    if k or not _hints:  # (the old path: every request on its own, at once)
        _flush()
    got = _s.readinto(_b, k) if k else 0
    while got < k:  # rare: the answer came in pieces
        m = _s.readinto(memoryview(_b)[got:k])
        if not m:
            raise OSError(104)  # the simulators are gone
        got += m


def _flush():
    global _k
    if _k > 4:
        struct.pack_into("<I", _b, 0, _k - 4)
        _s.write(_b, _k)
        _k = 4


class _Uart:
    def __init__(self, bus):
        self.bus = bus
        self.q = bytearray(128)  # what the simulator sent and the driver has not read yet
        self.pos = self.end = 0
        self.quiet = 0  # world time [us] before which the simulator sends nothing (its word)
        _uarts.append(self)

    def any(self):
        if self.pos >= self.end:
            if time.world_us() < self.quiet:
                return 0
            _put(0x72, self.bus, 0, 128, None, 12)  # 'r'
            n = _b[0]  # u32, but never above the 128 asked for
            if _hints:
                q = 0
                for i in range(11, 3, -1):  # i64, little-endian; small ints: no allocation
                    q = q << 8 | _b[i]
                self.quiet = q
            if n:
                got = 0
                while got < n:
                    got += _s.readinto(memoryview(self.q)[got:n]) if got else _s.readinto(self.q, n)
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

    def opened(self, tx, rx, baud):
        b = struct.pack("<HHI", 0xFFFF if tx is None else tx, 0xFFFF if rx is None else rx, baud)
        _put(0x4F, self.bus, 0, 8, b)  # 'O'
        self.pos = self.end = 0  # a reopened UART starts empty
        self.quiet = 0  # and what it hears may have changed


class _I2c:
    # Few names here: every distinct name in the node process is a qstr for good, and the node's
    # heap (the firmware's budget) pays for them.
    def __init__(self, bus, addr, op):
        self.bus = bus
        self.addr = addr
        self.op = op  # 'W', or 'V' where its simulator ACKs every write (connect)
        # the simulator's read hint: after writing q[0:wn], a read of rn bytes is q[4:4+rn];
        # wn, rn in q[8], q[9]; q[10]: the last write was that one
        self.q = bytearray(11)

    def i2c_write(self, buf, n):
        h = self.q
        h[10] = 1 if _hints and n == h[8] and n > 0 else 0
        for i in range(n if h[10] else 0):
            if buf[i] != h[i]:
                h[10] = 0
        if not h[10]:
            h[8] = 0  # any other write may change what a read says
        if self.op == 0x56:
            _put(0x56, self.bus, self.addr, n, buf)  # 'V'
        else:
            _put(0x57, self.bus, self.addr, n, buf, 4)  # 'W' -> errno
            if _b[0]:
                raise _ENODEV

    def i2c_read_into(self, buf, n):
        h = self.q
        if h[10] and n == h[9]:
            h[10] = 0
            for i in range(n):
                buf[i] = h[4 + i]
            return
        h[10] = 0
        _put(0x52, self.bus, self.addr, n, None, 14 + n)  # 'R' -> errno, n bytes, hint (wn, rn, 4 + 4 bytes)
        if _b[0]:
            raise _ENODEV
        for i in range(n):
            buf[i] = _b[4 + i]
        for i in range(8):
            h[i] = _b[6 + n + i]
        h[8] = _b[4 + n]
        h[9] = _b[5 + n]


def _pin(pid, v):
    _put(0x50, pid, v, 0)  # 'P'
    for u in _uarts:  # a power gate or SET line may wake a sensor
        u.quiet = 0


def connect(path, config, board):
    """Link to the simulator process; it builds the sensors config.json names and we attach a
    peer for each. Returns the peers as [kind, bus, addr, acks] lists. (Kept here rather than in a
    module loaded once and dropped: the hole such a module leaves low in the heap fragments the
    firmware's own objects, and the node then fails to find 512 contiguous bytes.)"""
    global _s
    import json
    import machine
    import usocket
    import utime

    for _ in range(100):  # the launcher starts the simulators first; give them a moment
        try:
            s = usocket.socket(usocket.AF_UNIX, usocket.SOCK_STREAM)
            s.connect(b"\x01\x00" + path.encode() + b"\x00")  # struct sockaddr_un
            break
        except OSError:
            utime.sleep_ms(50)  # real time: the world clock is not moving yet
    else:
        raise OSError("no sensor simulators at %s" % path)
    _s = s
    n = len(config) + 1 + len(board)  # 'C', a batch of its own
    struct.pack_into("<I", _b, 0, 16 + n)
    struct.pack_into("<BBBBIq", _b, 4, 0x43, 0, 0, 0, n, time.world_us())
    s.write(_b, 20)
    s.write(config)
    s.write(b"\x00")
    s.write(board)
    s.readinto(_b, 4)
    buf = bytearray(struct.unpack_from("<I", _b, 0)[0])
    got = 0
    while got < len(buf):
        got += s.readinto(memoryview(buf)[got:])
    peers = json.loads(buf)
    uart, i2c = _Uart, _I2c
    if os.getenv("TYNYS_SIMLINK_TRACE"):  # tests only
        import simtrace

        uart, i2c = simtrace._Uart, simtrace._I2c
    for kind, bus, addr, acks in peers:
        if kind == "uart":
            machine.attach_uart(bus, uart(bus))
        else:  # 'V': writes posted, where the simulator ACKs every one
            machine.attach_i2c(bus, addr, i2c(bus, addr, 0x56 if acks and _hints else 0x57))
    machine.on_pin(_pin)
    return peers
