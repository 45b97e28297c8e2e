"""Fuzz: at least 1 MB of random and mutated bytes per driver, on the unix port.

UART drivers: a seeded stream of intact frames (random values), command replies, random garbage
and mutated frames (bytes changed, dropped, inserted, truncated, headers repeated) is made on
the host, then *scrubbed*: a reference check of the protocol finds every valid frame at every
offset, and any valid frame that was not inserted intact (garbage or a mutation that happens to
pass the checksum) gets its first byte changed. So by construction the only valid frames in the
stream are the inserted ones, and the driver, reading it in random pieces of 1..64 bytes, must
return exactly them, in order, with their values; and count exactly the inserted replies.
Every intact frame directly after garbage must come out: the driver is back in sync within
one frame. Nothing may escape as an exception (the unix port would exit non-zero).

I2C drivers (tests/firmware/mpy/fuzz_i2c.py): a peer inside MicroPython answers each read with
an intact response, a corrupted one, random bytes or a NACK, and checks after every poll() that
a reading came exactly for the responses that are valid, with the right values.
"""

from __future__ import annotations

import random
import re
import struct
from pathlib import Path

import numpy as np
import pytest

from sim.pms import frame as pms_frame
from sim.sds011 import data_frame, reply_frame
from sim.sps30 import miso
from sim.ze03 import ze03_frame
from tynys import decode, firmware

pytestmark = pytest.mark.firmware

MB = 1 << 20
HERE = Path(__file__).resolve().parent


class Protocol:
    """A UART protocol for the fuzzer: frame makers and the reference validity check."""

    SHARED_END = 0  # bytes at a frame's end that can also begin the next frame (SPS30: 7E)

    def intact(self, rng):  # -> (bytes, [raw ints the driver must return])
        raise NotImplementedError

    def reply(self, rng):
        raise NotImplementedError

    def valid_starts(self, data: bytearray):  # -> {offset: length} of every valid frame
        raise NotImplementedError

    def kill(self, data, i):
        """Make the frame at i invalid without touching other bytes."""
        data[i] ^= 0xFF


def _positions(data, first, second=None):
    a = np.frombuffer(bytes(data), dtype=np.uint8)
    m = a[:-1] == first
    if second is not None:
        m &= np.isin(a[1:], second)
    return np.nonzero(m)[0].tolist()


class PMS(Protocol):
    def __init__(self, t=False):
        self.t = t

    def intact(self, rng):
        pm = [rng.randrange(1, 1000) for _ in range(6)]
        counts = [rng.randrange(1, 65535) for _ in range(4)]
        if self.t:
            tail = [rng.randrange(-400, 800) & 0xFFFF, rng.randrange(0, 1000)]
            values = pm + counts + [tail[0] - 65536 if tail[0] & 0x8000 else tail[0], tail[1]]
        else:
            tail = [rng.randrange(0, 65535), rng.randrange(0, 65535)]
            values = pm + counts + tail
        return pms_frame(pm + counts + tail + [rng.randrange(65536)]), values

    def reply(self, rng):
        return pms_frame([rng.choice([0xE1, 0xE4]) << 8 | rng.randrange(2)], 4)

    def valid_starts(self, data):
        out = {}
        for i in _positions(data, 0x42, [0x4D]):
            if i + 4 > len(data) or data[i + 2] != 0 or data[i + 3] not in (0x1C, 0x04):
                continue
            n = data[i + 3] + 4
            if i + n <= len(data) and sum(data[i:i + n - 2]) & 0xFFFF == data[i + n - 2] << 8 | data[i + n - 1]:
                out[i] = n
        return out


class SDS(Protocol):
    def intact(self, rng):
        pm25, pm10 = rng.randrange(1, 10000), rng.randrange(1, 10000)
        return data_frame(pm25, pm10, rng.randrange(65536)), [pm25, pm10]

    def reply(self, rng):
        return reply_frame(rng.choice([2, 6, 7, 8]), 1, 0, 0, rng.randrange(65536))

    def valid_starts(self, data):
        out = {}
        for i in _positions(data, 0xAA, [0xC0, 0xC5]):
            if i + 10 <= len(data) and data[i + 9] == 0xAB and sum(data[i + 2:i + 8]) & 0xFF == data[i + 8]:
                out[i] = 10
        return out


class ZE03(Protocol):
    def intact(self, rng):
        c = rng.randrange(0, 200)
        return ze03_frame([0x86, c >> 8, c & 0xFF, 0, 0, 0, 0]), [c * 100]

    def reply(self, rng):
        c = rng.randrange(200)
        return ze03_frame([0x2B, 2, 1, c >> 8, c & 0xFF, 0, 200])

    def valid_starts(self, data):
        out = {}
        for i in _positions(data, 0xFF):
            if i + 9 <= len(data) and (-sum(data[i + 1:i + 8])) & 0xFF == data[i + 8]:
                out[i] = 9
        return out


class SPS30(Protocol):
    SHARED_END = 1

    def intact(self, rng):
        q = [rng.randrange(1, 1 << 24) << rng.choice([0, 0, 0, 3, 6]) for _ in range(10)]
        return miso(3, 0, struct.pack(">10f", *(x / 1024 for x in q))), q

    def reply(self, rng):
        return rng.choice([miso(0, 0), miso(1, 0), miso(3, 0x43), miso(0xD1, 0, bytes([2, 2, 0, 7, 0, 3, 0]))])

    def valid_starts(self, data):
        """Bodies between consecutive 7E, unstuffed in one pass; offset of the opening 7E."""
        out = {}
        marks = _positions(data + b"\x00", 0x7E)
        for p, q in zip(marks, marks[1:]):
            body, esc, ok = bytearray(), False, True
            for b in data[p + 1:q]:
                if esc:
                    ok &= b in (0x5E, 0x5D, 0x31, 0x33)
                    body.append(b ^ 0x20)
                    esc = False
                elif b == 0x7D:
                    esc = True
                else:
                    body.append(b)
            if ok and not esc and 5 <= len(body) <= 64 and body[0] == 0 and body[3] + 5 == len(body) \
                    and sum(body) & 0xFF == 0xFF:
                out[p] = q + 1 - p
        return out

    def kill(self, data, i):
        data[i + 1] = 0x01  # ADR must be 0 (a valid body starts 00, which is never stuffed)


DGS_LINE = re.compile(rb" *\d{12} *(, *-?\d{1,9} *){10}")


class DGS(Protocol):
    """No checksum: mutations are structural (a changed digit could not be detected by any reader)."""

    def intact(self, rng):
        ppb, t, rh = rng.randrange(-50, 100000), rng.randrange(-40, 60), rng.randrange(0, 101)
        line = "%012d, %d, %d, %d, %d, %d, %d, %02d, %02d, %02d, %02d\r\n" % (
            rng.randrange(10 ** 12), ppb, t, rh, rng.randrange(10 ** 7), rng.randrange(65536),
            rng.randrange(65536), rng.randrange(100), rng.randrange(24), rng.randrange(60), rng.randrange(60))
        return line.encode(), [ppb, t, rh]

    def reply(self, rng):
        return rng.choice([b"15SEP17\r\n", b"EEPROM Values\r\n", b"Gas= SO2\r\n"])

    @staticmethod
    def suffix(line):
        """Where the driver starts reading a line: after the last byte no line can contain."""
        m = re.search(rb"[^0-9 ,\-][0-9 ,\-]*$", line)
        return m.start() + 1 if m else 0

    def valid_starts(self, data):
        out = {}
        start = 0
        for m in re.finditer(rb"\n", bytes(data)):
            line = bytes(data[start:m.start()])
            body = line[:-1] if line.endswith(b"\r") else line
            s = self.suffix(body)
            cand = body[s:]
            if len(line) <= 120 and DGS_LINE.fullmatch(cand):
                f = [int(x) for x in cand.split(b",")]
                if -99 <= f[2] <= 99 and 0 <= f[3] <= 100 and f[7] >= 0 and 0 <= f[8] < 24 \
                        and 0 <= f[9] < 60 and 0 <= f[10] < 60:
                    out[start + s] = m.end() - start - s
            start = m.end()
        return out

    def kill(self, data, i):
        data[i] = ord("Z")  # the serial number loses a digit


PROTOCOLS = {"pms5003": PMS(), "pms5003t": PMS(True), "sds011": SDS(), "sps30": SPS30(),
             "ze03": ZE03(), "dgs": DGS()}


def mutate(rng, frame):
    f = bytearray(frame)
    kind = rng.randrange(5)
    if kind == 0:
        for _ in range(rng.randrange(1, 4)):
            i = rng.randrange(len(f))
            f[i] ^= rng.randrange(1, 256)
    elif kind == 1:
        f = f[:rng.randrange(1, len(f))]
    elif kind == 2:
        del f[rng.randrange(len(f))]
    elif kind == 3:
        f.insert(rng.randrange(len(f)), rng.randrange(256))
    else:
        i = rng.randrange(1, len(f))
        f[i:i] = frame[:rng.randrange(1, 5)]  # a header inside the frame
    return bytes(f)


def make_stream(sensor, size, seed):
    proto = PROTOCOLS[sensor]
    rng = random.Random(seed)
    data = bytearray()
    inserted, replies = [], []  # (offset, length, values)
    after_garbage = 0  # intact frames that directly follow garbage or a mutated frame
    prev = "start"
    while len(data) < size:
        k = rng.random()
        if k < 0.35:
            frame, values = proto.intact(rng)
            if sensor == "dgs":  # a DGS line needs a line end or a non-line byte before it
                line_so_far = len(data) - (data.rfind(b"\n") + 1)
                if line_so_far and (line_so_far + len(frame) > 118 or chr(data[-1]) in "0123456789 ,-"):
                    data += b"\r\n"
            after_garbage += prev == "garbage"
            inserted.append((len(data), len(frame), values))
            data += frame
            prev = "frame"
        elif k < 0.45:
            frame = proto.reply(rng)
            replies.append((len(data), len(frame)))
            data += frame
            prev = "frame"
        elif k < 0.75:
            data += rng.randbytes(rng.randrange(1, 200))
            prev = "garbage"
        else:
            frame, _ = proto.intact(rng)
            data += mutate(rng, frame)
            prev = "garbage"
    # scrub: only the inserted frames may be valid. A "frame" starting inside an inserted one is
    # harmless (the driver takes the inserted frame whole) and is left alone.
    keep = {o for o, _, _ in inserted} | {o for o, _ in replies}
    inside = np.zeros(len(data) + 1, dtype=bool)
    for o, n in [(o, n) for o, n, _ in inserted] + replies:
        inside[o + 1:o + n - proto.SHARED_END] = True

    def extras():
        return [i for i in proto.valid_starts(data) if i not in keep and not inside[i]]

    for _ in range(20):
        extra = extras()
        if not extra:
            break
        for i in extra:
            proto.kill(data, i)
    assert not extras(), "scrubbing did not converge"
    assert {o for o, _, _ in inserted} <= set(proto.valid_starts(data)), "scrubbing broke a frame"
    return bytes(data), inserted, replies, after_garbage


@pytest.mark.parametrize("sensor", list(PROTOCOLS))
def test_uart_driver_survives_1mb_of_fuzz(built_firmware, sensor):
    data, inserted, replies, after_garbage = make_stream(sensor, MB, seed=sum(map(ord, sensor)))
    assert len(data) >= MB and after_garbage > 1000
    records = [data[i:i + 4096] for i in range(0, len(data), 4096)]
    _, _, frames, counts = decode.run_firmware(sensor, records, chunk=64, seed=7, timeout=300)
    got = [v for _, v in frames]
    want = [v for _, _, v in inserted]
    assert len(got) == len(want), f"{len(got)} frames out, {len(want)} inserted intact"
    assert got == want
    assert counts["frames"] == len(inserted)
    if sensor != "dgs":  # DGS text replies cannot be told from garbage text lines
        assert counts["replies"] == len(replies)
    assert counts["bad"] > 100 and counts["noise"] > 100_000  # the garbage was there and counted


@pytest.mark.parametrize("sensor", ["sht3x", "bme280", "isb"])
def test_i2c_driver_survives_1mb_of_fuzz(built_firmware, sensor):
    proc = firmware.run(script=HERE / "mpy" / "fuzz_i2c.py", args=(sensor, str(MB), "11"),
                        heap="512K", do_build=False, timeout=600)
    out = proc.stdout.decode()
    assert proc.returncode == 0, proc.stderr.decode() + out[-2000:]
    last = out.strip().splitlines()[-1].split()
    assert last[0] == "OK", out[-2000:]
    served, readings, rejected = (int(x) for x in last[1:4])
    assert served >= MB and readings > 1000 and rejected > 1000
