# HTTP uplink: POST the oldest unacknowledged records as NDJSON to the host, which answers with
# its signed reply {"node":..,"seq":..,"ack":[seq, ...],"rejected":[{"seq":..,"reason":..}],
# "time":..,"sig":..} (node.reply, docs/record.md). Only a verified reply's "ack" frees the spool;
# "rejected" is shown on the console. A batch that is too large (413), or whose answer is longer
# than a reply can be, is halved; an unreachable or busy host, or an answer that does not verify,
# is retried with backoff.
import socket
import time
from micropython import const
from node import log
from node.uplink import Backoff

_ANSWER = const(2048)  # the longest answer body read: a host's reply to a batch is shorter
_ETIMEDOUT = const(110)


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
        self.buf = bytearray(512)  # the answer's headers: made once, not in a fragmented heap

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
            status, data = post(self.url, self.hdrs, length, body, self.timeout, self.node.feed, self.buf)
        except OSError as e:
            self._fail(now, "host unreachable (%s)" % e)
            return
        long = status == 200 and data is None
        if long:
            self.node.replies[0] += 1  # longer than any reply to a batch: not one
        if (status == 413 or long) and self.batch > 1:  # too much at once, or its answer
            self.batch = max(1, self.batch // 2)
            self.bo.ok(now)
            return
        if status != 200:
            self._fail(now, "host answered %d" % status)
            return
        count = sp.count
        r = None if long else self.node.reply(data)
        if r is None:
            self._fail(now, "answer is no reply signed with this node's key (forged, or the host holds another key)")
            return
        for x in r.get("rejected", ()):
            if type(x) is dict:
                log("host refused seq %s: %s" % (x.get("seq"), x.get("reason")))
        if self.failing:
            log("http: host reachable again")
            self.failing = None
        if sp.count < count:
            self.bo.ok(now)  # progress: send the next batch at once
        else:
            self._fail(now, "host acknowledged none of %d records" % k)

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


def post(url, headers, length, body, timeout, feed=None, buf=None):
    """POST to url; headers: (name, value) pairs; body(sock) writes `length` bytes; buf (512
    bytes, made here when not given) takes the answer's headers.
    Returns (status, answer body, or None when it is longer than _ANSWER or has no Content-Length).
    Raises OSError when the host cannot be reached or the POST runs past its deadline.

    On an ESP32 the name lookup has no timeout (lwIP's own retries: some seconds per DNS
    server), and every socket call waits up to `timeout` anew, so a host that trickles its answer
    could hold the node for ever. The lookup comes first, then feed() (the watchdog); from there
    the POST gives up at the first call that ends more than `timeout` after the connect began, so
    it lasts at most 2 * timeout: the rule node.config checks against wdt_s. (Writes need no
    check: a POST fits the socket's buffers unless the host stalls, and then one write times out.)"""
    host, port, path = url
    ai = socket.getaddrinfo(host, port)[0][-1]
    if feed is not None:
        feed()
    s = socket.socket()
    try:
        s.settimeout(timeout)
        try:  # the body goes in small writes: do not let Nagle hold each one back for an ACK
            s.setsockopt(6, 1, 1)  # IPPROTO_TCP, TCP_NODELAY (lwIP and Linux agree on both)
        except (OSError, AttributeError):
            pass
        end = time.ticks_add(time.ticks_ms(), timeout * 1000)
        s.connect(ai)
        s.write(b"POST %s HTTP/1.1\r\nHost: %s:%d\r\nConnection: close\r\nContent-Length: %d\r\n%s\r\n" % (
            path.encode(), host.encode(), port, length, b"".join(b"%s: %s\r\n" % kv for kv in headers)))
        body(s)
        return _answer(s, end, buf or bytearray(512))
    finally:
        s.close()


def _answer(s, end, head):
    # The status line and headers into head, then a body of Content-Length bytes: read in
    # whatever pieces come (not readline: on an ESP32 that waits for each byte with the full
    # timeout), giving up past the deadline.
    n = got = clen = 0
    buf = None
    while True:
        k = s.readinto(memoryview(head)[n:] if buf is None else memoryview(buf)[got:])
        if time.ticks_diff(time.ticks_ms(), end) > 0:
            raise OSError(_ETIMEDOUT)
        if not k:
            raise OSError(5)  # EIO: closed before the answer's end
        if buf is not None:
            got += k
            if got == clen:
                return status, buf
            continue
        n += k
        i = head.find(b"\r\n\r\n", 0, n)
        if i < 0:
            if n == len(head):
                raise OSError(5)  # longer headers than any host of ours sends
            continue
        parts = bytes(head[:head.find(b"\r\n")]).split(None, 2)
        if len(parts) < 2 or not parts[0].startswith(b"HTTP/"):
            raise OSError(5)  # not an HTTP answer
        status = int(parts[1])
        j = head.find(b"\r\ncontent-length:", 0, i + 2)
        if j < 0:
            j = head.find(b"\r\nContent-Length:", 0, i + 2)
        clen = int(bytes(head[j + 17:head.find(b"\r\n", j + 2)])) if j >= 0 else _ANSWER + 1
        if clen > _ANSWER:
            return status, None
        buf = bytearray(clen)
        got = min(n - i - 4, clen)
        buf[:got] = head[i + 4:i + 4 + got]
        if got == clen:
            return status, buf
