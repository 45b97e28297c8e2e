# The USB console while the node runs: records and log lines go out (print), and the host's
# lines come back (docs/record.md):  ACK <seq> [<seq> ...]  and  TIME <unix seconds>.
# Ctrl-C stops the node and leaves the REPL (a board's runtime catches it before us; the
# virtual node's console hands it over as a byte).
#
#     con = Console(on_ack, on_time)  # on_ack([seq, ...]), on_time(unix_s)
#     con.service()                   # read what waits, without blocking or allocating
import sys
import select
from micropython import const

_MAXLINE = const(256)  # host lines are short; longer ones are cut


class Console:
    def __init__(self, on_ack, on_time):
        self.on_ack = on_ack
        self.on_time = on_time
        self._in = getattr(sys.stdin, "buffer", sys.stdin)
        self._poll = select.poll()
        self._poll.register(sys.stdin, select.POLLIN)
        self._b = bytearray(1)
        self.line = bytearray(_MAXLINE)
        self._n = 0
        self.heard = False  # a host has spoken since boot

    def _byte(self):
        for _ in self._poll.ipoll(0):
            if self._in.readinto(self._b) == 1:
                return self._b[0]
            return -2  # end of input (the virtual node's stdin closed)
        return -1

    def service(self):
        for _ in range(_MAXLINE):
            c = self._byte()
            if c < 0:
                return c
            if c == 3:
                raise KeyboardInterrupt
            if c == 10 or c == 13:
                if self._n:
                    self._dispatch()
                self._n = 0
            elif self._n < _MAXLINE:
                self.line[self._n] = c
                self._n += 1
        return 0

    def _dispatch(self):
        # Parsing a host line allocates a little; host lines are rare.
        words = bytes(self.line[:self._n]).split()
        if not words:
            return
        try:
            if words[0] == b"ACK":
                self.heard = True
                self.on_ack([int(w) for w in words[1:]])
            elif words[0] == b"TIME" and len(words) == 2:
                self.heard = True
                self.on_time(int(words[1]))
        except ValueError:
            pass  # not a number: a line for someone else
