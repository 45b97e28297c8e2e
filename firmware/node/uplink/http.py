# HTTP uplink: POST the oldest unacknowledged records as NDJSON to the host, which answers
# {"ack": [seq, ...], "rejected": [{"seq": .., "reason": ..}], "time": <unix s>} (docs/record.md).
# Only "ack" frees the spool; "rejected" is shown on the console. A batch that is too large
# (413) is halved; an unreachable or busy host is retried with backoff.
import json
import socket
from node import log
from node.uplink import Backoff


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
                     (b"X-Tynys-Node", node.id.encode()))
        self.failing = None  # what went wrong last, logged once per outage

    def service(self, now):
        # Every pass comes here: the check allocates nothing (the POST below does, once due).
        if self.sp.count and self.bo.due(now) and self.node.net_up():
            self._post(now)

    def _post(self, now):
        sp = self.sp
        c = sp.cursor()  # the batch: the oldest records, their lengths first (Content-Length)
        k = 0
        length = 0
        while k < self.batch:
            n = sp.read(c)
            if not n:
                break
            length += n + 1
            c[1] += n + 1
            k += 1

        def body(s):  # a closure: in service() its cells would be made on every pass
            c = sp.cursor()
            for _ in range(k):
                n = sp.read(c)
                sp.copy(c, n, s)
                s.write(b"\n")
                c[1] += n + 1

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
            seqs = r["ack"]
            for x in r.get("rejected", ()):
                log("host refused seq %s: %s" % (x.get("seq"), x.get("reason")))
        except (ValueError, KeyError, TypeError, AttributeError):
            self._fail(now, "unreadable answer")
            return
        if self.failing:
            log("http: host reachable again")
            self.failing = None
        if self.sp.ack(seqs):
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


def split_url(url):
    """"http://host[:port]/path" -> (host, port, path)."""
    rest = url[7:]
    i = rest.find("/")
    hostport, path = (rest, "/") if i < 0 else (rest[:i], rest[i:])
    host, _, port = hostport.partition(":")
    return host, int(port) if port else 80, path


def post(url, headers, length, body, timeout):
    """POST to url; headers: (name, value) pairs; body(sock) writes `length` bytes.
    Returns (status, response body bytes). Raises OSError when the host cannot be reached."""
    host, port, path = url
    ai = socket.getaddrinfo(host, port)[0][-1]
    s = socket.socket()
    try:
        s.settimeout(timeout)
        try:  # the body goes in small writes: do not let Nagle hold each one back for an ACK
            s.setsockopt(6, 1, 1)  # IPPROTO_TCP, TCP_NODELAY (lwIP and Linux agree on both)
        except (OSError, AttributeError):
            pass
        s.connect(ai)
        s.write(b"POST %s HTTP/1.1\r\nHost: %s:%d\r\nConnection: close\r\nContent-Length: %d\r\n%s\r\n" % (
            path.encode(), host.encode(), port, length, b"".join(b"%s: %s\r\n" % kv for kv in headers)))
        body(s)
        line = s.readline()
        parts = line.split(None, 2)
        if len(parts) < 2 or not parts[0].startswith(b"HTTP/"):
            raise OSError(5)
        status = int(parts[1])
        clen = -1
        while True:
            line = s.readline()
            if not line or line == b"\r\n":
                break
            if line[:15].lower() == b"content-length:":
                clen = int(line[15:])
        data = s.read(clen) if clen >= 0 else s.read()
        return status, data or b""
    finally:
        s.close()
