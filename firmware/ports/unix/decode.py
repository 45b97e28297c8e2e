# Decode a captured byte stream with the firmware's own drivers (run by `tynys decode`).
#
#     micropython -m decode pms5003 [chunk=N seed=S option=value ...] < records
#     (host: tynys.decode.run_firmware, which calls decode.main([...]))
#
# stdin: records, each a 4-byte big-endian length and that many bytes (a CSV capture row, or the
# whole capture as one record). Every record is fed to the driver through a UART peer (in reads
# of 1..N bytes when chunk=N, seeded) and polled until nothing is left. Prints one line per
# valid reading, "F <record> <raw int> ...", first a header "H <channels> <scales>", one line
# "B <record> <computed sum> <sum in the frame>" per frame that failed its checksum, last
# "C frames bad replies warming missing noise". Warm-up is off (a capture has no wake time).
import sys

import machine
from node import drivers
from sim.rand import Rand

_UART = 1


class Feed:
    """The bytes of one record, served in reads of at most 1..chunk bytes."""

    def __init__(self, chunk, seed):
        self.data = b""
        self.pos = 0
        self.chunk = chunk
        self.rand = Rand(seed)

    def any(self):
        return len(self.data) - self.pos

    def readinto(self, buf, n):
        n = min(n, len(self.data) - self.pos)
        if self.chunk:
            n = min(n, 1 + self.rand.below(self.chunk))
        for i in range(n):
            buf[i] = self.data[self.pos + i]
        self.pos += n
        return n

    def write(self, buf):
        pass


def _value(v):
    for conv in (int, float):
        try:
            return conv(v)
        except ValueError:
            pass
    return v


def main(argv):
    name = argv[0]
    opts = dict(a.split("=", 1) for a in argv[1:])
    feed = Feed(int(opts.pop("chunk", 0)), int(opts.pop("seed", 1)))
    machine.attach_uart(_UART, feed)
    d = drivers.create(name, _UART, warmup_ms=0, **{k: _value(v) for k, v in opts.items()})
    print("H", ",".join(d.CHANNELS), ",".join(str(s) for s in d.SCALE))
    inp = sys.stdin.buffer
    rec = 0
    at = [0]  # the record being parsed, for the checksum report
    d.on_checksum = lambda computed, sent: print("B", at[0], computed, sent)
    while True:
        head = inp.read(4)
        if not head or len(head) < 4:
            break
        n = head[0] << 24 | head[1] << 16 | head[2] << 8 | head[3]
        data = inp.read(n) if n else b""
        while len(data) < n:
            more = inp.read(n - len(data))
            if not more:
                break
            data += more
        feed.data = data
        feed.pos = 0
        at[0] = rec
        while d.poll():  # True per reading; False once every byte of the record is parsed
            print("F", rec, " ".join(str(v) for v in d.values))
        rec += 1
    print("C", d.frames, d.bad, d.replies, d.warming, d.missing, d.noise)


if __name__ == "__main__":
    main(sys.argv[1:])
