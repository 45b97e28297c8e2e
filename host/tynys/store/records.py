"""Writing records: the line as received plus its decoded sensors and channel statistics.
The ingest path (``tynys.ingest``) calls these inside one transaction per batch."""

from __future__ import annotations

HEALTH = ("heap_free", "uptime", "reset", "rssi", "spool", "dropped")

_INSERT = ("INSERT INTO records (node, boot, seq, t0, t1, clock, fw, heap_free, uptime, reset, rssi, spool, dropped,"
           " received, transport, source, raw, timing, eff_t0, eff_t1, timing_note)"
           " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
           " ON CONFLICT (node, boot, seq) DO NOTHING RETURNING id")


def insert_record(db, body: dict, raw: str, received: int, transport: str, source: str) -> int | None:
    """Insert a verified, validated record; return its row id, or None if (node, boot, seq) exists.
    A record whose clock was not set is stored pending (no effective window) until re-timed."""
    h = body["health"]
    if body["clock"] == "unsynced":
        timing, eff, note = "pending", (None, None), f"no record of boot {body['boot']} with a set clock yet"
    else:
        timing, eff, note = "node", (body["t0"], body["t1"]), ""
    row = db.execute(_INSERT, (body["node"], body["boot"], body["seq"], body["t0"], body["t1"], body["clock"], body["fw"],
                               *(h.get(k) for k in HEALTH), received, transport, source, raw, timing, *eff, note)).fetchone()
    if row is None:
        return None
    rid = row[0]
    sensors = body["sensors"]
    db.executemany(
        "INSERT INTO record_sensors VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [(rid, slot, s["type"], s.get("model"), s.get("id"), s["frames"], s["bad"], s["warmup"], s["missing"], s.get("state"))
         for slot, s in sensors.items()])
    db.executemany(
        "INSERT INTO channel_values VALUES (?, ?, ?, ?, ?, ?, ?)",
        [(rid, f"{slot}.{name}", st["n"], st["mean"], st["sd"], st["min"], st["max"])
         for slot, s in sensors.items() for name, st in s["ch"].items()])
    return rid


def stored_record(db, node: str, boot: int, seq: int) -> tuple[str, int, str] | None:
    """``(raw, received, transport)`` of the stored record with this identity, if any."""
    return db.execute("SELECT raw, received, transport FROM records WHERE node=? AND boot=? AND seq=?",
                      (node, boot, seq)).fetchone()
