# `ntptime` for the virtual node: NTP answers with world time while the network is up.
# Same API and the same calls as micropython-lib's ntptime (a name lookup, then one UDP question
# answered within `timeout`): `host`, `timeout`, `time()`, `settime()`. An outage
# {"what": "ntp"} in the network plan makes only NTP fail; one of "dns" its lookup.
import time as _time
import network

host = "pool.ntp.org"
timeout = 1


def time():
    network.dns(host)  # the lookup costs its time, or hangs as the DNS plan says
    if network.down("ntp") is not None:
        _time.sleep(timeout)  # a board waits for the answer that never comes
        raise OSError(110)  # ETIMEDOUT
    _time.sleep_ms(30)  # a round trip
    return _time.world_us() // 1000000


def settime():
    _time.set_rtc(time())
