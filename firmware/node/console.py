# The USB console while the node runs: records and log lines go out (print), and the host's
# signed replies come back, one JSON line each (node.reply; docs/record.md, "Replies").
# Ctrl-C stops the node and leaves the REPL (a board's UART interrupt catches it before us;
# the virtual node's console hands it over as a byte).
#
#     con = Console(node)        # node.reply(line) -> the reply when obeyed, else None (counted)
#     con.service()              # read what waits, without blocking or allocating
#
# A board's console input is a 260-byte ring that drops what does not fit while the node is
# busy, so a host line may arrive cut or spliced with the next: the signature catches that.
import sys
import select
from micropython import const

_MAXLINE = const(256)  # a host's reply line is shorter (docs/record.md); longer ones are cut


class Console:
    def __init__(self, node):
        self.node = node
        self._in = getattr(sys.stdin, "buffer", sys.stdin)
        self._poll = select.poll()
        self._poll.register(sys.stdin, select.POLLIN)
        self._b = bytearray(1)
        self.line = bytearray(_MAXLINE)
        self._n = 0
        self.heard = False  # a host has answered since boot (a verified reply)

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
        line = self.line
        if line[0] == 0x7B:  # '{': a reply
            if self.node.reply(memoryview(line)[:self._n]) is not None:
                self.heard = True
        elif line[0] in b"AT" and (line[:4] == b"ACK " or line[:5] == b"TIME "):
            self.node.replies[0] += 1  # unsigned: the old protocol, or someone else's line
