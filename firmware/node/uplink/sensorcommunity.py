# Sensor.Community live push: after each window, the PM and T/RH means in its API format, one
# POST per X-PIN. Best effort and never buffered: that API stamps data on arrival, so a late
# value would be a wrong value (firmware-anchors.md section 1.2; ecosystem.md section 1.1).
from node import log, VERSION
from node.uplink.http import split_url, post

# driver type: (X-PIN, ((value_type, channel, factor), ...)). P1 is PM10 and P2 PM2.5; PMS
# values are the ATM ones, as airRohr sends; pressure goes in Pa. Source: airrohr-firmware
# ext_def.h (X-PIN numbers) and airrohr-firmware.ino (value types).
PINS = {
    "pms5003": (1, (("P0", "pm1_atm", 1), ("P1", "pm10_atm", 1), ("P2", "pm25_atm", 1))),
    "pms5003t": (1, (("P0", "pm1_atm", 1), ("P1", "pm10_atm", 1), ("P2", "pm25_atm", 1))),
    "sds011": (1, (("P1", "pm10", 1), ("P2", "pm25", 1))),
    "sps30": (1, (("P0", "pm1", 1), ("P2", "pm25", 1), ("P4", "pm4", 1), ("P1", "pm10", 1),
                  ("N05", "nc0_5", 1), ("N1", "nc1_0", 1), ("N25", "nc2_5", 1),
                  ("N4", "nc4_0", 1), ("N10", "nc10_0", 1), ("TS", "typical_size", 1))),
    "sht3x": (7, (("temperature", "t_c", 1), ("humidity", "rh", 1))),
    "bme280": (11, (("temperature", "t_c", 1), ("pressure", "p_hpa", 100), ("humidity", "rh", 1))),
}


def chip_id(uid):
    # airRohr on an ESP32: the eFuse MAC read as a little-endian 64-bit number, printed as
    # hex(high 16 bits) + hex(low 32 bits) without zero padding.
    v = 0
    for i in range(len(uid)):
        v |= uid[i] << (8 * i)
    return "esp32-%x%x" % (v >> 32, v & 0xFFFFFFFF)


class SensorCommunity:
    def __init__(self, node, cfg):
        import machine

        self.node = node
        self.url = split_url(cfg["url"])
        self.timeout = cfg["timeout_s"]
        self.sensor = (cfg["sensor_id"] or chip_id(machine.unique_id())).encode()
        self.sent = self.failed = 0

    def push(self, slots):
        """Send this window's means; call before the slots reset."""
        if not self.node.net_up() or self.node.clock.quality == "unsynced":
            return
        for s in slots:
            p = PINS.get(s.type)
            if p is None or not s.stats.n:
                continue
            vals = []
            for vt, ch, f in p[1]:
                if ch in s.channels:
                    i = s.channels.index(ch)
                    v = s.stats.get(i)[0] * f / (s.stats.n * s.scale[i])
                    vals.append('{"value_type":"%s","value":"%.2f"}' % (vt, v))
            body = ('{"software_version":"tynys-%s","sensordatavalues":[%s]}' % (
                VERSION, ",".join(vals))).encode()
            hdrs = ((b"Content-Type", b"application/json"), (b"X-Sensor", self.sensor),
                    (b"X-PIN", b"%d" % p[0]))
            self.node.feed()  # each POST may take its DNS lookup and twice its timeout
            try:
                status, _ = post(self.url, hdrs, len(body), lambda sock: sock.write(body), self.timeout, self.node.feed)
            except OSError as e:
                status = "no answer (%s)" % e
            if status in (200, 201, 202, 204, 208):
                self.sent += 1
            else:
                self.failed += 1
                log("sensor.community: X-PIN %d not sent: %s (live data only, not retried)" % (p[0], status))
