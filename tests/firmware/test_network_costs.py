"""What the network costs the virtual node in world time (firmware/ports/unix/socket.py, network.py,
ntptime.py), as on an ESP32: a name lookup has no timeout, each socket call waits its own timeout,
so without the shim's costs a hanging host would cost the node nothing and the watchdog rule
(wdt_s >= 2 * timeout_s, node.config) would be untested."""

import socketserver
import threading

import pytest

pytestmark = pytest.mark.firmware

START = 1795813200
SETUP = f"""
import time, network, socket, ntptime, machine
w = network.WLAN(network.STA_IF); w.active(True); w.connect("balcony", "x")
def fault(*outages):
    network.plan(outages=[dict(o, **{{"from": {START}, "to": {START} + 10 ** 6}}) for o in outages])
def cost(name, f):
    t = time.world_us()
    try:
        f(); r = "ok"
    except OSError as e:
        r = e.args[0]
    print(name, (time.world_us() - t) // 1000, r)
def tcp(*send):
    s = socket.socket(); s.settimeout(10)
    try:
        s.connect(socket.getaddrinfo("192.168.4.1", 80)[0][-1])
        for b in send:
            s.write(b)
        s.readinto(bytearray(16))
    finally:
        s.close()
"""


def costs(mpy, code: str) -> dict[str, tuple[int, str]]:
    out = mpy(SETUP + code, extra_env={"TYNYS_VTIME_START": str(START)}, check=False).stdout.decode()
    return {name: (int(ms), r) for name, ms, r in (line.split() for line in out.splitlines() if line.count(" ") == 2)}


def test_each_network_call_costs_world_time_as_on_an_esp32(mpy):
    got = costs(mpy, """
fault()
cost("lookup", lambda: socket.getaddrinfo("localhost", 80))
cost("ntp", ntptime.time)
fault({"what": "dns"})
cost("lookup-dns-down", lambda: socket.getaddrinfo("localhost", 80))
cost("ntp-dns-down", ntptime.time)
fault({"what": "dns", "mode": "slow", "delay_s": 14})
cost("lookup-dns-slow", lambda: socket.getaddrinfo("localhost", 80))
fault({"what": "ntp"})
cost("ntp-down", ntptime.time)
fault({"what": "host", "mode": "timeout"})
cost("connect-no-answer", tcp)
fault({"what": "host", "mode": "stall"})
cost("request-no-answer", lambda: tcp(b"POST / HTTP/1.1\\r\\n\\r\\n"))
cost("request-beyond-the-send-buffer", lambda: tcp(bytes(6000)))
fault({"what": "host"})
cost("refused", tcp)
""")
    assert got == {
        "lookup": (20, "ok"),  # a DNS answer on a home WiFi
        "ntp": (50, "ok"),  # its lookup and a round trip
        "lookup-dns-down": (14000, "-202"),  # lwIP: 4 tries over 7 s to each of 2 servers, no timeout
        "ntp-dns-down": (14000, "-202"),
        "lookup-dns-slow": (14020, "ok"),
        "ntp-down": (1020, "110"),  # ntptime.timeout (1 s): ETIMEDOUT
        "connect-no-answer": (10000, "110"),  # the socket's whole timeout
        "request-no-answer": (10030, "110"),  # connected (a round trip), then the answer's timeout
        "request-beyond-the-send-buffer": (10030, "110"),  # lwIP's 5744-byte buffer fills: the write waits
        "refused": (0, "111"),
    }


@pytest.fixture
def host():
    """A host on a free loopback port that answers every POST with 200 and "{}"."""

    class Answer(socketserver.StreamRequestHandler):
        def handle(self):
            while self.rfile.readline() not in (b"\r\n", b""):
                pass
            self.rfile.read(5)
            self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}")

    with socketserver.ThreadingTCPServer(("127.0.0.1", 0), Answer) as srv:
        threading.Thread(target=srv.serve_forever, daemon=True).start()
        yield srv.server_address[1]
        srv.shutdown()


def test_a_post_to_a_hanging_host_lasts_at_most_twice_its_timeout_after_the_lookup(mpy, host):
    # node.uplink.http.post feeds the watchdog after the name lookup (which has no timeout) and
    # gives up 2 * timeout_s after it at the latest: a watchdog of wdt_s = 2 * timeout_s (the
    # smallest node.config allows) survives each fault; without that feed, one does not.
    got = costs(mpy, """
from node.uplink.http import post
def trial(name, feed):
    wdt = machine.WDT(timeout=20000)
    cost(name, lambda: post(("localhost", PORT, "/"), (), 5, lambda s: s.write(b"hello"), 10, feed and wdt.feed))
    wdt.feed()
fault({"what": "dns", "mode": "slow", "delay_s": 14})
trial("fed-no-fault", True)
for f in ({"what": "host", "mode": "timeout"}, {"what": "host", "mode": "stall"},
          {"what": "host", "mode": "slow", "delay_s": 9, "bytes": 1}):
    fault({"what": "dns", "mode": "slow", "delay_s": 14}, f)
    trial("fed-" + f["mode"], True)
fault({"what": "dns", "mode": "slow", "delay_s": 14}, {"what": "host", "mode": "stall"})
trial("unfed-stall", False)
print("survived 0 ok")
""".replace("PORT", str(host)))
    assert got["fed-no-fault"] == (14020 + 30 + 30, "ok")  # the lookup, connect, the answer's way back
    assert got["fed-timeout"] == (14020 + 10000, "110")
    assert got["fed-stall"] == (14020 + 30 + 10000, "110")
    assert got["fed-slow"] == (14020 + 9000 + 30 + 9000 + 30, "110")  # gave up after the first late byte
    assert "unfed-stall" not in got and "survived" not in got  # the watchdog reset the node mid-POST
