# The node's clock: Unix seconds from the RTC, how it was last set (record "clock"), NTP.
#
#     clk = Clock(ntp_cfg)          # quality "unsynced" until NTP or the host sets it
#     clk.now()                     # Unix seconds (an int; a big int on an ESP32, so not per pass)
#     step = clk.sync_ntp()         # seconds the clock moved, or None when NTP did not answer
#     step = clk.set_host(t)        # the host's time (serial TIME, HTTP/MQTT "time")
import time
import machine

# Ports count from 1970 or 2000 (older ESP32 builds); records always carry Unix seconds.
EPOCH = 946684800 if time.gmtime(0)[0] == 2000 else 0


class Clock:
    def __init__(self, ntp=None):
        self.ntp = ntp
        self.quality = "unsynced"
        self.synced_at = None  # uptime [s] of the last NTP sync
        self._tried = None  # uptime [s] of the last attempt
        self._wait = 60  # [s] before the next attempt after a failure; doubles to an hour

    def now(self):
        return time.time() + EPOCH

    def now_ms(self):
        return time.time_ns() // 1000000 + EPOCH * 1000

    def _set(self, t, quality):
        before = self.now()
        tm = time.gmtime(t - EPOCH)
        machine.RTC().datetime((tm[0], tm[1], tm[2], tm[6], tm[3], tm[4], tm[5], 0))
        self.quality = quality
        return t - before

    def set_host(self, t):
        """Take the host's time unless NTP keeps the clock; returns the step [s] or None."""
        if self.quality == "ntp" or t < 1600000000:
            return None
        return self._set(t, "host")

    def sync_ntp(self, up):
        """Ask NTP (up: uptime [s]); returns the step [s], or None when it did not answer."""
        if self.ntp is None:
            return None
        import ntptime

        self._tried = up
        ntptime.host = self.ntp["host"]
        try:
            t = ntptime.time() + EPOCH
        except (OSError, OverflowError, IndexError):
            t = None
        import sys

        sys.modules.pop("ntptime", None)  # needed every few hours only
        if t is None:
            self._wait = min(self._wait * 2, 3600)
            return None
        self._wait = 60
        self.synced_at = up
        return self._set(t, "ntp")

    def ntp_due(self, up):
        if self.ntp is None:
            return False
        if self._tried is not None and up - self._tried < self._wait:
            return False
        return self.synced_at is None or up - self.synced_at >= self.ntp["every_h"] * 3600
