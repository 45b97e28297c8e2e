"""Writing records: the line as received plus its decoded sensors and channel statistics.
The ingest path (``tynys.ingest``) calls these inside one transaction per batch."""

from __future__ import annotations

from msgspec import UNSET

from . import counters

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
    if eff[0] is not None:
        counters.add(db, [(body["node"], eff[0], slot, s["type"], s["frames"], s["bad"], s["warmup"], s["missing"], 1)
                          for slot, s in sensors.items()])
    return rid


def stored_record(db, node: str, boot: int, seq: int) -> tuple[str, int, str] | None:
    """``(raw, received, transport)`` of the stored record with this identity, if any."""
    return db.execute("SELECT raw, received, transport FROM records WHERE node=? AND boot=? AND seq=?",
                      (node, boot, seq)).fetchone()


def newest_received(db, node: str) -> dict | None:
    """The record of *node* stored last, timed or still pending: ``{boot, seq, t1, clock, timing, transport, received}``."""
    cols = ("boot", "seq", "t1", "clock", "timing", "transport", "received")
    row = db.execute(f"SELECT {', '.join(cols)} FROM records WHERE node=? ORDER BY id DESC LIMIT 1", (node,)).fetchone()
    return dict(zip(cols, row)) if row else None


def existing(db, node: str, boot: int, seqs: list[int]) -> dict[int, tuple[str, int, str]]:
    """``{seq: (raw, received, transport)}`` of the records of one boot of a node already stored among *seqs*."""
    out = {}
    for i in range(0, len(seqs), 500):
        part = seqs[i:i + 500]
        out.update((s, (raw, rec, via)) for s, raw, rec, via in db.execute(
            f"SELECT seq, raw, received, transport FROM records WHERE node = ? AND boot = ? AND seq IN ({', '.join('?' * len(part))})",
            (node, boot, *part)))
    return out


REC_COLS = ("id", "node", "boot", "seq", "t0", "t1", "clock", "fw", *HEALTH, "received", "transport", "source", "raw",
            "timing", "eff_t0", "eff_t1", "timing_note")
SENSOR_COLS = ("record", "slot", "type", "model", "sensor_id", "frames", "bad", "warmup", "missing", "state")
VALUE_COLS = ("record", "channel", "n", "mean", "sd", "min", "max")


class Stored(Exception):
    """Some of a bulk insert's records were already stored (roll back to before it, then sort them out)."""


def insert_records(db, batch: list[tuple], received: int) -> list[int]:
    """Store decoded records (``tynys.record.Record``) in bulk, inside the caller's transaction;
    returns their row ids. *batch*: ``(record, raw, transport, source, timing, eff_t0, eff_t1,
    timing_note)`` each. Raises :class:`Stored` when one of them is already stored, leaving a
    part written: the caller rolls back to a savepoint taken before (the clean path asks the
    database once, by the unique key, instead of looking each record up first)."""
    ids = db.reserve_ids("records", len(batch))
    recs, sensors, values, counted = [], [], [], []
    # one pass, attributes read straight into each row's tuple (no intermediate tuples per struct)
    for rid, (r, raw, transport, source, timing, e0, e1, note) in zip(ids, batch):
        h = r.health
        recs.append((rid, r.node, r.boot, r.seq, r.t0, r.t1, r.clock, r.fw, h.heap_free, h.uptime, h.reset, h.rssi, h.spool,
                     h.dropped, received, transport, source, raw, timing, e0, e1, note))
        for slot, s in r.sensors.items():
            model = s.model
            sensors.append((rid, slot, s.type, None if model is UNSET else model, s.id, s.frames, s.bad, s.warmup, s.missing,
                            s.state))
            if e0 is not None:
                counted.append((r.node, e0, slot, s.type, s.frames, s.bad, s.warmup, s.missing, 1))
            dot = slot + "."
            values += [(rid, dot + name, st.n, st.mean, st.sd, st.min, st.max) for name, st in s.ch.items()]
    if db.bulk_insert("records", REC_COLS, recs, on_conflict_skip=True) != len(recs):
        raise Stored()
    db.bulk_insert("record_sensors", SENSOR_COLS, sensors)
    db.bulk_insert("channel_values", VALUE_COLS, values)
    counters.add(db, counted)
    return list(ids)
