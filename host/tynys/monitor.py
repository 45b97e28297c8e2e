"""Live view of a node: decode each record line into its values and plain-language warnings.

    mon = Monitor(key=None)                 # with a key, each line's signature is checked too
    event = mon.feed(line)                  # None for a line that is not a record
    event["values"], event["warnings"]

Warnings are derived from one record and the previous one from the same node (spool growing,
records dropped); thresholds are below with their reasons. Records that arrive in a burst are a
backlog being sent (the node was not heard for a while: before provisioning's reset, or while no
host listened): their spool counts are history, so they draw no spool warning.
"""

from __future__ import annotations

import hmac
import time
from typing import Callable

from . import record

# Optical PM sensors are specified up to 70 % RH (SDS011 datasheet; see ../shared/research/
# firmware-anchors.md §4.2): above it hygroscopic growth makes them read high.
RH_HIGH = 70.0
# bytes: below this a MicroPython node is close to MemoryError. heap_free is gc.mem_free(): on the
# unix port the whole capped heap; on an ESP32 only the heap areas taken so far (it starts at
# 56 KB and adds areas from the system heap on demand), so there low means "growing", not full.
HEAP_LOW = 8192
CLOCK_OFF = 120  # s between a fresh window's end and the host clock
SPOOL_BACKLOG = 12  # records (an hour at 5-minute windows)


class Monitor:
    def __init__(self, key: bytes | None = None, now: Callable[[], float] = time.time):
        self.key, self.now = key, now
        self._prev: dict[str, dict] = {}
        self._arrived: dict[str, float] = {}  # host time the node's previous record came in
        self.counts = {"records": 0, "malformed": 0, "bad_signature": 0}

    def feed(self, line: bytes) -> dict | None:
        """One console line → an event dict, or None when it is not a record line."""
        line = line.rstrip(b"\r\n")
        if not line.lstrip().startswith(b"{"):
            return None
        try:
            body, signed, sig = record.parse(line)
        except record.RecordError as e:
            self.counts["malformed"] += 1
            return {"kind": "malformed", "detail": e.detail, "warnings": [f"malformed record line: {e.detail}"]}
        verified = None
        if self.key is not None:
            verified = hmac.compare_digest(record.signature(signed, self.key), sig)
        try:
            record.validate(body, sig)
        except record.RecordError as e:
            self.counts["malformed"] += 1
            return {"kind": "invalid", "node": body.get("node"), "seq": body.get("seq"), "detail": e.detail,
                    "warnings": [f"record does not follow the schema: {e.detail}"]}
        self.counts["records"] += 1
        now = self.now()
        last = self._arrived.get(body["node"])
        warnings = warnings_for(body, self._prev.get(body["node"]), now, None if last is None else now - last)
        if verified is False:
            self.counts["bad_signature"] += 1
            warnings.insert(0, "signature does not match the key given: is the node provisioned with this key?")
        self._prev[body["node"]] = body
        self._arrived[body["node"]] = now
        return {
            "kind": "record", "node": body["node"], "boot": body["boot"], "seq": body["seq"], "t0": body["t0"],
            "t1": body["t1"], "clock": body["clock"], "verified": verified,
            "values": {name: st["mean"] for name, st in record.channels(body).items()},
            "n": {name: st["n"] for name, st in record.channels(body).items()},
            "health": body["health"], "warnings": warnings,
        }


def warnings_for(body: dict, prev: dict | None, now: float, gap: float | None = None) -> list[str]:
    """Plain-language warnings for one record (and the node's previous one, if known; *gap*: seconds
    since that one arrived)."""
    out = []
    for slot, s in body["sensors"].items():
        name = f"{slot} ({s['type']})"
        # A duty-cycled sensor warms up after every wake: readings discarded then are expected, and
        # the node does not count requests made during warm-up as missing (docs/dev.md).
        if s["frames"] == 0:
            out.append(f"{name}: no valid reading in this window" + (
                f" (still warming up: {s['warmup']} readings discarded)" if s["warmup"] else ""))
        if s["bad"]:
            out.append(f"{name}: {s['bad']} bad frames (checksum/format): check wiring, cable length and supply")
        if s["missing"]:
            out.append(f"{name}: {s['missing']} expected readings never came: check TX/RX (crossed?) and power")
        rh = s["ch"].get("rh")
        if rh and rh["n"] and rh["mean"] > RH_HIGH:
            out.append(f"{slot}.rh {rh['mean']:.0f} % > {RH_HIGH:.0f} %: optical PM reads high in humid air (correct for humidity)")
    h = body["health"]
    # live, a node sends one record per window; a backlog comes in faster than that
    live = gap is None or gap >= (body["t1"] - body["t0"]) / 2
    if live and prev is not None and prev["boot"] == body["boot"] and h["spool"] > prev["health"]["spool"] and h["spool"] > 1:
        out.append(f"spool growing: {h['spool']} records waiting (is the host acknowledging?)")
    elif live and h["spool"] >= SPOOL_BACKLOG:
        out.append(f"spool holds {h['spool']} records (backlog)")
    if prev is not None and h["dropped"] > prev["health"]["dropped"]:
        out.append(f"{h['dropped'] - prev['health']['dropped']} records dropped by a full spool")
    elif prev is None and h["dropped"]:
        out.append(f"{h['dropped']} records dropped by a full spool since the flash was formatted")
    if body["clock"] == "unsynced":
        out.append("clock not synced: times are the node's guess (give it NTP or let the host set it)")
    elif h["spool"] <= 1 and abs(body["t1"] - now) > CLOCK_OFF:
        out.append(f"clock off: window end is {int(body['t1'] - now):+d} s from the host clock")
    if h["reset"] == "wdt":
        out.append("last reset by the watchdog")
    if h["heap_free"] < HEAP_LOW:
        out.append(f"low free heap: {h['heap_free']} bytes (on an ESP32 the heap may still grow; watch for MemoryError resets)")
    if h.get("safe_mode"):
        out.append("node is in safe mode")
    return out
