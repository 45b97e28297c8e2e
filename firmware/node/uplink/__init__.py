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
        return time.ticks_diff(now, self.at) >= self.wait

    def ok(self, now, wait=0):
        self.wait = wait
        self.at = now

    def fail(self, now):
        self.wait = self.first if self.wait < self.first else min(self.wait * 2, self.most)
        self.at = now
