"""Signed version-1 records for host tests and benchmarks, written to docs/record.md (the
virtual node, the real firmware on the unix port, is the other producer; see tests/e2e).

    key = bytes(range(32))
    line = make_line("osk-01", key, seq=5, t0=1795813200)      # bytes, as a node sends it
    node = FakeNode("osk-01", key); node.produce(10); node.pending()  # spool with acks
"""

from __future__ import annotations

import json
import time

from tynys import record

KEY = bytes(range(32))
WINDOW = 300


def _stats(mean: float, spread: float, n: int) -> dict:
    if n == 0:
        return {"n": 0, "mean": None, "sd": None, "min": None, "max": None}
    return {"n": n, "mean": round(mean, 2), "sd": round(spread / 3, 2), "min": round(mean - spread, 2), "max": round(mean + spread, 2)}


def make_body(node: str, seq: int, *, boot: int = 0, t0: int | None = None, window: int = WINDOW, clock: str = "ntp",
              spool: int = 1, dropped: int = 0, pm25: float | None = None, rh: float = 55.0,
              channels: dict | None = None, **health) -> dict:
    """A plausible record: PMS5003 + SHT3x + SO2-B4 on an ISB, values varying with *seq*.

    *channels* sets chosen channel means, ``{"so2.we_mv": 380.2, "th.t_c": 12.0}`` (None: n = 0)."""
    if t0 is None:
        t0 = (int(time.time()) // window - 1) * window
    pm = 8.0 + (seq * 7 % 23) if pm25 is None else pm25
    ch = {"pm1_cf1": _stats(pm * 0.7, 2, 270), "pm25_cf1": _stats(pm, 3, 270), "pm10_cf1": _stats(pm * 1.2, 4, 270),
          "pm25_atm": _stats(pm * 0.95, 3, 270), "n0_3": _stats(2000 + pm * 10, 150, 270)}
    h = {"heap_free": 41000, "uptime": 300 * (seq + 1), "reset": "power_on", "rssi": -67, "spool": spool, "dropped": dropped}
    h.update(health)
    body = {
        "v": 1, "node": node, "boot": boot, "seq": seq, "t0": t0, "t1": t0 + window, "clock": clock, "fw": "0.1.0",
        "sensors": {
            "pm": {"type": "pms5003", "id": "fw=151", "frames": 270, "bad": 0, "warmup": 0, "missing": 0, "state": 0, "ch": ch},
            "th": {"type": "sht3x", "id": "sn=0x1a2b3c4d", "frames": 30, "bad": 0, "warmup": 0, "missing": 0,
                   "ch": {"t_c": _stats(-4.2 + seq % 5, 0.1, 30), "rh": _stats(rh, 0.5, 30)}},
            "so2": {"type": "isb", "model": "so2-b4", "id": "sn=162031256", "frames": 30, "bad": 0, "warmup": 0, "missing": 0,
                    "ch": {"we_mv": _stats(371.5 + seq % 3, 1.0, 30), "ae_mv": _stats(344.9, 0.5, 30)}},
        },
        "health": h,
    }
    for name, mean in (channels or {}).items():
        slot, ch = name.split(".")
        st = body["sensors"][slot]["ch"][ch]
        body["sensors"][slot]["ch"][ch] = _stats(mean, 0.0, st["n"] or 30) if mean is not None else _stats(0, 0, 0)
    return body


def sign_body(body: dict, key: bytes) -> bytes:
    return record.sign(json.dumps(body, separators=(",", ":")).encode(), key)


def make_line(node: str, key: bytes = KEY, seq: int = 0, **kw) -> bytes:
    return sign_body(make_body(node, seq, **kw), key)


class FakeNode:
    """A node's spool: records stay until the host acknowledges their seq (docs/record.md)."""

    def __init__(self, node: str, key: bytes = KEY, *, boot: int = 0, t0: int | None = None, capacity: int = 10_000):
        """Windows start at *t0* (default: so that *capacity* records end before now)."""
        self.node, self.key, self.boot = node, key, boot
        self.t0 = (int(time.time()) // WINDOW - capacity - 1) * WINDOW if t0 is None else t0
        self.seq = 0
        self.spool: dict[int, bytes] = {}
        self.acked: set[int] = set()

    def produce(self, n: int = 1) -> list[bytes]:
        out = []
        for _ in range(n):
            line = make_line(self.node, self.key, self.seq, boot=self.boot, t0=self.t0 + self.seq * WINDOW,
                             spool=len(self.spool) + 1)
            self.spool[self.seq] = line
            out.append(line)
            self.seq += 1
        return out

    def pending(self, limit: int | None = None) -> list[bytes]:
        return [self.spool[s] for s in sorted(self.spool)][:limit]

    def ack(self, seqs) -> None:
        for s in seqs:
            if self.spool.pop(s, None) is not None:
                self.acked.add(s)


def windows_lines(node: str, key: bytes, t0: int, channels: dict, *, boot: int = 0, seq0: int = 0) -> list[bytes]:
    """Signed lines of consecutive 5-min windows from *t0*, one per element of the arrays in
    *channels* (``{"pm.pm25_cf1": array, "th.rh": array}``; NaN gives n = 0)."""
    n = len(next(iter(channels.values())))
    lines = []
    for i in range(n):
        ch = {k: (None if v[i] != v[i] else float(v[i])) for k, v in channels.items()}
        lines.append(sign_body(make_body(node, seq0 + i, boot=boot, t0=t0 + i * WINDOW, channels=ch), key))
    return lines


def fill(store, keys, node: str, t0: int, channels: dict, *, district: str = "", placement: str = "outdoor") -> list:
    """Register *node* (key :data:`KEY`) if it is new and store its windows from *t0* through the
    real ingest path (signed, verified); returns the outcomes."""
    from tynys.ingest import Ingestor
    from tynys.registry import add_node

    if node not in {n.id for n in store.nodes()}:
        add_node(store, keys, node, district=district, placement=placement, key=KEY)
    lines = windows_lines(node, KEY, t0, channels)
    end = t0 + len(lines) * WINDOW
    return Ingestor(store, keys, now=lambda: end + 60, max_past=None).ingest(lines, "test")
