# HTTP uplink: POST the oldest unacknowledged records as NDJSON to the host, which answers
# {"ack": [seq, ...], "rejected": [{"seq": .., "reason": ..}], "time": <unix s>} (docs/record.md).
# A batch that is too large (413) is halved; an unreachable or busy host is retried with backoff.
import json
import time
from node import log
from node.uplink import Backoff, split_url, post


class HTTP:
    name = "http"

    def __init__(self, node, cfg):
        self.node = node
        self.sp = node.spool
        self.url = split_url(cfg["url"])
        self.batch = cfg["batch"]
        self.timeout = cfg["timeout_s"]
        self.bo = Backoff(cfg["retry_s"], cfg["retry_max_s"])
        self.hdrs = ((b"Content-Type", b"application/x-ndjson"),
                     (b"X-Tynys-Node", node.cfg["node"].encode()))
        self.failing = None  # what went wrong last, logged once per outage

    def service(self, now):
        if not self.sp.count or not self.bo.due(now) or not self.node.net_up():
            return
        sp = self.sp
        c = sp.cursor()  # the batch: the oldest records, their lengths first (Content-Length)
        k = 0
        length = 0
        while k < self.batch:
            n = sp.read(c)
            if not n:
                break
            length += n + 1
            sp.advance(c, n)
            k += 1

        def body(s):
            c = sp.cursor()
            for _ in range(k):
                n = sp.read(c)
                s.write(memoryview(sp.buf)[:n])
                s.write(b"\n")
                sp.advance(c, n)

        try:
            status, data = post(self.url, self.hdrs, length, body, self.timeout)
        except OSError as e:
            self._fail(now, "host unreachable (%s)" % e)
            return
        if status == 413 and self.batch > 1:
            self.batch = max(1, self.batch // 2)
            self.bo.ok(now)
            return
        if status != 200:
            self._fail(now, "host answered %d" % status)
            return
        try:
            r = json.loads(data)
            seqs = r.get("ack", []) + [x["seq"] for x in r.get("rejected", ())]
        except (ValueError, KeyError, TypeError, AttributeError):
            self._fail(now, "unreadable answer")
            return
        for x in r.get("rejected", ()):
            log("host refused seq %s: %s" % (x.get("seq"), x.get("reason")))
        if self.failing:
            log("http: host reachable again")
            self.failing = None
        if self.node.ack(seqs):
            self.bo.ok(now)  # progress: send the next batch at once
        else:
            self._fail(now, "host acknowledged none of %d records" % k)
        t = r.get("time")
        if isinstance(t, int):
            self.node.host_time(t)

    def _fail(self, now, why):
        if why != self.failing:
            log("http: %s; records stay spooled, retrying" % why)
            self.failing = why
        self.bo.fail(now)
