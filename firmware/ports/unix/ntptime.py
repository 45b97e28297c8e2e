# `ntptime` for the virtual node: NTP answers with world time while the network is up.
# Same API as micropython-lib's ntptime: `host`, `timeout`, `time()`, `settime()`.
# An outage {"what": "ntp"} in the network plan makes only NTP fail.
import time as _time
import network

host = "pool.ntp.org"
timeout = 1


def time():
    if not network.WLAN(network.STA_IF).isconnected() or network.down("ntp") is not None:
        _time.sleep(timeout)  # a board waits for the answer that never comes
        raise OSError(110)  # ETIMEDOUT
    return _time.world_us() // 1000000


def settime():
    _time.set_rtc(time())
