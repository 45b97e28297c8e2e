# Store-and-forward log on the node's flash (LittleFS): a record is appended before it is sent
# and leaves only when the host acknowledges its seq; bounded, dropping the oldest when full.
#
#     sp = Spool("spool", max_records=1000)
#     sp.make_room()                   # drop the oldest if full (sp.dropped counts), before building
#     sp.append(line)                  # one record line, no newline
#     c = sp.cursor()                  # an uplink's read position, starting at the oldest record
#     n = sp.read(c)                   # copies the record at c into sp.buf, returns its length
#     sp.advance(c, n)                 # ... (0 when c is at the end)
#     sp.ack(seqs)                     # the host has these; the head moves past them
#
# On flash: spool/<8 hex digits> segment files of newline-ended records, in seq order, and
# spool/head = "<segment> <offset> <dropped>": where the oldest unacknowledged record starts and
# how many records the bound dropped (cumulative). Power loss at any write is safe because
# LittleFS commits a file's new contents only at close, and head is replaced by rename: a record
# is whole or absent, and an acknowledgement lost with the power only means a resend.
import os
from array import array
from micropython import const

_SEG_BYTES = const(16384)  # a new segment starts beyond this size (4 erase blocks)
_MAXREC = const(4096)  # longest record line accepted
_ACKS = const(64)  # acknowledgements remembered beyond the head (out of order)
_ENOSPC = const(28)


class Spool:
    def __init__(self, path="spool", max_records=1000, seg_bytes=_SEG_BYTES, maxrec=_MAXREC):
        self.dir = path
        self.max_records = max_records
        self.seg_bytes = seg_bytes
        self.buf = bytearray(maxrec)  # the longest record + 1; the node also builds records here
        self.mv = memoryview(self.buf)
        self.head = array("i", (0, 0))
        self.dropped = 0
        self.count = 0
        self.last_seq = -1
        self.torn = 0  # damaged lines skipped at mount (never expected: LittleFS is atomic)
        self._acked = array("i", (-1,) * _ACKS)
        self._head_seq = -1  # seq of the oldest queued record (-1: none)
        self._head_len = 0
        try:
            os.mkdir(path)
        except OSError:
            pass
        self._mount()

    # -- files
    def _seg(self, n):
        return "%s/%08x" % (self.dir, n)

    def _segments(self):
        segs = []
        for e in os.ilistdir(self.dir):
            name = e[0]
            if len(name) == 8 and name[0] in "0123456789abcdef" and name[-1] in "0123456789abcdef":
                segs.append(int(name, 16))
        segs.sort()
        return segs

    def _mount(self):
        try:
            with open(self.dir + "/head") as f:
                seg, off, dropped = f.read().split()
            self.head[0] = int(seg)
            self.head[1] = int(off)
            self.dropped = int(dropped)
        except (OSError, ValueError):
            pass
        segs = self._segments()
        for s in segs:  # segments wholly before the head are acknowledged: finish deleting them
            if s < self.head[0]:
                os.remove(self._seg(s))
        segs = [s for s in segs if s >= self.head[0]]
        if not segs or segs[0] != self.head[0]:  # the head's segment is gone: start at the next
            self.head[0] = segs[0] if segs else self.head[0]
            self.head[1] = 0
        c = array("i", self.head)
        for s in segs:
            if s != c[0]:
                c[0] = s
                c[1] = 0
            while True:
                n = self._line(c)
                if n <= 0:
                    break
                self.count += 1
                self.last_seq = self._seq(n)
                c[1] += n
        # Appends go to a fresh segment after a boot, so nothing is ever written after a line
        # the mount could not read.
        self._tail = (segs[-1] + 1) if segs else self.head[0]
        self._tail_size = 0
        self._load_head()

    def _line(self, c):
        # Read the line at cursor c into buf: its length with the newline, 0 at the end of the
        # segment, -1 (and counted as torn) when the rest of the segment is not a whole record.
        try:
            with open(self._seg(c[0]), "rb") as f:
                f.seek(c[1])
                n = f.readinto(self.mv)
        except OSError:
            return 0
        if not n:
            return 0
        i = self.buf.find(b"\n", 0, n)
        if i < 1 or self.buf[0] != 0x7B or self.buf[i - 1] != 0x7D:  # '{' ... '}'
            self.torn += 1
            return -1
        return i + 1

    def _seq(self, n):
        # The seq of the line in buf (written as '"seq":<digits>' by node.record).
        i = self.buf.find(b'"seq":', 0, n)
        if i < 0:
            return -1
        i += 6
        v = 0
        b = self.buf
        while 0x30 <= b[i] <= 0x39:
            v = v * 10 + b[i] - 0x30
            i += 1
        return v

    def _load_head(self):
        # Cache the seq and length of the record at the head, stepping over finished segments.
        h = self.head
        while True:
            n = self._line(h)
            if n > 0:
                self._head_seq = self._seq(n)
                self._head_len = n
                return
            if h[0] >= self._tail:
                self._head_seq = -1
                self._head_len = 0
                return
            h[0] += 1
            h[1] = 0

    def _save_head(self):
        tmp = self.dir + "/head.tmp"
        with open(tmp, "w") as f:
            f.write("%d %d %d\n" % (self.head[0], self.head[1], self.dropped))
        os.rename(tmp, self.dir + "/head")
        for s in self._segments():  # after the head is safe, delete what it left behind
            if s < self.head[0]:
                os.remove(self._seg(s))

    def _pop(self):
        # Move the head past its record (acknowledged or dropped). Does not save.
        if self._head_seq < 0:
            return False
        self.head[1] += self._head_len
        self.count -= 1
        self._load_head()
        return True

    # -- producer
    def make_room(self):
        """Drop the oldest records until one more fits the bound; return how many were dropped."""
        k = 0
        while self.count >= self.max_records and self._pop():
            k += 1
        if k:
            self.dropped += k
            self._save_head()
        return k

    def append(self, line):
        """Append one record line durably; returns when it is on flash. line: bytes, or a
        memoryview of the record the node built at the start of self.buf (no newline)."""
        n = len(line)
        if n + 1 > len(self.buf):
            raise ValueError("record of %d bytes is longer than the spool's %d" % (n, len(self.buf) - 1))
        if not isinstance(line, memoryview):
            self.buf[:n] = line
        line = self.mv[:n]
        if self._tail_size and self._tail_size + n > self.seg_bytes:
            self._tail += 1
            self._tail_size = 0
        for retry in (1, 0):
            try:
                with open(self._seg(self._tail), "ab") as f:
                    f.write(line)
                    f.write(b"\n")
                break
            except OSError as e:
                if e.errno != _ENOSPC or not retry:
                    raise
                self._free_segment()
        self._tail_size += n + 1
        self.count += 1
        self.last_seq = self._seq(n)
        if self._head_seq < 0:
            self._load_head()

    def _free_segment(self):
        # The flash is full: drop the oldest segment's records, counted, so its blocks come free.
        s = self.head[0]
        k = 0
        while self.head[0] == s and s < self._tail and self._pop():
            k += 1
        self.dropped += k
        self._save_head()

    # -- consumers (uplinks)
    @property
    def oldest(self):
        """The seq of the oldest record waiting for its acknowledgement (-1: none)."""
        return self._head_seq

    def cursor(self):
        return array("i", self.head)

    def to_end(self, c):
        """Move cursor c past the newest record (only records appended later will be read)."""
        c[0] = self._tail
        c[1] = self._tail_size

    def rewind(self, c):
        """Move cursor c back to the head (resend everything not yet acknowledged)."""
        c[0] = self.head[0]
        c[1] = self.head[1]

    def read(self, c):
        """Copy the record at cursor c into self.buf; return its length without the newline,
        or 0 at the end. A cursor the head has passed moves up to the head first."""
        h = self.head
        if c[0] < h[0] or (c[0] == h[0] and c[1] < h[1]):
            c[0] = h[0]
            c[1] = h[1]
        if c[0] == self._tail and c[1] >= self._tail_size:
            return 0  # at the end: known without opening a file (that would allocate)
        while True:
            n = self._line(c)
            if n > 0:
                if not self._has_ack(self._seq(n)):
                    return n - 1
                c[1] += n  # acknowledged out of order already: skip it
                continue
            if c[0] >= self._tail:
                return 0
            c[0] += 1
            c[1] = 0

    def advance(self, c, n):
        c[1] += n + 1

    def seq(self, n):
        """The seq of the record read into buf (n: its length)."""
        return self._seq(n)

    def _has_ack(self, s):
        a = self._acked
        for i in range(_ACKS):
            if a[i] == s:
                return True
        return False

    def ack(self, seqs):
        """The host has stored (or refused for good) these seqs: free them. Returns how many."""
        a = self._acked
        k = 0
        for s in seqs:
            if s < self._head_seq or self._has_ack(s):
                continue
            j = 0  # a free slot, or the smallest remembered
            for i in range(_ACKS):
                if a[i] < a[j]:
                    j = i
            a[j] = s
        moved = False
        while self._head_seq >= 0:
            for i in range(_ACKS):
                if a[i] == self._head_seq:
                    a[i] = -1
                    break
            else:
                break
            self._pop()
            moved = True
            k += 1
        if moved:
            self._save_head()
        return k
