# Uplinks carry spooled records to the host (serial, http, mqtt) and feed its acknowledgements
# back; sensor_community is a live side channel. Each is imported only when configured.
#
# Shared here: Backoff (retry timing) and post() (one small HTTP/1.1 request).
import time
import socket


class Backoff:
    """Wait `first` s after a failure, doubling up to `most` s; ok() resets."""

    def __init__(self, first_s, most_s):
        self.first = first_s * 1000
        self.most = most_s * 1000
        self.wait = 0
        self.at = time.ticks_ms()

    def due(self, now):
        return time.ticks_diff(now, self.at) >= self.wait

    def ok(self, now, wait=0):
        self.wait = wait
        self.at = now

    def fail(self, now):
        self.wait = self.first if self.wait < self.first else min(self.wait * 2, self.most)
        self.at = now


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
        s.connect(ai)
        s.write(b"POST %s HTTP/1.1\r\nHost: %s:%d\r\nConnection: close\r\nContent-Length: %d\r\n" % (
            path.encode(), host.encode(), port, length))
        for k, v in headers:
            s.write(b"%s: %s\r\n" % (k, v))
        s.write(b"\r\n")
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
