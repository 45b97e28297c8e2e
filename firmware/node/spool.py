# Store-and-forward log on the node's flash (LittleFS): a record is appended before it is sent
# and leaves only when the host acknowledges its seq; bounded, dropping the oldest when full.
#
#     sp = Spool("spool", max_records=1000)
#     sp.make_room()               # drop the oldest if full (sp.dropped counts), before building
#     sp.append(seq, write)        # write(f) writes one record line (no newline) into file f
#     c = sp.cursor()              # an uplink's read position, starting at the oldest record
#     n = sp.read(c)               # the length of the record at c (0: none), sp.seq its seq
#     sp.copy(c, n, out)           # out.write() its bytes, a small chunk at a time
#     c[1] += n + 1                # next record
#     sp.ack(seqs)                 # the host has these; the head moves past them
#     sp.oldest                    # seq of the oldest record waiting for its ACK (-1: none)
#     sp.acked                     # acknowledgements taken since boot: a new one shows a host answers
#
# On flash: spool/<8 hex digits> segment files of newline-ended records, in seq order, and
# spool/head = "<segment> <offset> <dropped> <last seq>": where the oldest unacknowledged record
# starts, how many records the bound dropped (cumulative) and the highest seq ever appended (so
# seq keeps increasing across reboots even when every record was acknowledged). Power loss at any write is safe because
# LittleFS commits a file's new contents only at close, and head is replaced by rename: a record
# is whole or absent, and an acknowledgement lost with the power only means a resend.
# Records are never held whole in RAM: they are written and read in chunks of _CHUNK bytes.
import os
from array import array
from micropython import const

_SEG_BYTES = const(16384)  # a new segment starts beyond this size (4 erase blocks)
_CHUNK = const(160)  # holds a record's start up to its seq (a node id has at most 64 characters)
_ACKS = const(64)  # acknowledgements remembered beyond the head (out of order)
_ENOSPC = const(28)
_HEX = "0123456789abcdef"


class Spool:
    def __init__(self, path="spool", max_records=1000, seg_bytes=_SEG_BYTES):
        self.dir = path
        self.max_records = max_records
        self.seg_bytes = seg_bytes
        self.buf = bytearray(_CHUNK)
        self.mv = memoryview(self.buf)
        self.head = array("i", (0, 0))
        self.dropped = 0
        self.count = 0
        self.last_seq = -1
        self.torn = 0  # damaged lines skipped at mount (never expected: LittleFS is atomic)
        self.seq = -1  # seq of the record read() (or _line()) found last
        self.oldest = -1  # seq of the oldest queued record, the one at the head (-1: none)
        self._acked = array("i", (-1,) * _ACKS)
        self.acked = 0
        self._head_len = 0
        self._first = 0  # the lowest segment that may still be on flash (below it: deleted)
        try:
            os.mkdir(path)
        except OSError:
            pass
        self._mount()

    # -- files
    def _name(self, n):
        return "%s/%08x" % (self.dir, n)

    def _mount(self):
        try:
            with open(self.dir + "/head") as f:
                h = f.read().split()
            self.head[0] = int(h[0])
            self.head[1] = int(h[1])
            self.dropped = int(h[2])
            if len(h) > 3:
                self.last_seq = int(h[3])
        except (OSError, ValueError):
            pass
        segs = []  # the segment files, in order
        for e in os.ilistdir(self.dir):
            name = e[0]
            if len(name) == 8 and name[0] in _HEX and name[-1] in _HEX:
                segs.append(int(name, 16))
        segs.sort()
        for s in segs:  # segments wholly before the head are acknowledged: finish deleting them
            if s < self.head[0]:
                os.remove(self._name(s))
        segs = [s for s in segs if s >= self.head[0]]
        if not segs or segs[0] != self.head[0]:  # the head's segment is gone: start at the next
            self.head[0] = segs[0] if segs else self.head[0]
            self.head[1] = 0
        self._first = self.head[0]
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
                if self.seq > self.last_seq:
                    self.last_seq = self.seq
                c[1] += n
        # Appends go to a fresh segment after a boot, so nothing is ever written after a line
        # the mount could not read.
        self._tail = (segs[-1] + 1) if segs else self.head[0]
        self._tail_size = 0
        self._load_head()

    def _line(self, c):
        # The length (with its newline) of the line at cursor c; 0 at the end of the segment;
        # -1 (counted as torn) when the rest of the segment is not a whole record. The line's
        # seq goes to self.seq.
        try:
            f = open(self._name(c[0]), "rb")
        except OSError:
            return 0
        b = self.buf
        with f:
            f.seek(c[1])
            n = 0
            last = 0
            while True:
                k = f.readinto(b)
                if not k:
                    if n:
                        break  # no newline before the end: torn
                    return 0
                if not n:
                    if b[0] != 0x7B:  # '{'
                        break
                    self.seq = self._parse(k)
                i = b.find(b"\n", 0, k)
                if i >= 0:
                    if (b[i - 1] if i else last) != 0x7D:  # '}'
                        break
                    return n + i + 1
                last = b[k - 1]
                n += k
        self.torn += 1
        return -1

    def _parse(self, k):
        # The seq in the first k bytes of a line (written as '"seq":<digits>' by node.record).
        b = self.buf
        i = b.find(b'"seq":', 0, k)
        if i < 0:
            return -1
        i += 6
        v = 0
        while i < k and 0x30 <= b[i] <= 0x39:
            v = v * 10 + b[i] - 0x30
            i += 1
        return v

    def _load_head(self):
        # Cache the seq and length of the record at the head, stepping over finished segments.
        h = self.head
        while True:
            if h[0] == self._tail and h[1] >= self._tail_size:
                n = 0  # the queue is empty: known without opening a file
            else:
                n = self._line(h)
            if n > 0:
                self.oldest = self.seq
                self._head_len = n
                return
            if h[0] >= self._tail:
                self.oldest = -1
                self._head_len = 0
                return
            h[0] += 1
            h[1] = 0

    def _save_head(self):
        tmp = self.dir + "/head.tmp"
        with open(tmp, "w") as f:
            f.write("%d %d %d %d\n" % (self.head[0], self.head[1], self.dropped, self.last_seq))
        os.rename(tmp, self.dir + "/head")
        # After the head is safe, delete the segments it left behind (numbered in a row: no
        # directory listing, which would allocate on every acknowledgement).
        while self._first < self.head[0]:
            try:
                os.remove(self._name(self._first))
            except OSError:
                pass  # never written (an empty tail after a boot) or deleted already
            self._first += 1

    def _pop(self):
        # Move the head past its record (acknowledged or dropped). Does not save.
        if self.oldest < 0:
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

    def append(self, seq, write):
        """Append record `seq` durably: write(f) writes its line (no newline) into file f; it
        may be called twice (again after freeing space when the flash was full). Returns when
        the record is on flash."""
        if self._tail_size >= self.seg_bytes:
            self._tail += 1
            self._tail_size = 0
        start = self._tail_size
        for retry in (1, 0):
            try:
                with open(self._name(self._tail), "ab") as f:
                    write(f)
                    f.write(b"\n")
                    n = f.tell()
                break
            except OSError as e:
                if e.errno != _ENOSPC or not retry:
                    raise
                # The flash is full: drop the oldest segment's records, counted, to free blocks.
                s = self.head[0]
                while self.head[0] == s and s < self._tail and self._pop():
                    self.dropped += 1
                self._save_head()
        self._tail_size = n
        self.last_seq = seq
        self.count += 1
        if self.oldest < 0:  # the queue was empty: this record is its head (no need to read it)
            self.head[0] = self._tail
            self.head[1] = start
            self.oldest = seq
            self._head_len = n - start

    # -- consumers (uplinks)
    def cursor(self, end=False):
        """A read position at the oldest record, or (end=True) past the newest one."""
        return array("i", (self._tail, self._tail_size) if end else self.head)

    def rewind(self, c):
        """Move cursor c back to the head (resend everything not yet acknowledged)."""
        c[0] = self.head[0]
        c[1] = self.head[1]

    def read(self, c):
        """The length (without newline) of the record at cursor c, 0 at the end; self.seq is
        its seq. A cursor the head has passed moves up to it; acknowledged records are skipped."""
        h = self.head
        if c[0] < h[0] or (c[0] == h[0] and c[1] < h[1]):
            c[0] = h[0]
            c[1] = h[1]
        if c[0] == self._tail and c[1] >= self._tail_size:
            return 0  # at the end: known without opening a file (that would allocate)
        while True:
            n = self._line(c)
            if n > 0:
                if not self._has_ack(self.seq):
                    return n - 1
                c[1] += n  # acknowledged out of order already: skip it
                continue
            if c[0] >= self._tail:
                return 0
            c[0] += 1
            c[1] = 0

    def copy(self, c, n, out):
        """Write the n bytes of the record at cursor c to out (its write method), chunk by chunk."""
        with open(self._name(c[0]), "rb") as f:
            f.seek(c[1])
            while n > 0:
                k = f.readinto(self.buf)
                if k > n:
                    k = n
                out.write(self.buf if k == _CHUNK else self.mv[:k])  # a slice is a new object
                n -= k

    def _has_ack(self, s):
        a = self._acked
        for i in range(_ACKS):
            if a[i] == s:
                return True
        return False

    def ack(self, seqs):
        """The host has stored (or refused for good) these seqs: free them. Returns how many.
        A seq not written yet is no acknowledgement (a spliced console line could name one): it
        is not remembered, so it can never free the record that later gets that seq."""
        a = self._acked
        k = 0
        for s in seqs:
            if s < self.oldest or s > self.last_seq or self._has_ack(s):
                continue
            self.acked += 1
            j = 0  # a free slot, or the smallest remembered
            for i in range(_ACKS):
                if a[i] < a[j]:
                    j = i
            a[j] = s
        moved = False
        while self.oldest >= 0:
            for i in range(_ACKS):
                if a[i] == self.oldest:
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
