# USB serial uplink: every record goes out on the console once, as it is made; a host on the
# port answers with signed reply lines (node/console.py reads them, node.reply checks them). When a host
# first speaks, the backlog it may have missed goes out, oldest first; after that, when the
# oldest record has waited retry_s for its ACK, everything unacknowledged goes again (the wait
# doubling up to an hour while nothing gets acknowledged). Any new acknowledgement, of a newer
# record too, starts retry_s afresh: the host is there, and a reply to the oldest was lost (cut
# or spliced on the console), so those go again soon, not an hour later.
import time
from node.uplink import Backoff
import sys


class Serial:
    name = "serial"

    def __init__(self, node, cfg):
        self.node = node
        self.sp = node.spool
        self.batch = cfg["batch"]
        self.c = self.sp.cursor(end=True)  # after a boot, only new records: nobody may listen
        self.bo = Backoff(cfg["retry_s"], 3600)
        self.oldest = -1  # the seq the backoff is timing
        self.acked = 0  # sp.acked when the backoff last started
        self.host = False  # a host has spoken since boot

    def service(self, now):
        sp = self.sp
        out = getattr(sys.stdout, "buffer", sys.stdout)
        for _ in range(self.batch):
            n = sp.read(self.c)
            if not n:
                break
            sp.copy(self.c, n, out)
            out.write(b"\n")
            self.c[1] += n + 1
        if not self.host and self.node.console.heard:
            self.host = True
            sp.rewind(self.c)  # a host: give it the backlog
        if self.host and sp.count:
            if sp.oldest != self.oldest or sp.acked != self.acked:  # progress: time afresh
                self.oldest = sp.oldest
                self.acked = sp.acked
                self.bo.ok(now, self.bo.first)
            elif self.bo.due(now):
                sp.rewind(self.c)  # a host is there but did not acknowledge these: again
                self.bo.fail(now)
