# Uplinks carry spooled records to the host (serial, http, mqtt) and feed its acknowledgements
# back; sensor_community is a live side channel. Each is imported only when configured.
#
# Shared here: Backoff (retry timing). node.uplink.http has post() (one HTTP/1.1 request).
import time


class Backoff:
    """Wait `first` s after a failure, doubling up to `most` s; ok() resets."""

    def __init__(self, first_s, most_s):
        self.first = first_s * 1000
        self.most = most_s * 1000
        self.wait = 0
        self.at = time.ticks_ms()

    def due(self, now):
        if time.ticks_diff(now, self.at) < self.wait:
            return False
        # Keep the stamp within reach: ticks_diff is only valid up to 2**29 ms (6.2 days on an
        # ESP32), and the uplinks ask every pass while the network is down.
        self.at = time.ticks_add(now, -self.wait)
        return True

    def ok(self, now, wait=0):
        self.wait = wait
        self.at = now

    def fail(self, now):
        self.wait = self.first if self.wait < self.first else min(self.wait * 2, self.most)
        self.at = now
