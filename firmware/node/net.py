# WiFi station: join at boot, rejoin with backoff when the access point is lost.
#
#     net = Net(cfg["wifi"])   # starts joining
#     net.service(up_s)        # rejoin when due
#     net.up(), net.rssi()
import network


class Net:
    def __init__(self, wifi):
        self.cfg = wifi
        self.wlan = network.WLAN(network.STA_IF)
        self.wlan.active(True)
        self._tried = None  # uptime [s] of the last join attempt
        self._wait = 10
        self._join(0)

    def _join(self, up):
        self._tried = up
        try:
            self.wlan.disconnect()
            self.wlan.connect(self.cfg["ssid"], self.cfg["password"])
        except OSError:
            pass

    def up(self):
        return self.wlan.isconnected()

    def service(self, up):
        if self.wlan.isconnected():
            self._wait = 10
            return
        if up - self._tried >= self._wait:
            self._wait = min(self._wait * 2, 300)
            self._join(up)

    def rssi(self):
        try:
            return self.wlan.status("rssi") if self.wlan.isconnected() else None
        except (OSError, ValueError):
            return None
